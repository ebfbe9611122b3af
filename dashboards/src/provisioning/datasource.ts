/**
 * Grafana data-source provisioning for the ClickHouse plugin, with the trace view mapped to the Collector
 * exporter's otel_traces schema. The password is `${…}` on purpose: Grafana expands environment variables
 * in provisioning YAML, so the secret stays in the environment (docker-compose sets it).
 */
import { CLICKHOUSE_DATASOURCE_UID, CLICKHOUSE_PLUGIN_ID } from '../datasource.js';
import { DEFAULT_DATABASE, TABLE_OTEL_TRACES } from '../tables.js';

/** Environment variable Grafana reads the read-only user's password from. */
export const GRAFANA_CLICKHOUSE_PASSWORD_ENV = 'MODELWATCH_GRAFANA_CLICKHOUSE_PASSWORD' as const;
/** The read-only ClickHouse user (deploy/clickhouse/users.sql). */
export const GRAFANA_CLICKHOUSE_USER = 'grafana_reader' as const;

export function datasourceProvisioning(): Record<string, unknown> {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'modelwatch ClickHouse',
        uid: CLICKHOUSE_DATASOURCE_UID,
        type: CLICKHOUSE_PLUGIN_ID,
        access: 'proxy',
        isDefault: true,
        editable: false,
        jsonData: {
          host: 'clickhouse',
          port: 9000,
          protocol: 'native',
          secure: false,
          username: GRAFANA_CLICKHOUSE_USER,
          defaultDatabase: DEFAULT_DATABASE,
          traces: {
            defaultDatabase: DEFAULT_DATABASE,
            defaultTable: TABLE_OTEL_TRACES,
            otelEnabled: true,
            otelVersion: 'latest',
            traceTimestampTableSuffix: '_trace_id_ts',
          },
        },
        secureJsonData: { password: `\${${GRAFANA_CLICKHOUSE_PASSWORD_ENV}}` },
      },
    ],
  };
}
