/** `modelwatch dashboards`: write the Grafana dashboards, alert rules and provisioning files. */
import { resolve } from 'node:path';
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
    const files = await generateAll(resolve(args.out));
    for (const file of files) out(`wrote ${file.path}`);
    return 0;
  },
});
