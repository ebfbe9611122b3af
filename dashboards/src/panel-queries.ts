/** Every query a dashboard runs — panel targets and template-variable queries — for tests and tools. */
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';

export interface DashboardQuery {
  dashboardUid: string;
  /** Panel title, or `variable <name>` for a template-variable query. */
  source: string;
  refId: string;
  rawSql: string;
  /** Plugin format: 0 time series, 1 table, 2 logs, 3 traces; variables use 1. */
  format: number;
}

function isRow(panel: Panel | RowPanel): panel is RowPanel {
  return panel.type === 'row';
}

export function dashboardPanels(dashboard: Dashboard): Panel[] {
  const out: Panel[] = [];
  for (const p of dashboard.panels ?? []) {
    if (isRow(p)) out.push(...(p.panels ?? []));
    else out.push(p);
  }
  return out;
}

export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const uid = dashboard.uid ?? dashboard.title ?? '';
  const queries: DashboardQuery[] = [];
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type === 'query' && typeof v.query === 'string') {
      queries.push({
        dashboardUid: uid,
        source: `variable ${v.name ?? ''}`,
        refId: v.name ?? '',
        rawSql: v.query,
        format: 1,
      });
    }
  }
  for (const panel of dashboardPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      const t = target as unknown as { refId?: string; rawSql?: unknown; format?: unknown };
      if (typeof t.rawSql !== 'string') continue;
      queries.push({
        dashboardUid: uid,
        source: panel.title ?? `panel ${panel.id}`,
        refId: t.refId ?? 'A',
        rawSql: t.rawSql,
        format: typeof t.format === 'number' ? t.format : 0,
      });
    }
  }
  return queries;
}
