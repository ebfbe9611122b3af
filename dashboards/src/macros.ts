/**
 * What the Grafana ClickHouse data source does to a panel's SQL before ClickHouse sees it, ported so tests
 * can run every panel and alert query on a real engine without a Grafana server. Three stages, in the
 * plugin's order:
 *
 * 1. `$__conditionalAll(cond, $var)` (frontend, `CHDatasource.applyConditionalAll`): innermost-last
 *    replacement; `cond` becomes `1=1` when the variable's current value is `$__all` or ''. The argument
 *    split counts parentheses, so a comma at the macro's own level (not inside `IN (...)`) leaves the
 *    query untouched, as in the plugin.
 * 2. Template variables (Grafana's `templateSrv.replace` with the plugin's default formatter): `$var`,
 *    `${var}`, `${var:format}`, `[[var]]`; unknown names stay as they are (that is how `$__timeFilter`
 *    survives to stage 3). Built-ins `$__interval`, `$__interval_ms`, `$__from`, `$__to`, `$__range_s`.
 * 3. Backend macros (`pkg/macros/macros.go` on top of grafana-plugin-sdk-go `sqlutil.Interpolate`). Alert
 *    rules get only this stage: Grafana evaluates them server-side, with no template variables.
 *
 * Plugin quirks kept on purpose, because they bite real dashboards:
 * - sqlutil finds a macro's arguments by scanning forward to the first parenthesis. For a macro without
 *   arguments (`$__interval_s`, `$__fromTime`, ...) a `(` met before any `)` is taken as its argument
 *   list, and everything up to the matching `)` is replaced. Write `($__fromTime)` or follow the macro
 *   with `)`/`,…)` — see `arglessMacroPitfalls`.
 * - Arguments are split on every comma, so `$__timeFilter(f(a, b))` gets two arguments and fails.
 * - `$__timeFrom`/`$__timeTo`/`$__timeGroup` are sqlutil's defaults (RFC 3339 strings, SQL Server `datepart`),
 *   not ClickHouse-specific; avoid them.
 * One deliberate difference: an unknown `${var:format}` format throws here (Grafana logs and falls back to
 * glob) so a typo fails a test instead of a dashboard.
 */

/** A variable's current selection: one value, several, or "All" (expanded to every option). */
export type GrafanaVariableValue =
  string | readonly string[] | { readonly all: true; readonly options: readonly string[] };

export interface GrafanaQueryContext {
  /** Panel time range. */
  from: Date;
  to: Date;
  /** The panel's interval in seconds (Grafana derives it from range / max data points and min interval). */
  intervalS: number;
  /** Dashboard variables by name. */
  variables?: Readonly<Record<string, GrafanaVariableValue>>;
}

export type BackendMacroContext = Omit<GrafanaQueryContext, 'variables'>;

/** Frontend then backend expansion: the SQL a dashboard panel sends to ClickHouse. */
export function expandGrafanaSql(sql: string, context: GrafanaQueryContext): string {
  const variables = context.variables ?? {};
  const withConditionals = applyConditionalAll(sql, variables);
  const withVariables = interpolateTemplateVariables(withConditionals, context);
  return expandBackendMacros(withVariables, context);
}

// --- stage 1: $__conditionalAll ------------------------------------------------------------------------

const CONDITIONAL_ALL = '$__conditionalAll(';

/** The plugin's `getMacroArgs`: split at commas on the macro's own parenthesis level. */
function conditionalAllArgs(query: string, argsIndex: number): string[] {
  const args: string[] = [];
  const re = /\(|\)|,/g;
  let depth = 0;
  let lastArgEnd = 1;
  const rest = query.substring(argsIndex);
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    if (m[0] === '(') depth++;
    else if (m[0] === ')') depth--;
    if (m[0] === ',' && depth === 1) {
      args.push(rest.substring(lastArgEnd, re.lastIndex - 1));
      lastArgEnd = re.lastIndex;
    }
    if (depth === 0) {
      args.push(rest.substring(lastArgEnd, re.lastIndex - 1));
      return args;
    }
  }
  return [];
}

/** Grafana's `current.value.toString()` for a selection. */
function currentValueString(value: GrafanaVariableValue): string {
  if (typeof value === 'string') return value;
  if ('all' in value) return '$__all';
  return (value as readonly string[]).join(',');
}

export function applyConditionalAll(
  sql: string,
  variables: Readonly<Record<string, GrafanaVariableValue>>,
): string {
  let query = sql;
  let index = query.lastIndexOf(CONDITIONAL_ALL);
  while (index !== -1) {
    const params = conditionalAllArgs(query, index + CONDITIONAL_ALL.length - 1);
    if (params.length !== 2) return query;
    const [condition, variableParam] = params as [string, string];
    const name = /(?<=\$\{)[\w\d]+(?=\})|(?<=\$)[\w\d]+/.exec(variableParam.trim())?.[0];
    let phrase = condition;
    const selected = name === undefined ? undefined : variables[name];
    if (selected !== undefined) {
      const current = currentValueString(selected);
      if (current === '' || current === '$__all') phrase = '1=1';
    }
    // String.replace with a string pattern, exactly as the plugin does (first occurrence only).
    query = query.replace(`${CONDITIONAL_ALL}${condition},${variableParam})`, phrase);
    index = query.lastIndexOf(CONDITIONAL_ALL);
  }
  return query;
}

// --- stage 2: template variables -----------------------------------------------------------------------

/** Grafana's variable syntax regex (`public/app/features/variables/utils.ts`). */
const VARIABLE_REGEX = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;

type Formatter = (value: string | readonly string[]) => string;

const quoteEach = (quote: string, escaped: string) => (value: string | readonly string[]) => {
  const one = (v: string) => `${quote}${v.split(quote).join(escaped)}${quote}`;
  return typeof value === 'string' ? one(value) : value.map(one).join(',');
};

const FORMATS: Readonly<Record<string, Formatter>> = {
  raw: (v) => (typeof v === 'string' ? v : v.join(',')),
  csv: (v) => (typeof v === 'string' ? v : v.join(',')),
  text: (v) => (typeof v === 'string' ? v : v.join(' + ')),
  pipe: (v) => (typeof v === 'string' ? v : v.join('|')),
  json: (v) => JSON.stringify(v),
  singlequote: quoteEach("'", "\\'"),
  doublequote: quoteEach('"', '\\"'),
  sqlstring: quoteEach("'", "''"),
};

/** The plugin's own `format`: arrays become `'a','b'` (unescaped), single values go in raw. */
const pluginDefaultFormat: Formatter = (v) => (typeof v === 'string' ? v : `'${v.join("','")}'`);

/** Grafana's `kbn.secondsToHms`-style interval text used by `$__interval`. */
export function intervalText(seconds: number): string {
  const units: Array<[number, string]> = [
    [31_536_000, 'y'],
    [604_800, 'w'],
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  for (const [size, unit] of units)
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  return `${Math.round(seconds * 1000)}ms`;
}

export function interpolateTemplateVariables(sql: string, context: GrafanaQueryContext): string {
  const builtIns: Record<string, string> = {
    __interval: intervalText(context.intervalS),
    __interval_ms: String(context.intervalS * 1000),
    __from: String(context.from.getTime()),
    __to: String(context.to.getTime()),
    __range_s: String(Math.round((context.to.getTime() - context.from.getTime()) / 1000)),
  };
  const variables = context.variables ?? {};
  return sql.replace(VARIABLE_REGEX, (match, var1, var2, fmt2, var3, _fieldPath, fmt3) => {
    const name = (var1 ?? var2 ?? var3) as string;
    const format = (fmt2 ?? fmt3) as string | undefined;
    const builtIn = builtIns[name];
    if (builtIn !== undefined) return builtIn;
    const selected = variables[name];
    if (selected === undefined) return match;
    const value: string | readonly string[] =
      typeof selected === 'string'
        ? selected
        : 'all' in selected
          ? selected.options
          : (selected as readonly string[]);
    if (format === undefined) return pluginDefaultFormat(value);
    const formatter = FORMATS[format];
    if (!formatter) throw new Error(`unknown Grafana variable format '${format}' in ${match}`);
    return formatter(value);
  });
}

// --- stage 3: backend macros ---------------------------------------------------------------------------

const toDateTime = (d: Date) => `toDateTime(${Math.floor(d.getTime() / 1000)})`;
const toDateTime64 = (d: Date) => `fromUnixTimestamp64Milli(${d.getTime()})`;
const toDate = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`;
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

type MacroFn = (args: string[], c: BackendMacroContext) => string;

function expectArgs(name: string, args: string[], count: number): void {
  if (args.length !== count) {
    throw new Error(
      `$__${name}: unexpected number of arguments: expected ${count} argument, received ${args.length}`,
    );
  }
}

const intervalSeconds = (c: BackendMacroContext) => Math.trunc(Math.max(c.intervalS, 1));

/** ClickHouse plugin macros first, then sqlutil defaults it does not override. Order is stable here (Go map order is not). */
const BACKEND_MACROS: ReadonlyArray<[string, MacroFn]> = [
  ['fromTime', (_a, c) => toDateTime(c.from)],
  ['toTime', (_a, c) => toDateTime(c.to)],
  ['fromTime_ms', (_a, c) => toDateTime64(c.from)],
  ['toTime_ms', (_a, c) => toDateTime64(c.to)],
  [
    'timeFilter',
    (a, c) => (
      expectArgs('timeFilter', a, 1),
      `${a[0]} >= ${toDateTime(c.from)} AND ${a[0]} <= ${toDateTime(c.to)}`
    ),
  ],
  [
    'timeFilter_ms',
    (a, c) => (
      expectArgs('timeFilter_ms', a, 1),
      `${a[0]} >= ${toDateTime64(c.from)} AND ${a[0]} <= ${toDateTime64(c.to)}`
    ),
  ],
  [
    'dateFilter',
    (a, c) => (expectArgs('dateFilter', a, 1), `${a[0]} >= ${toDate(c.from)} AND ${a[0]} <= ${toDate(c.to)}`),
  ],
  ...(['dateTimeFilter', 'dt'] as const).map((name): [string, MacroFn] => [
    name,
    (a, c) => (
      expectArgs(name, a, 2),
      `(${a[0]} >= ${toDate(c.from)} AND ${a[0]} <= ${toDate(c.to)}) AND (${a[1]} >= ${toDateTime(c.from)} AND ${a[1]} <= ${toDateTime(c.to)})`
    ),
  ]),
  [
    'timeInterval',
    (a, c) => (
      expectArgs('timeInterval', a, 1),
      `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${intervalSeconds(c)} second)`
    ),
  ],
  [
    'timeInterval_ms',
    (a, c) => (
      expectArgs('timeInterval_ms', a, 1),
      `toStartOfInterval(toDateTime64(${a[0]}, 3), INTERVAL ${Math.trunc(Math.max(c.intervalS * 1000, 1))} millisecond)`
    ),
  ],
  ['interval_s', (_a, c) => String(intervalSeconds(c))],
  // sqlutil.DefaultMacros the ClickHouse plugin does not override:
  ['timeFrom', (a, c) => (expectArgs('timeFrom', a, 1), `${a[0]} >= '${rfc3339(c.from)}'`)],
  ['timeTo', (a, c) => (expectArgs('timeTo', a, 1), `${a[0]} <= '${rfc3339(c.to)}'`)],
  ['timeGroup', (a) => sqlutilTimeGroup(a)],
  ['table', () => ''],
  ['column', () => ''],
];

function sqlutilTimeGroup(args: string[]): string {
  if (args.length !== 2)
    throw new Error(
      `$__timeGroup: unexpected number of arguments: expected 1 argument, received ${args.length}`,
    );
  const parts = ['minute', 'hour', 'day', 'month', 'year'];
  const start = parts.indexOf(args[1] ?? '');
  if (start === -1) return '';
  return parts
    .slice(start)
    .map((p) => `datepart(${p}, ${args[0]})`)
    .join(',');
}

interface MacroMatch {
  text: string;
  args: string | undefined;
}

/** sqlutil `getMacroMatches`: scan forward from each `$__name\b` for a balanced `( … )`. */
function macroMatches(input: string, name: string): MacroMatch[] {
  const found: MacroMatch[] = [];
  const rgx = new RegExp(`\\$__${name}\\b`, 'g');
  for (let m = rgx.exec(input); m !== null; m = rgx.exec(input)) {
    const rest = input.slice(m.index);
    let depth = 0;
    let macroEnd = 0;
    let argStart = 0;
    for (let i = 0; i < rest.length; i++) {
      if (depth === 0 && macroEnd > 0) break;
      const ch = rest[i];
      if (ch === '(') {
        depth++;
        if (argStart === 0) argStart = i + 1;
      } else if (ch === ')') {
        if (depth === 0) {
          macroEnd = 0;
          break;
        }
        depth--;
        macroEnd = i + 1;
      }
    }
    if (macroEnd === 0) macroEnd = m[0].length;
    const text = rest.slice(0, macroEnd);
    found.push({ text, args: argStart > 0 ? rest.slice(argStart, macroEnd - 1) : undefined });
  }
  return found;
}

export function expandBackendMacros(sql: string, context: BackendMacroContext): string {
  let query = sql;
  for (const [name, macro] of BACKEND_MACROS) {
    for (const match of macroMatches(query, name)) {
      const args = match.args === undefined ? [] : match.args.split(',').map((a) => a.trim());
      query = query.split(match.text).join(macro(args, context));
    }
  }
  return query;
}

const ARGLESS_MACROS = ['fromTime', 'toTime', 'fromTime_ms', 'toTime_ms', 'interval_s'];

/**
 * Places where an argument-less macro would swallow the text after it (see the module comment): the macro
 * is followed by a `(` before any `)`. Returns a description per occurrence; empty means safe.
 */
export function arglessMacroPitfalls(sql: string): string[] {
  const problems: string[] = [];
  for (const name of ARGLESS_MACROS) {
    for (const match of macroMatches(sql, name)) {
      if (match.args !== undefined) problems.push(`$__${name} swallows "${match.text.replace(/\s+/g, ' ')}"`);
    }
  }
  return problems;
}
