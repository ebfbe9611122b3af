// The incident questions answered with numbers on the real engine: the degradation table puts the degraded
// versions on top, the verdict panel tells version-specific from provider-wide and infrastructure from
// quality, and each alert rule (its SQL evaluated with Grafana's backend macros, its threshold and `for`
// applied here) fires for exactly the affected versions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DEGRADATION_TABLE_SQL,
  SERVED_MODEL_SQL,
  modelWithoutPin,
  VERDICT_SQL,
  alertRuleSpecs,
  expandBackendMacros,
  expandGrafanaSql,
  type AlertRuleSpec,
  type GrafanaVariableValue,
} from '@modelwatch/dashboards';
import { openSeededEngine, queryRows, type Engine } from './fixtures/clickhouse-engine.js';
import { SERIES, seriesLabel, type IncidentDataset } from './fixtures/incident-data.js';

let engine: Engine & { dataset: IncidentDataset };
before(async () => {
  engine = await openSeededEngine();
});
after(async () => {
  await engine?.close();
});

const ALL: GrafanaVariableValue = { all: true, options: [] };
const allVariables = { provider: ALL, model: ALL, version: ALL, service: ALL, environment: ALL };

async function panelRows<T>(sql: string, window: { from: Date; to: Date }): Promise<T[]> {
  return queryRows<T>(
    engine.handle,
    expandGrafanaSql(sql, { from: window.from, to: window.to, intervalS: 60, variables: allVariables }),
  );
}

interface DegradationRow {
  provider: string;
  model: string;
  version: string;
  failure_rate: number;
  baseline_failure_rate: number;
  p95_vs_baseline: number;
  degradation_score: number;
}

interface VerdictRow {
  provider: string;
  scope: string;
  kind: string;
  versions_up: number;
  versions_judged: number;
  rising_versions: string;
  verdict: string;
}

const label = (r: { provider: string; model: string; version: string }) =>
  seriesLabel({ provider: r.provider, family: r.model, version: r.version });

describe('degradation table', () => {
  test('version-specific incident: claude-opus 4.7 and 4.8 on top, everything else flat', async () => {
    const w = engine.dataset.incidents.versionSpecific;
    const rows = await panelRows<DegradationRow>(DEGRADATION_TABLE_SQL, w);
    assert.equal(rows.length, SERIES.length);
    assert.deepEqual(rows.slice(0, 2).map(label).sort(), [...w.affected].sort());
    for (const r of rows.slice(0, 2)) {
      assert.ok(
        r.failure_rate > 0.15 && r.baseline_failure_rate < 0.02,
        `${label(r)} ${r.failure_rate} vs ${r.baseline_failure_rate}`,
      );
      assert.ok(r.p95_vs_baseline > 2.2, `${label(r)} p95 ratio ${r.p95_vs_baseline}`);
    }
    for (const r of rows.slice(2)) {
      assert.ok(r.failure_rate < 0.03, `${label(r)} failure rate ${r.failure_rate}`);
      assert.ok(r.p95_vs_baseline < 1.3, `${label(r)} p95 ratio ${r.p95_vs_baseline}`);
    }
  });

  test('provider-wide outage: every openai version ranks above every other provider', async () => {
    const w = engine.dataset.incidents.providerWide;
    const rows = await panelRows<DegradationRow>(DEGRADATION_TABLE_SQL, w);
    assert.deepEqual(rows.slice(0, 3).map(label).sort(), [...w.affected].sort());
  });
});

describe('served model table', () => {
  interface ServedRow {
    provider: string;
    requested: string;
    served: string;
    calls: number;
    share: number;
  }

  test('D: lists gpt-4.1 answered by gpt-4.1-mini, not an alias answered by its dated pin', async () => {
    const whole = { from: engine.dataset.start, to: engine.dataset.end };
    const rows = await panelRows<ServedRow>(SERVED_MODEL_SQL, whole);
    assert.deepEqual(
      rows.map((r) => [r.provider, r.requested, r.served]),
      [['openai', 'gpt-4.1', 'gpt-4.1-mini-2025-04-14']],
    );
    const [row] = rows;
    const rerouted = engine.dataset.llmCalls.filter((c) => c.ResponseModel === 'gpt-4.1-mini-2025-04-14');
    const answered = engine.dataset.llmCalls.filter(
      (c) => c.RequestModel === 'gpt-4.1' && c.ResponseModel !== '',
    );
    assert.equal(Number(row!.calls), rerouted.length);
    assert.ok(Math.abs(row!.share - rerouted.length / answered.length) < 1e-9, `share ${row!.share}`);
    assert.ok(row!.share > 0.08 && row!.share < 0.12, `share ${row!.share}`);
  });

  test('a dated or numbered pin of the requested id is the same model; a sibling model is not', async () => {
    const pairs: Array<[requested: string, served: string, differs: boolean]> = [
      ['gpt-4o', 'gpt-4o-2024-08-06', false],
      ['gpt-4o', 'gpt-4o-mini-2024-07-18', true],
      ['claude-3-5-sonnet-latest', 'claude-3-5-sonnet-20241022', false],
      ['claude-opus-4-7', 'claude-opus-4-8', true],
      ['models/gemini-2.5-flash', 'gemini-2.5-flash', false],
      ['gemini-1.5-pro', 'gemini-1.5-pro-002', false],
      ['gemini-2.5-flash', 'gemini-2.5-flash-lite', true],
      ['gpt-3.5-turbo', 'gpt-3.5-turbo-0125', false],
      ['mistral-large-latest', 'mistral-large-2411', false],
      ['GPT-4O', 'gpt-4o', false],
      ['my-azure-deployment', 'gpt-4o-2024-08-06', true],
    ];
    const rows = await queryRows<{ differs: number }>(
      engine.handle,
      'SELECT i, differs FROM (' +
        pairs
          .map(
            ([requested, served], i) =>
              `SELECT ${i} AS i, ${modelWithoutPin(`'${served}'`)} != ${modelWithoutPin(`'${requested}'`)} AS differs`,
          )
          .join(' UNION ALL ') +
        ') ORDER BY i',
    );
    assert.deepEqual(
      rows.map((r, i) => [...pairs[i]!.slice(0, 2), Boolean(Number(r.differs))]),
      pairs,
    );
  });

  test('follows the dashboard filters: nothing for anthropic alone', async () => {
    const sql = expandGrafanaSql(SERVED_MODEL_SQL, {
      from: engine.dataset.start,
      to: engine.dataset.end,
      intervalS: 60,
      variables: { ...allVariables, provider: ['anthropic'] },
    });
    assert.deepEqual(await queryRows<ServedRow>(engine.handle, sql), []);
  });
});

describe('verdict panel', () => {
  const verdicts = async (w: { from: Date; to: Date }) => {
    const rows = await panelRows<VerdictRow>(VERDICT_SQL, w);
    return Object.fromEntries(rows.map((r) => [r.provider, r]));
  };

  test('A: anthropic is version-specific and infrastructure; others show no rise', async () => {
    const v = await verdicts(engine.dataset.incidents.versionSpecific);
    assert.equal(v.anthropic?.scope, 'version-specific');
    assert.match(v.anthropic!.kind, /^provider infrastructure/);
    assert.equal(v.anthropic!.rising_versions, 'anthropic/claude-opus 4.7, anthropic/claude-opus 4.8');
    assert.equal(v.anthropic!.versions_judged, 4);
    assert.match(
      v.anthropic!.verdict,
      /version-specific rise in anthropic\/claude-opus 4\.7, anthropic\/claude-opus 4\.8 while 2 sibling/,
    );
    assert.equal(v.openai?.scope, 'no rise');
    assert.equal(v['gcp.gemini']?.scope, 'no rise');
  });

  test('B: openai is provider-wide and infrastructure; anthropic shows no rise', async () => {
    const v = await verdicts(engine.dataset.incidents.providerWide);
    assert.equal(v.openai?.scope, 'provider-wide');
    assert.match(v.openai!.kind, /^provider infrastructure/);
    assert.equal(v.openai!.versions_up, 3);
    assert.equal(v.anthropic?.scope, 'no rise');
  });

  test('C: gemini-flash 2.5 is a version-specific quality signal, not an outage', async () => {
    const v = await verdicts(engine.dataset.incidents.quality);
    assert.equal(v['gcp.gemini']?.scope, 'version-specific');
    assert.match(v['gcp.gemini']!.kind, /^quality signal/);
    assert.equal(v['gcp.gemini']!.rising_versions, 'gcp.gemini/gemini-flash 2.5');
    assert.equal(v.openai?.scope, 'no rise');
    assert.equal(v.anthropic?.scope, 'no rise');
  });

  test('quiet period: no provider shows a rise', async () => {
    const v = await verdicts(engine.dataset.quiet);
    for (const row of Object.values(v)) assert.equal(row.scope, 'no rise', row.verdict);
  });
});

describe('alert rules', () => {
  const MINUTE_MS = 60_000;

  /** One evaluation: Grafana runs A over [at - window, at] (backend macros only), then `A > threshold`. */
  async function breaching(spec: AlertRuleSpec, at: Date): Promise<Map<string, Record<string, unknown>>> {
    const sql = expandBackendMacros(spec.sql, {
      from: new Date(at.getTime() - spec.windowMinutes * MINUTE_MS),
      to: at,
      intervalS: 1,
    });
    const rows = await queryRows<Record<string, unknown>>(engine.handle, sql);
    const out = new Map<string, Record<string, unknown>>();
    for (const r of rows) {
      const numeric = Object.entries(r).filter(([, v]) => typeof v === 'number');
      assert.equal(
        numeric.length,
        1,
        `${spec.uid}: exactly one numeric column per row (the rest become labels)`,
      );
      if ((r[spec.valueColumn] as number) > spec.threshold) out.set(label(r as never), r);
    }
    return out;
  }

  /** Firing at `at`: breaching at every 1-minute evaluation during the rule's `for` period. */
  async function firing(spec: AlertRuleSpec, at: Date): Promise<Map<string, Record<string, unknown>>> {
    let result: Map<string, Record<string, unknown>> | undefined;
    for (let t = at.getTime() - spec.forMinutes * MINUTE_MS; t <= at.getTime(); t += MINUTE_MS) {
      const now = await breaching(spec, new Date(t));
      result =
        result === undefined
          ? now
          : new Map([...result].filter(([k]) => now.has(k)).map(([k]) => [k, now.get(k)!]));
    }
    return result ?? new Map();
  }

  const byUid = (uid: string) => alertRuleSpecs().find((s) => s.uid === uid)!;
  const sorted = (m: Map<string, unknown>) => [...m.keys()].sort();

  test('rule SQL needs no dashboard variables (alerts run in Grafana’s backend)', () => {
    for (const spec of alertRuleSpecs()) {
      assert.doesNotMatch(spec.sql, /\$\{|\$__conditionalAll|\$(?!__)/, spec.uid);
    }
  });

  test('A: failure-rate, infrastructure and p95 rules fire for claude-opus 4.7 and 4.8 only, origin provider', async () => {
    const w = engine.dataset.incidents.versionSpecific;
    for (const uid of [
      'modelwatch-failure-rate',
      'modelwatch-infra-failure-rate',
      'modelwatch-p95-latency-vs-baseline',
    ]) {
      const fired = await firing(byUid(uid), w.to);
      assert.deepEqual(sorted(fired), [...w.affected].sort(), uid);
      for (const row of fired.values()) assert.equal(row.origin, 'provider', uid);
    }
    assert.deepEqual(sorted(await firing(byUid('modelwatch-quality-signal-rate'), w.to)), []);
  });

  test('B: the outage fires for every openai version and nothing else; origin provider or network', async () => {
    const w = engine.dataset.incidents.providerWide;
    for (const uid of [
      'modelwatch-failure-rate',
      'modelwatch-infra-failure-rate',
      'modelwatch-p95-latency-vs-baseline',
    ]) {
      const fired = await firing(byUid(uid), w.to);
      assert.deepEqual(sorted(fired), [...w.affected].sort(), uid);
      for (const row of fired.values()) assert.match(String(row.origin), /^(provider|network)$/, uid);
    }
  });

  test('C: only the quality rule fires, for gemini-flash 2.5', async () => {
    const w = engine.dataset.incidents.quality;
    assert.deepEqual(sorted(await firing(byUid('modelwatch-quality-signal-rate'), w.to)), [...w.affected]);
    for (const uid of [
      'modelwatch-failure-rate',
      'modelwatch-infra-failure-rate',
      'modelwatch-p95-latency-vs-baseline',
    ]) {
      assert.deepEqual(sorted(await firing(byUid(uid), w.to)), [], uid);
    }
  });

  test('quiet period and incident start: nothing fires (the `for` period has not elapsed)', async () => {
    for (const spec of alertRuleSpecs()) {
      assert.deepEqual(sorted(await firing(spec, engine.dataset.quiet.to)), [], `${spec.uid} at the end`);
      const start = new Date(engine.dataset.incidents.versionSpecific.from.getTime() + 2 * MINUTE_MS);
      assert.deepEqual(sorted(await firing(spec, start)), [], `${spec.uid} 2 minutes into incident A`);
    }
  });
});
