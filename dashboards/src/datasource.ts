/**
 * The ClickHouse data source as panels reference it, and the one query shape they send. The foundation SDK
 * has no ClickHouse module, so the query is a small `cog.Builder<cog.Dataquery>` carrying the plugin's
 * target fields (`editorType`, `rawSql`, `format`).
 */
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

export const CLICKHOUSE_PLUGIN_ID = 'grafana-clickhouse-datasource' as const;
/** uid of the provisioned data source; alert rules point at it directly (they cannot use variables). */
export const CLICKHOUSE_DATASOURCE_UID = 'modelwatch-clickhouse' as const;
/** Name of the dashboards' data-source variable. */
export const DATASOURCE_VARIABLE = 'datasource' as const;

/** What every panel and template variable uses: whichever ClickHouse data source the variable selects. */
export const DATASOURCE: DataSourceRef = { type: CLICKHOUSE_PLUGIN_ID, uid: `\${${DATASOURCE_VARIABLE}}` };

/** The plugin's `format`: how the backend shapes the result frame. */
export const QueryFormat = { TimeSeries: 0, Table: 1, Logs: 2, Traces: 3 } as const;
export type QueryFormatValue = (typeof QueryFormat)[keyof typeof QueryFormat];

export interface ClickHouseQuery extends Dataquery {
  refId: string;
  datasource: DataSourceRef;
  editorType: 'sql';
  rawSql: string;
  format: QueryFormatValue;
  /** Explore reads this for SQL queries; panels go by `format`. */
  queryType?: 'timeseries' | 'table' | 'logs' | 'traces';
}

const QUERY_TYPE_BY_FORMAT = { 0: 'timeseries', 1: 'table', 2: 'logs', 3: 'traces' } as const;

export class ClickHouseQueryBuilder implements Builder<Dataquery> {
  private readonly query: ClickHouseQuery;

  constructor(rawSql: string, format: QueryFormatValue = QueryFormat.TimeSeries) {
    this.query = {
      refId: 'A',
      datasource: DATASOURCE,
      editorType: 'sql',
      rawSql,
      format,
      queryType: QUERY_TYPE_BY_FORMAT[format],
      // Marker required by cog's Dataquery variant; functions vanish in JSON.stringify.
      _implementsDataqueryVariant() {},
    };
  }

  refId(refId: string): this {
    this.query.refId = refId;
    return this;
  }

  build(): ClickHouseQuery {
    return this.query;
  }
}
