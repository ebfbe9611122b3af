/** `--param name=value` flags → ClickHouse `query_params` ({name:Type} placeholders in the SQL). */
import { IngestError } from '../errors.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseQueryParams(flags: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  const problems: string[] = [];
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq < 0 ? flag : flag.slice(0, eq);
    if (eq < 0 || !NAME.test(name)) {
      problems.push(`--param "${flag}": expected name=value with name made of letters, digits and _`);
      continue;
    }
    params[name] = flag.slice(eq + 1);
  }
  if (problems.length > 0) throw new IngestError('CONFIG_INVALID', problems.join('; '));
  return params;
}
