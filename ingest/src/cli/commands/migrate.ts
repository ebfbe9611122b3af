/** `modelwatch migrate`: apply the numbered ClickHouse migrations (idempotent; refuses edited files). */
import { defineCommand } from 'citty';
import { runMigrations } from '../../migrations/run-migrations.js';
import { colorsFor, err, out } from '../terminal.js';
import { clickHouseConfigFromFlags, storeArgs } from './_shared.js';
import { openClickHouse } from '../../clickhouse/client.js';

export default defineCommand({
  meta: {
    name: 'migrate',
    description: 'Create or update the ClickHouse schema (otel_traces, llm_calls, rollups).',
  },
  args: {
    'dry-run': { type: 'boolean', default: false, description: 'list what would be applied, change nothing' },
    dir: {
      type: 'string',
      description: 'migrations folder (default: the packaged migrations/)',
      valueHint: 'dir',
    },
    ...storeArgs,
  },
  async run({ args }) {
    const config = clickHouseConfigFromFlags(args);
    const handle = await openClickHouse(config);
    const colors = colorsFor(process.stdout);
    try {
      err(colors.dim(`migrating ${handle.describe()}`));
      const report = await runMigrations(handle, {
        schema: config,
        dryRun: args['dry-run'],
        ...(args.dir ? { dir: args.dir } : {}),
      });
      for (const o of report.outcomes) {
        const status =
          o.status === 'applied'
            ? colors.green('applied')
            : o.status === 'pending'
              ? colors.yellow('pending')
              : colors.dim('already applied');
        out(`${o.name}  ${status}${o.status === 'applied' ? colors.dim(` (${o.durationMs} ms)`) : ''}`);
      }
      out(`${report.applied} migration(s) applied`);
    } finally {
      await handle.close();
    }
    return 0;
  },
});
