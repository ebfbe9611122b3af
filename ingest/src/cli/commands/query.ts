/** `modelwatch query`: run SQL against the configured store; read-only unless --write. */
import { readFile } from 'node:fs/promises';
import { defineCommand } from 'citty';
import { IngestError } from '../../errors.js';
import { formatQueryResult } from '../../query/format-result.js';
import { parseQueryParams } from '../../query/query-params.js';
import { runQuery, type QueryFormat } from '../../query/run-query.js';
import { colorsFor, out } from '../terminal.js';
import { repeatedFlag, storeArgs, withStore } from './_shared.js';

export default defineCommand({
  meta: {
    name: 'query',
    description:
      'Run SQL against the modelwatch store (embedded engine or CLICKHOUSE_URL). Read-only unless --write.',
  },
  args: {
    sql: {
      type: 'positional',
      required: false,
      description: "the SQL, e.g. 'SELECT Provider, count() FROM llm_calls GROUP BY 1'",
    },
    file: {
      type: 'string',
      alias: 'f',
      description: 'read the SQL from a file (- for stdin)',
      valueHint: 'path',
    },
    param: {
      type: 'string',
      description: 'query parameter name=value for {name:Type} placeholders (repeatable)',
      valueHint: 'name=value',
    },
    format: {
      type: 'enum',
      options: ['table', 'json', 'csv'],
      default: 'table',
      description: 'output format',
    },
    write: { type: 'boolean', default: false, description: 'allow statements that change data or schema' },
    ...storeArgs,
  },
  async run({ args, rawArgs }) {
    let sql = args.sql;
    if (args.file !== undefined) {
      if (sql !== undefined)
        throw new IngestError(
          'CONFIG_INVALID',
          'give the SQL either as an argument or with --file, not both',
        );
      sql =
        args.file === '-'
          ? await readStdin()
          : await readFile(args.file, 'utf8').catch((error: unknown) => {
              throw new IngestError(
                'CONFIG_INVALID',
                `--file: cannot read ${args.file}: ${error instanceof Error ? error.message : String(error)}`,
              );
            });
    }
    if (sql === undefined || sql.trim() === '')
      throw new IngestError('CONFIG_INVALID', 'no SQL given (modelwatch query "SELECT ..." or --file)');
    const params = parseQueryParams(repeatedFlag(rawArgs, 'param'));
    const result = await withStore(args, (ch) => runQuery(ch, { sql: sql ?? '', params, write: args.write }));
    out(formatQueryResult(result, args.format as QueryFormat, colorsFor(process.stdout)));
    return 0;
  },
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
