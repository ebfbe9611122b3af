/**
 * SQL pieces every dashboard query shares: the template-variable filter and the series label. Both
 * `llm_calls` and `llm_calls_1m` carry the filtered columns under the same names.
 */
export const VARIABLE_NAMES = {
  provider: 'provider',
  model: 'model',
  version: 'version',
  service: 'service',
  environment: 'environment',
} as const;

const FILTERED_COLUMNS: ReadonlyArray<[column: string, variable: string]> = [
  ['Provider', VARIABLE_NAMES.provider],
  ['ModelFamily', VARIABLE_NAMES.model],
  ['ModelVersion', VARIABLE_NAMES.version],
  ['ServiceName', VARIABLE_NAMES.service],
  ['Environment', VARIABLE_NAMES.environment],
];

/** `$__conditionalAll` per variable: All drops the condition instead of listing every value. */
export function variableFilters(upTo: keyof typeof VARIABLE_NAMES = 'environment'): string {
  const last = FILTERED_COLUMNS.findIndex(([, v]) => v === VARIABLE_NAMES[upTo]);
  return FILTERED_COLUMNS.slice(0, last + 1)
    .map(
      ([column, variable]) => `$__conditionalAll(${column} IN (\${${variable}:singlequote}), $${variable})`,
    )
    .join('\n  AND ');
}

/** All five filters (the usual WHERE tail). */
export const FILTERS = variableFilters();

/** Legend text `provider/model version` (no trailing space when the id had no version). */
export const SERIES_LABEL = `concat(Provider, '/', ModelFamily, if(ModelVersion = '', '', concat(' ', ModelVersion)))`;

/**
 * A model id as a family of pins compares: lower case, without a `models/` prefix, and without a trailing
 * pin or alias marker (`-2024-08-06`, `-20250929`, `-0613`, `-001`/`@001`, Bedrock `-v1:0`, `-latest`). An
 * alias and the dated snapshot a provider serves for it compare equal; `gpt-4o` and `gpt-4o-mini` do not.
 * (RE2 syntax; the SQL literal doubles each backslash; `\z` ends the text where `$` would be taken for a
 * Grafana variable.)
 */
export const modelWithoutPin = (column: string): string =>
  `replaceRegexpAll(lower(${column}), '^models/|(?:[-@](?:\\\\d{4}-\\\\d{2}-\\\\d{2}|\\\\d{8}|\\\\d{3,4})|-v\\\\d+(?::\\\\d+)?|-latest)\\\\z', '')`;

/** Stable key of one version, used by the comparison dashboard's variables: `provider/model/version`. */
export const VERSION_KEY = `concat(Provider, '/', ModelFamily, '/', ModelVersion)`;

/**
 * Per-second rate of a per-bucket sum. The parentheses matter: the plugin's backend takes a `(` that
 * follows `$__interval_s` before any `)` as the macro's argument list and swallows it (see macros.ts).
 */
export const perSecond = (expression: string): string => `${expression} / ($__interval_s)`;

/** Rows of the range shown (`cur`) vs the baseline hours before it, on the rollup. */
export const baselineWindow = (baselineHours: number): string =>
  `Minute >= subtractHours($__fromTime, ${baselineHours}) AND (Minute <= $__toTime)`;
export const IN_RANGE = `Minute >= ($__fromTime)`;
