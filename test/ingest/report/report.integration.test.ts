// runReport on the real embedded ClickHouse engine with a seeded incident: the rollup and raw paths agree,
// the opus versions (only those) are flagged with a version-specific infrastructure verdict, checkout's
// bad requests are attributed to the client, and empty windows / unknown filters produce notes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runReport, modelFilter } from '../../../ingest/src/report/run-report.js';
import { resolveWindows } from '../../../ingest/src/report/report-window.js';
import { openMigratedStore, type TestStore } from '../fixtures/embedded-store.js';
import { incidentRows, incidentTimes, insertRows } from './fixtures/seed-llm-calls.js';

const t = incidentTimes();
const utcClock = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
let store: TestStore;

before(async () => {
  store = await openMigratedStore();
  await insertRows(store.handle, incidentRows(t));
});
after(async () => store?.close());

const windows = {
  window: { fromMs: t.windowFromMs, toMs: t.windowToMs },
  baseline: { fromMs: t.baselineFromMs, toMs: t.windowFromMs },
};

describe('runReport on a seeded incident', () => {
  it('flags claude-opus 4.7 and 4.8 only, version-specific infrastructure, since the incident minute', async () => {
    const report = await runReport(store.handle, { ...windows, formatTime: utcClock, bucketMs: 60_000 });
    assert.equal(report.source, 'rollup');
    assert.equal(report.degraded, true);
    const flagged = report.versions
      .filter((v) => v.signals.some((s) => s !== 'client'))
      .map((v) => `${v.family} ${v.version}`);
    assert.deepEqual(flagged, ['claude-opus 4.7', 'claude-opus 4.8']);
    const opus = report.versions.find((v) => v.version === '4.7');
    assert.ok(opus?.signals.includes('infrastructure'));
    assert.ok(opus?.signals.includes('latency'));
    assert.equal(report.providerVerdicts.length, 1);
    const verdict = report.providerVerdicts[0];
    assert.equal(verdict?.provider, 'anthropic');
    assert.equal(verdict?.scope, 'versions');
    assert.equal(verdict?.sinceMs, t.incidentFromMs);
    assert.match(
      verdict?.text ?? '',
      /^anthropic claude-opus 4\.7 and 4\.8: provider infrastructure \(overloaded [\d.]+%, server_error [\d.]+%\)/,
    );
    assert.ok(
      verdict?.text.includes(
        `since ${utcClock(t.incidentFromMs)}, other anthropic versions normal — disable these versions, not the provider`,
      ),
      verdict?.text,
    );
  });

  it('attributes the checkout bad-request burst to the client, not to openai', async () => {
    const report = await runReport(store.handle, { ...windows, formatTime: utcClock, bucketMs: 60_000 });
    assert.ok(!report.providerVerdicts.some((v) => v.provider === 'openai'));
    assert.equal(report.clientVerdicts.length, 1);
    const client = report.clientVerdicts[0];
    assert.deepEqual(
      [client?.provider, client?.family, client?.services],
      ['openai', 'gpt-4o', ['checkout']],
    );
    assert.deepEqual(client?.failureClasses, ['bad_request']);
    assert.equal(client?.sinceMs, t.clientBurstFromMs);
    assert.match(
      client?.text ?? '',
      /^checkout → openai gpt-4o 4o: client errors \(bad_request \d+% of calls\) since \d\d:\d\d .*openai itself is healthy$/,
    );
    assert.ok(client?.text.includes(`since ${utcClock(t.clientBurstFromMs)} `), client?.text);
  });

  it('gives the same numbers from llm_calls (raw) as from the rollup', async () => {
    const rollup = await runReport(store.handle, { ...windows, source: 'rollup' });
    const raw = await runReport(store.handle, { ...windows, source: 'raw' });
    assert.equal(raw.source, 'raw');
    const summary = (r: typeof raw) =>
      r.versions.map((v) => [
        v.family,
        v.version,
        v.current.calls,
        v.current.infraFailureRate,
        v.current.clientFailureRate,
        v.signals,
      ]);
    assert.deepEqual(summary(raw), summary(rollup));
    // Counts equal what was seeded in the window.
    const seeded = incidentRows(t).filter(
      (r) => Number(BigInt(r.Timestamp) / 1_000_000n) >= t.windowFromMs,
    ).length;
    assert.equal(
      raw.versions.reduce((n, v) => n + v.current.calls, 0),
      seeded,
    );
  });

  it('filters by provider and by model id', async () => {
    const openai = await runReport(store.handle, { ...windows, filters: { provider: 'openai' } });
    assert.deepEqual([...new Set(openai.versions.map((v) => v.provider))], ['openai']);
    assert.equal(openai.providerVerdicts.length, 0);
    const opus48 = await runReport(store.handle, { ...windows, filters: modelFilter('claude-opus-4-8') });
    assert.deepEqual(
      opus48.versions.map((v) => `${v.family} ${v.version}`),
      ['claude-opus 4.8'],
    );
    // Alone, 4.8 is every version in view: the scope cannot be "other versions normal".
    assert.match(opus48.providerVerdicts[0]?.text ?? '', /only anthropic version/);
  });

  it('notes an unknown filter value and lists the known ones instead of a silent empty table', async () => {
    const report = await runReport(store.handle, { ...windows, filters: { provider: 'opnai' } });
    assert.equal(report.versions.length, 0);
    assert.equal(report.degraded, false);
    assert.equal(report.notes.length, 1);
    assert.match(report.notes[0] ?? '', /no calls with provider "opnai".*known values: anthropic, openai/);
  });

  it('notes an empty window', async () => {
    const { window, baseline } = resolveWindows({ since: '15m' }, Date.UTC(2030, 0, 1, 12, 0, 0));
    const report = await runReport(store.handle, { window, baseline });
    assert.equal(report.versions.length, 0);
    assert.equal(report.degraded, false);
    assert.match(report.notes[0] ?? '', /no LLM calls in/);
  });

  it('reports no degradation for a healthy window', async () => {
    const report = await runReport(store.handle, {
      window: { fromMs: t.windowFromMs - 30 * 60_000, toMs: t.windowFromMs },
      baseline: { fromMs: t.baselineFromMs, toMs: t.windowFromMs - 30 * 60_000 },
    });
    assert.ok(report.versions.length >= 5);
    assert.equal(report.degraded, false);
    assert.deepEqual(report.providerVerdicts, []);
  });
});
