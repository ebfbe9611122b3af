/** `npm run dashboards`: regenerate dashboards/generated/ (commit the result). */
import { fileURLToPath } from 'node:url';
import { generateAll } from '../generate-all.js';

const outDir = process.argv[2] ?? fileURLToPath(new URL('../../generated/', import.meta.url));
const files = await generateAll(outDir);
for (const file of files) console.log(`wrote ${file.path}`);
