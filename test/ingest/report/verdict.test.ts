// The pure verdict logic: thresholds, scope (version-specific vs provider-wide), signal kinds, since-when.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_RULES,
  rateDegraded,
  latencyDegraded,
} from '../../../ingest/src/report/degradation-rules.js';
import type { VersionBucket, VersionStats } from '../../../ingest/src/report/types.js';
import { assess, versionsLabel } from '../../../ingest/src/report/verdict.js';

const T0 = Date.UTC(2026, 4, 1, 14, 0, 0);
const window = { fromMs: T0, toMs: T0 + 20 * 60_000 };
const baseline = { fromMs: T0 - 3_600_000, toMs: T0 };
const utc = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

function stats(
  provider: string,
  family: string,
  version: string,
  f: Partial<VersionStats> = {},
): VersionStats {
  const calls = f.calls ?? 200;
  const failures = f.failures ?? (f.infraFailures ?? 0) + (f.clientFailures ?? 0);
  return {
    provider,
    family,
    version,
    calls,
    failures,
    infraFailures: 0,
    providerFailures: f.infraFailures ?? 0,
    networkFailures: 0,
    clientFailures: 0,
    failuresByClass: {},
    successes: calls - failures,
    lengthStops: 0,
    contentFilterStops: 0,
    emptyOutputs: 0,
    p50Ms: 400,
    p95Ms: 900,
    ttftP95Ms: null,
    outputTokens: 20_000,
    durationMsSum: calls * 500,
    ...f,
  };
}

const healthy = [
  stats('anthropic', 'claude-opus', '4.7'),
  stats('anthropic', 'claude-opus', '4.8'),
  stats('anthropic', 'claude-sonnet', '4.5'),
  stats('openai', 'gpt-4o', '4o'),
];

describe('degradation rules', () => {
  it('needs max(2x baseline, baseline + 5 points)', () => {
    assert.equal(rateDegraded(0.049, 0, DEFAULT_RULES), false);
    assert.equal(rateDegraded(0.05, 0, DEFAULT_RULES), true);
    assert.equal(rateDegraded(0.12, 0.1, DEFAULT_RULES), false); // +2 points: noise
    assert.equal(rateDegraded(0.19, 0.1, DEFAULT_RULES), false); // below 2x
    assert.equal(rateDegraded(0.2, 0.1, DEFAULT_RULES), true);
    assert.equal(rateDegraded(0, undefined, DEFAULT_RULES), false);
  });
  it('needs the median up too before calling a version slower', () => {
    const base = [stats('openai', 'gpt-4o', '4o')];
    const tailOnly = assess({
      window,
      baseline,
      current: [stats('openai', 'gpt-4o', '4o', { p95Ms: 3000 })],
      baselineStats: base,
    });
    assert.deepEqual(tailOnly.versions[0]?.signals, []);
    const slower = assess({
      window,
      baseline,
      current: [stats('openai', 'gpt-4o', '4o', { p50Ms: 500, p95Ms: 3000 })],
      baselineStats: base,
    });
    assert.deepEqual(slower.versions[0]?.signals, ['latency']);
  });

  it('flags latency at 1.5x baseline and at least 100 ms more', () => {
    assert.equal(latencyDegraded(150, 100, DEFAULT_RULES), false); // +50 ms only
    assert.equal(latencyDegraded(1500, 1000, DEFAULT_RULES), true);
    assert.equal(latencyDegraded(1400, 1000, DEFAULT_RULES), false);
    assert.equal(latencyDegraded(1500, undefined, DEFAULT_RULES), false); // no baseline: not judged
  });
});

describe('assess', () => {
  it('is quiet when nothing changed', () => {
    const a = assess({ window, baseline, current: healthy, baselineStats: healthy });
    assert.equal(a.degraded, false);
    assert.deepEqual(a.providerVerdicts, []);
    assert.deepEqual(a.clientVerdicts, []);
  });

  it('names two degraded versions as version-specific infrastructure, with the first crossing minute', () => {
    const current = [
      stats('anthropic', 'claude-opus', '4.7', {
        infraFailures: 60,
        failuresByClass: { overloaded: 45, server_error: 15 },
        p50Ms: 1200,
        p95Ms: 3000,
      }),
      stats('anthropic', 'claude-opus', '4.8', {
        infraFailures: 50,
        failuresByClass: { overloaded: 40, server_error: 10 },
      }),
      ...healthy.slice(2),
    ];
    const bucket = (version: string, minute: number, infra: number): VersionBucket => ({
      provider: 'anthropic',
      family: 'claude-opus',
      version,
      startMs: T0 + minute * 60_000,
      calls: 10,
      infraFailures: infra,
      clientFailures: 0,
      successes: 10 - infra,
      qualityIssues: 0,
      p95Ms: 900,
    });
    const buckets = [
      bucket('4.7', 0, 0),
      bucket('4.7', 1, 0),
      bucket('4.7', 2, 4),
      bucket('4.8', 1, 0),
      bucket('4.8', 3, 5),
    ];
    const a = assess({ window, baseline, current, baselineStats: healthy, buckets, formatTime: utc });
    assert.equal(a.degraded, true);
    assert.equal(a.providerVerdicts.length, 1);
    const v = a.providerVerdicts[0];
    assert.equal(v?.scope, 'versions');
    assert.deepEqual(v?.signals, ['infrastructure', 'latency']);
    assert.equal(v?.sinceMs, T0 + 2 * 60_000);
    assert.equal(
      v?.text,
      'anthropic claude-opus 4.7 and 4.8: provider infrastructure (overloaded 21%, server_error 6.3%) and slower (p95 3.0 s vs 900 ms baseline) since 14:02, other anthropic versions normal — disable these versions, not the provider',
    );
  });

  it('says provider-wide when every version of a provider is degraded', () => {
    const current = [
      ...healthy.slice(0, 3),
      stats('openai', 'gpt-4o', '4o', { infraFailures: 80, failuresByClass: { server_error: 80 } }),
      stats('openai', 'gpt-4o-mini', '4o', { infraFailures: 70, failuresByClass: { server_error: 70 } }),
    ];
    const a = assess({ window, baseline, current, baselineStats: healthy });
    assert.equal(a.providerVerdicts.length, 1);
    assert.equal(a.providerVerdicts[0]?.scope, 'provider-wide');
    assert.match(
      a.providerVerdicts[0]?.text ?? '',
      /^openai \(all 2 versions: gpt-4o 4o, gpt-4o-mini 4o\): provider infrastructure \(server_error 38%\).*fail over to another provider$/,
    );
  });

  it('attributes client-origin failures to the calling service and does not blame the provider', () => {
    const current = [
      ...healthy.slice(0, 3),
      stats('openai', 'gpt-4o', '4o', { clientFailures: 40, failuresByClass: { bad_request: 40 } }),
    ];
    const a = assess({
      window,
      baseline,
      current,
      baselineStats: healthy,
      clientSources: [
        {
          provider: 'openai',
          family: 'gpt-4o',
          version: '4o',
          service: 'support-bot',
          calls: 100,
          clientFailures: 2,
          failuresByClass: { bad_request: 2 },
        },
        {
          provider: 'openai',
          family: 'gpt-4o',
          version: '4o',
          service: 'checkout',
          calls: 100,
          clientFailures: 38,
          failuresByClass: { bad_request: 38 },
        },
      ],
    });
    assert.deepEqual(a.providerVerdicts, []);
    assert.equal(a.degraded, true);
    assert.deepEqual(a.clientVerdicts[0]?.services, ['checkout', 'support-bot']);
    assert.match(
      a.clientVerdicts[0]?.text ?? '',
      /^checkout, support-bot → openai gpt-4o 4o: client errors \(bad_request 20% of calls\) — .*openai itself is healthy$/,
    );
  });

  it('calls a rate-limit storm throttling, and length/filter stops a quality signal', () => {
    const current = [
      stats('anthropic', 'claude-haiku', '4.5', {
        infraFailures: 60,
        failuresByClass: { rate_limited: 55, timeout: 5 },
      }),
      stats('anthropic', 'claude-sonnet', '4.5'),
      stats('openai', 'gpt-4o', '4o', { lengthStops: 30, contentFilterStops: 10 }),
    ];
    const a = assess({
      window,
      baseline,
      current,
      baselineStats: [stats('anthropic', 'claude-haiku', '4.5'), ...healthy],
    });
    const anthropic = a.providerVerdicts.find((v) => v.provider === 'anthropic');
    assert.match(anthropic?.text ?? '', /rate_limited 28%.*throttling our volume/);
    const openai = a.providerVerdicts.find((v) => v.provider === 'openai');
    assert.deepEqual(openai?.signals, ['quality']);
    assert.match(openai?.text ?? '', /quality signal/);
  });

  it('blames nobody for latency when every provider got slower at once, but keeps failure signals', () => {
    const slower = (s: VersionStats): VersionStats => ({ ...s, p50Ms: 900, p95Ms: 2_500 });
    const current = [
      slower(
        stats('anthropic', 'claude-opus', '4.7', { infraFailures: 60, failuresByClass: { overloaded: 60 } }),
      ),
      ...healthy.slice(1).map(slower),
    ];
    const a = assess({ window, baseline, current, baselineStats: healthy });
    assert.match(
      a.localSlowdown?.text ?? '',
      /^4 of 4 versions across anthropic, openai got slower at once — likely our side/,
    );
    assert.deepEqual(
      a.versions.map((v) => v.signals),
      [['infrastructure'], [], [], []],
    );
    assert.deepEqual(
      a.providerVerdicts.map((v) => v.degraded.map((d) => d.version)),
      [['4.7']],
    );
    // One provider slower on its own is still that provider's latency problem.
    const oneProvider = assess({
      window,
      baseline,
      current: [...healthy.slice(0, 3).map(slower), healthy[3]!],
      baselineStats: healthy,
    });
    assert.equal(oneProvider.localSlowdown, undefined);
    assert.equal(oneProvider.providerVerdicts[0]?.scope, 'provider-wide');
  });

  it('does not judge versions with fewer than minCalls calls', () => {
    const current = [stats('anthropic', 'claude-opus', '4.7', { calls: 10, infraFailures: 9 })];
    const a = assess({ window, baseline, current, baselineStats: [] });
    assert.equal(a.versions[0]?.judged, false);
    assert.equal(a.degraded, false);
  });

  it('labels versions grouped by family', () => {
    assert.equal(
      versionsLabel([
        { provider: 'a', family: 'claude-opus', version: '4.8' },
        { provider: 'a', family: 'claude-opus', version: '4.7' },
        { provider: 'a', family: 'claude-sonnet', version: '4.5' },
      ]),
      'claude-opus 4.7 and 4.8, claude-sonnet 4.5',
    );
  });
});
