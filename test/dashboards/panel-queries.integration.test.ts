// Every panel and template-variable query of every generated dashboard, expanded as the ClickHouse plugin
// expands it, runs on the real engine against the migrated schema and the incident data set. A query that
// names a missing column or table fails with its dashboard and panel title in the message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  allDashboards,
  arglessMacroPitfalls,
  dashboardQueries,
  expandGrafanaSql,
  type GrafanaVariableValue,
} from '@modelwatch/dashboards';
import { openSeededEngine, queryRows, type Engine } from './fixtures/clickhouse-engine.js';
import type { IncidentDataset } from './fixtures/incident-data.js';

let engine: Engine & { dataset: IncidentDataset };
before(async () => {
  engine = await openSeededEngine();
});
after(async () => {
  await engine?.close();
});

const all = (options: string[]): GrafanaVariableValue => ({ all: true, options });

function selections(
  dataset: IncidentDataset,
): Array<{ name: string; variables: Record<string, GrafanaVariableValue> }> {
  const failedTrace = dataset.traces[0]?.TraceId ?? '';
  const shared = {
    version_a: 'anthropic/claude-opus/4.7',
    version_b: 'anthropic/claude-opus/4.6',
    trace_id: failedTrace,
  };
  return [
    {
      name: 'All everywhere',
      variables: {
        ...shared,
        provider: all(['anthropic', 'openai', 'gcp.gemini']),
        model: all(['claude-opus']),
        version: all(['4.7']),
        service: all(['checkout-assistant', 'support-bot']),
        environment: all(['production', 'staging']),
      },
    },
    {
      name: 'one provider, two versions, one environment',
      variables: {
        ...shared,
        provider: ['anthropic'],
        model: ['claude-opus'],
        version: ['4.7', '4.8'],
        service: all(['checkout-assistant', 'support-bot']),
        environment: ['production'],
      },
    },
  ];
}

describe('every dashboard query runs on the engine', () => {
  test('no argument-less macro swallows the text after it', () => {
    for (const dashboard of Object.values(allDashboards())) {
      for (const q of dashboardQueries(dashboard)) {
        assert.deepEqual(arglessMacroPitfalls(q.rawSql), [], `${q.dashboardUid} / ${q.source}`);
      }
    }
  });

  test('panels and variables execute for each selection, over the incident range and an empty range', async () => {
    const { dataset } = engine;
    const ranges = [
      {
        from: dataset.incidents.versionSpecific.from,
        to: dataset.incidents.versionSpecific.to,
        intervalS: 60,
      },
      { from: new Date(dataset.end.getTime() - 6 * 3600_000), to: dataset.end, intervalS: 300 },
      {
        from: new Date(dataset.end.getTime() + 3600_000),
        to: new Date(dataset.end.getTime() + 7200_000),
        intervalS: 60,
      },
    ];
    let executed = 0;
    let withRows = 0;
    for (const [stem, dashboard] of Object.entries(allDashboards())) {
      for (const q of dashboardQueries(dashboard)) {
        for (const selection of selections(dataset)) {
          for (const range of ranges) {
            const sql = expandGrafanaSql(q.rawSql, { ...range, variables: selection.variables });
            assert.doesNotMatch(
              sql,
              /\$/,
              `${stem} / ${q.source}: unexpanded macro or variable left in\n${sql}`,
            );
            let rows: unknown[];
            try {
              rows = await queryRows(engine.handle, sql);
            } catch (error) {
              assert.fail(
                `${stem} / "${q.source}" (${selection.name}) failed on ClickHouse: ${(error as Error).message}\n${sql}`,
              );
            }
            executed++;
            if (rows.length > 0) withRows++;
            if (range === ranges[0] && selection === selections(dataset)[0]) {
              assert.ok(rows.length > 0, `${stem} / "${q.source}" returns no rows over the incident range`);
            }
          }
        }
      }
    }
    assert.ok(executed > 60, `only ${executed} queries executed`);
    assert.ok(withRows > executed / 3);
  });

  test('a panel query naming a missing column is rejected by the engine', async () => {
    const [dashboard] = Object.values(allDashboards());
    const q = dashboardQueries(dashboard!).find((x) => x.source.startsWith('Calls per second'))!;
    const broken = q.rawSql.replace('sum(Calls)', 'sum(NoSuchColumn)');
    const variables = selections(engine.dataset)[0]!.variables;
    const sql = expandGrafanaSql(broken, {
      from: engine.dataset.start,
      to: engine.dataset.end,
      intervalS: 60,
      variables,
    });
    await assert.rejects(queryRows(engine.handle, sql), /NoSuchColumn|Unknown expression|UNKNOWN_IDENTIFIER/);
  });

  test('time series panels return (time, series, value) with provider/model version legends', async () => {
    const { dataset } = engine;
    const overview = allDashboards().overview!;
    const q = dashboardQueries(overview).find((x) => x.source === 'Failure rate')!;
    const sql = expandGrafanaSql(q.rawSql, {
      from: dataset.incidents.versionSpecific.from,
      to: dataset.incidents.versionSpecific.to,
      intervalS: 300,
      variables: {
        provider: ['anthropic'],
        model: ['claude-opus'],
        version: all([]),
        service: all([]),
        environment: all([]),
      },
    });
    const rows = await queryRows<{ time: string; series: string; value: number }>(engine.handle, sql);
    assert.deepEqual([...new Set(rows.map((r) => r.series))].sort(), [
      'anthropic/claude-opus 4.6',
      'anthropic/claude-opus 4.7',
      'anthropic/claude-opus 4.8',
    ]);
    const mean = (label: string) => {
      const xs = rows.filter((r) => r.series === label).map((r) => r.value);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    assert.ok(
      mean('anthropic/claude-opus 4.7') > 0.15,
      `4.7 failure rate ${mean('anthropic/claude-opus 4.7')}`,
    );
    assert.ok(
      mean('anthropic/claude-opus 4.6') < 0.03,
      `4.6 failure rate ${mean('anthropic/claude-opus 4.6')}`,
    );
  });

  test('the trace view query returns the failed call’s trace from otel_traces', async () => {
    const traces = allDashboards().traces!;
    const q = dashboardQueries(traces).find((x) => x.format === 3)!;
    const traceId = engine.dataset.traces[0]!.TraceId;
    const sql = expandGrafanaSql(q.rawSql, {
      from: engine.dataset.start,
      to: engine.dataset.end,
      intervalS: 60,
      variables: { trace_id: traceId },
    });
    const rows = await queryRows<{
      traceID: string;
      parentSpanID: string;
      operationName: string;
      statusCode: number;
    }>(engine.handle, sql);
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => r.traceID === traceId));
    assert.equal(rows.filter((r) => r.parentSpanID === '').length, 1);
    assert.ok(rows.every((r) => r.statusCode === 2));
  });
});
