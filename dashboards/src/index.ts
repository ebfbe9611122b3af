export { generateAll, renderAll, allDashboards, type GeneratedFile } from './generate-all.js';
export {
  expandGrafanaSql,
  expandBackendMacros,
  applyConditionalAll,
  interpolateTemplateVariables,
  arglessMacroPitfalls,
} from './macros.js';
export type { GrafanaQueryContext, BackendMacroContext, GrafanaVariableValue } from './macros.js';
export { dashboardQueries, dashboardPanels, type DashboardQuery } from './panel-queries.js';
export { alertRuleFile, alertRuleSpecs, type AlertRuleSpec } from './alerts/alert-rules.js';
export type { AlertRuleFile, AlertRule } from './alerts/alert-rule-file.js';
export { ALERT_THRESHOLDS, VERDICT_RULES, PANEL_THRESHOLDS } from './thresholds.js';
export { DEGRADATION_TABLE_SQL, SERVED_MODEL_SQL } from './dashboards/overview.js';
export { modelWithoutPin } from './sql-fragments.js';
export { VERDICT_SQL } from './dashboards/failures.js';
export { DASHBOARD_UIDS } from './dashboards/common.js';
export { CLICKHOUSE_DATASOURCE_UID, CLICKHOUSE_PLUGIN_ID } from './datasource.js';
export { GRAFANA_CLICKHOUSE_PASSWORD_ENV, GRAFANA_CLICKHOUSE_USER } from './provisioning/datasource.js';
export { GRAFANA_DASHBOARDS_PATH, GRAFANA_PROVISIONING_PATH } from './provisioning/dashboard-provider.js';
