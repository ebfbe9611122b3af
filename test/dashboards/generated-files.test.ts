// The committed dashboards/generated/ matches the source, and what it contains is what Grafana and the
// ClickHouse plugin expect: panels with a data source, SQL targets with a valid format, units and
// descriptions; provisioning YAML that parses and points at files and uids that exist.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { parse } from 'yaml';
import {
  CLICKHOUSE_DATASOURCE_UID,
  CLICKHOUSE_PLUGIN_ID,
  DASHBOARD_UIDS,
  allDashboards,
  dashboardPanels,
  renderAll,
  type AlertRuleFile,
} from '@modelwatch/dashboards';
import { FAILURE_CLASSES } from '@modelwatch/instrumentation';
import * as ingestNames from '../../ingest/src/names.js';
import * as tables from '../../dashboards/src/tables.js';
import {
  CHARTED_FAILURE_CLASSES,
  CLIENT_FAILURE_CLASSES,
  INFRA_FAILURE_CLASSES,
} from '../../dashboards/src/failure-groups.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const generatedDir = join(root, 'dashboards', 'generated');

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = join(dir, entry);
    return statSync(full).isDirectory()
      ? listFiles(full)
      : [relative(generatedDir, full).split('\\').join('/')];
  });
}

describe('dashboards/generated is up to date', () => {
  test('every generated file matches the source (run `npm run dashboards` and commit when this fails)', () => {
    const expected = renderAll();
    for (const file of expected) {
      const onDisk = join(generatedDir, file.path);
      assert.ok(existsSync(onDisk), `${file.path} is missing — run npm run dashboards`);
      assert.equal(
        readFileSync(onDisk, 'utf8'),
        file.content,
        `${file.path} is stale — run npm run dashboards`,
      );
    }
    assert.deepEqual(
      listFiles(generatedDir).sort(),
      expected.map((f) => f.path).sort(),
      'files no generator writes',
    );
  });
});

describe('dashboard JSON', () => {
  const dashboards = Object.entries(allDashboards());

  test('the committed JSON is exactly the SDK-typed Dashboard object', () => {
    for (const [stem, dashboard] of dashboards) {
      const committed = JSON.parse(
        readFileSync(join(generatedDir, 'dashboards', `${stem}.json`), 'utf8'),
      ) as Dashboard;
      assert.deepEqual(committed, JSON.parse(JSON.stringify(dashboard)));
      assert.ok(Object.values(DASHBOARD_UIDS).includes(committed.uid as never), committed.uid);
    }
  });

  test('every panel: title, description, ClickHouse data source, unit, thresholds, SQL targets with a valid format', () => {
    for (const [stem, dashboard] of dashboards) {
      const panels = dashboardPanels(dashboard).filter((p) => p.type !== 'row');
      assert.ok(panels.length >= 3, stem);
      for (const panel of panels) {
        const where = `${stem} / ${panel.title}`;
        assert.ok(panel.title && panel.title.length > 5, where);
        assert.ok(panel.description && panel.description.length > 20, `${where}: description`);
        assert.equal(panel.datasource?.type, CLICKHOUSE_PLUGIN_ID, `${where}: datasource`);
        assert.ok(panel.gridPos && panel.gridPos.w > 0 && panel.gridPos.h > 0, `${where}: gridPos`);
        if (panel.type !== 'traces') {
          assert.ok(panel.fieldConfig?.defaults?.unit, `${where}: unit`);
          assert.ok(
            (panel.fieldConfig?.defaults?.thresholds?.steps?.length ?? 0) >= 1,
            `${where}: thresholds`,
          );
        }
        assert.ok((panel.targets?.length ?? 0) > 0, `${where}: targets`);
        for (const target of panel.targets ?? []) {
          const t = target as unknown as Record<string, unknown>;
          assert.equal(t.editorType, 'sql', where);
          assert.ok([0, 1, 2, 3].includes(t.format as number), `${where}: format ${String(t.format)}`);
          assert.equal(typeof t.rawSql, 'string', where);
          assert.deepEqual(t.datasource, panel.datasource, where);
        }
        if (panel.type === 'timeseries') {
          assert.equal(
            panel.fieldConfig?.defaults?.displayName,
            '${__field.labels.series}',
            `${where}: legend by series`,
          );
        }
      }
    }
  });

  test('variables: data source, then provider → model → version chained, service, environment; multi with All', () => {
    const overview = allDashboards().overview!;
    const list = overview.templating?.list ?? [];
    assert.deepEqual(
      list.map((v) => v.name),
      ['datasource', 'provider', 'model', 'version', 'service', 'environment'],
    );
    for (const v of list.slice(1)) {
      assert.equal(v.multi, true, v.name);
      assert.equal(v.includeAll, true, v.name);
    }
    const version = list.find((v) => v.name === 'version')!;
    assert.match(String(version.query), /ModelFamily IN \(\$\{model:singlequote\}\), \$model/);
    assert.match(String(version.query), /Provider IN \(\$\{provider:singlequote\}\), \$provider/);
  });
});

describe('provisioning', () => {
  const yamlFile = <T>(path: string) => parse(readFileSync(join(generatedDir, path), 'utf8')) as T;

  test('data source: the ClickHouse plugin, uid used by alerts, trace view on otel_traces', () => {
    const ds = yamlFile<{
      datasources: Array<Record<string, unknown> & { jsonData: Record<string, unknown> }>;
    }>('provisioning/datasources/clickhouse.yaml').datasources[0]!;
    assert.equal(ds.type, CLICKHOUSE_PLUGIN_ID);
    assert.equal(ds.uid, CLICKHOUSE_DATASOURCE_UID);
    assert.equal(ds.jsonData.defaultDatabase, ingestNames.DEFAULT_DATABASE);
    assert.equal((ds.jsonData.traces as Record<string, unknown>).defaultTable, ingestNames.TABLE_OTEL_TRACES);
  });

  test('dashboard provider loads the folder the dashboards are mounted in', () => {
    const provider = yamlFile<{ providers: Array<{ type: string; options: { path: string } }> }>(
      'provisioning/dashboards/modelwatch.yaml',
    ).providers[0]!;
    assert.equal(provider.type, 'file');
    assert.match(provider.options.path, /^\/var\/lib\/grafana\/dashboards\//);
  });

  test('alert rules: file format, per-version SQL on the provisioned data source, `$` safe under interpolation', () => {
    const file = yamlFile<AlertRuleFile>('provisioning/alerting/modelwatch-alerts.yaml');
    assert.equal(file.apiVersion, 1);
    const rules = file.groups.flatMap((g) => g.rules);
    assert.equal(rules.length, 4);
    for (const g of file.groups) assert.ok(g.name && g.folder && g.interval);
    for (const rule of rules) {
      assert.ok(rule.uid && rule.title && rule.condition && rule.for, rule.uid);
      const [a, b] = rule.data;
      assert.equal(a?.datasourceUid, CLICKHOUSE_DATASOURCE_UID);
      assert.equal(a?.model.editorType, 'sql');
      assert.equal(a?.model.format, 1);
      assert.match(String(a?.model.rawSql), /\$__timeFilter\(Minute\)|\$__fromTime/);
      // The model is not env-interpolated by Grafana: a `$$` would reach the plugin verbatim.
      assert.doesNotMatch(String(a?.model.rawSql), /\$\$/);
      assert.equal(b?.datasourceUid, '__expr__');
      assert.equal(b?.model.type, 'threshold');
      assert.equal(rule.condition, 'B');
      // Labels ARE env-interpolated by Grafana file provisioning: none may contain `$`.
      for (const [k, v] of Object.entries(rule.labels)) assert.doesNotMatch(`${k}=${v}`, /\$/, rule.uid);
      assert.match(rule.annotations.description!, /provider infrastructure/);
      assert.match(rule.annotations.description!, /client/);
      assert.match(rule.annotations.description!, /quality signal/);
      assert.ok(Object.values(DASHBOARD_UIDS).includes(rule.annotations.__dashboardUid__ as never));
    }
  });
});

describe('names shared with other packages', () => {
  test('tables.ts matches ingest/src/names.ts', () => {
    assert.equal(tables.TABLE_LLM_CALLS, ingestNames.TABLE_LLM_CALLS);
    assert.equal(tables.TABLE_LLM_CALLS_1M, ingestNames.TABLE_LLM_CALLS_1M);
    assert.equal(tables.TABLE_OTEL_TRACES, ingestNames.TABLE_OTEL_TRACES);
    assert.equal(tables.TABLE_OTEL_TRACES_TRACE_ID_TS, ingestNames.TABLE_OTEL_TRACES_TRACE_ID_TS);
    assert.equal(tables.DEFAULT_DATABASE, ingestNames.DEFAULT_DATABASE);
  });

  test('failure groups name real failure classes', () => {
    for (const c of [...INFRA_FAILURE_CLASSES, ...CLIENT_FAILURE_CLASSES, ...CHARTED_FAILURE_CLASSES]) {
      assert.ok((FAILURE_CLASSES as readonly string[]).includes(c), c);
    }
  });
});
