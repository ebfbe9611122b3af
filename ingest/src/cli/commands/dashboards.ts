/** `modelwatch dashboards`: write the Grafana dashboards, alert rules and provisioning files. */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { defineCommand } from 'citty';
import { generateAll } from '@modelwatch/dashboards';
import { out } from '../terminal.js';

export default defineCommand({
  meta: {
    name: 'dashboards',
    description: 'Generate Grafana dashboards + alert rules (JSON/YAML provisioning) into a folder.',
  },
  args: {
    out: {
      type: 'string',
      alias: 'o',
      default: 'grafana',
      description: 'output folder (default ./grafana)',
      valueHint: 'dir',
    },
  },
  async run({ args }) {
    const outDir = resolve(args.out);
    const files = await generateAll(outDir);
    for (const file of files) {
      // A path the user can open (file.path is relative to the output folder): relative when under cwd.
      const path = join(outDir, file.path);
      const fromCwd = relative(process.cwd(), path);
      out(`wrote ${fromCwd.startsWith('..') || isAbsolute(fromCwd) ? path : fromCwd}`);
    }
    return 0;
  },
});
