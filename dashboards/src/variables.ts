/**
 * Dashboard variables: the ClickHouse data source, then provider -> model family -> version (chained, so
 * versions follow the chosen model), service and environment. All multi-value with All.
 */
import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import {
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
  type VariableModel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { CLICKHOUSE_PLUGIN_ID, DATASOURCE, DATASOURCE_VARIABLE } from './datasource.js';
import { VARIABLE_NAMES, variableFilters } from './sql-fragments.js';
import { TABLE_LLM_CALLS_1M } from './tables.js';

export function datasourceVariable(): Builder<VariableModel> {
  return new DatasourceVariableBuilder(DATASOURCE_VARIABLE).label('Data source').type(CLICKHOUSE_PLUGIN_ID);
}

function distinctValues(column: string, filtersUpTo: keyof typeof VARIABLE_NAMES | undefined): string {
  const filters = filtersUpTo === undefined ? '' : `\n  AND ${variableFilters(filtersUpTo)}`;
  return `SELECT DISTINCT ${column}\nFROM ${TABLE_LLM_CALLS_1M}\nWHERE $__timeFilter(Minute)${filters}\nORDER BY ${column}`;
}

function multiValue(name: string, label: string, sql: string): Builder<VariableModel> {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(sql)
    .definition(sql)
    .multi(true)
    .includeAll(true)
    .current({ text: 'All', value: '$__all' })
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

/** The five filter variables in chain order. */
export function filterVariables(): Builder<VariableModel>[] {
  return [
    multiValue(VARIABLE_NAMES.provider, 'Provider', distinctValues('Provider', undefined)),
    multiValue(VARIABLE_NAMES.model, 'Model family', distinctValues('ModelFamily', 'provider')),
    multiValue(VARIABLE_NAMES.version, 'Version', distinctValues('ModelVersion', 'model')),
    multiValue(VARIABLE_NAMES.service, 'Service', distinctValues('ServiceName', 'version')),
    multiValue(VARIABLE_NAMES.environment, 'Environment', distinctValues('Environment', 'service')),
  ];
}
