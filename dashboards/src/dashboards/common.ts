/** What all four dashboards share: variables, time defaults, tags, links between them. */
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { datasourceVariable, filterVariables } from '../variables.js';

export const DASHBOARD_TAG = 'modelwatch' as const;

export const DASHBOARD_UIDS = {
  overview: 'modelwatch-overview',
  failures: 'modelwatch-failures',
  versionComparison: 'modelwatch-version-comparison',
  traces: 'modelwatch-traces',
} as const;

export function baseDashboard(
  uid: string,
  title: string,
  description: string,
  withFilters = true,
): DashboardBuilder {
  const dashboard = new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([DASHBOARD_TAG, 'llm'])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .readonly()
    .withVariable(datasourceVariable())
    .link(
      new DashboardLinkBuilder('modelwatch dashboards')
        .type(DashboardLinkType.Dashboards)
        .tags([DASHBOARD_TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
  if (withFilters) for (const variable of filterVariables()) dashboard.withVariable(variable);
  return dashboard;
}
