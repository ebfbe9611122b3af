// The `modelwatch` binary as users run it (a child process, TypeScript source through tsx): help, usage
// errors, exit codes, `report` and `query` against an embedded store seeded with a known incident.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { drainPending } from 'chdb';
import { openMigratedStore } from '../fixtures/embedded-store.js';
import { incidentRows, incidentTimes, insertRows } from '../report/fixtures/seed-llm-calls.js';
import { killAll, repoRoot as root, runModelwatch, type Run } from './fixtures/modelwatch-process.js';

const t = incidentTimes();
let dataDir: string;
let scratch: string;

const modelwatch = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  runModelwatch(args, { MODELWATCH_DATA_DIR: dataDir, ...env });

const iso = (ms: number): string => new Date(ms).toISOString();
const incidentWindow = [
  '--from',
  iso(t.windowFromMs),
  '--to',
  iso(t.windowToMs),
  '--baseline-from',
  iso(t.baselineFromMs),
  '--baseline-to',
  iso(t.windowFromMs),
];

before(async () => {
  // Seed in this process, then release the data dir: the embedded engine allows one process per folder.
  const store = await openMigratedStore('modelwatch-cli-test-');
  dataDir = store.dataDir;
  await insertRows(store.handle, incidentRows(t));
  await store.handle.close();
  await drainPending();
  scratch = await mkdtemp(join(tmpdir(), 'modelwatch-cli-scratch-'));
});
after(async () => {
  await killAll();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('modelwatch CLI', () => {
  it('prints help with every command and the exit codes', async () => {
    const run = await modelwatch(['--help']);
    assert.equal(run.code, 0);
    for (const command of [
      'demo',
      'report',
      'query',
      'gateway',
      'ingest',
      'migrate',
      'dashboards',
      'kafka',
    ]) {
      assert.match(run.stdout, new RegExp(`\\b${command}\\b`));
    }
    assert.match(run.stdout, /Exit codes: 0 ok/);
    const sub = await modelwatch(['kafka', 'start', '--help']);
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /--port/);
  });

  it('exits 64 on an unknown command or flag value, 78 naming a bad value', async () => {
    const unknown = await modelwatch(['frobnicate']);
    assert.equal(unknown.code, 64);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const badEnum = await modelwatch(['report', '--format', 'xml']);
    assert.equal(badEnum.code, 64);
    const badSince = await modelwatch(['report', '--since', 'yesterday']);
    assert.equal(badSince.code, 78);
    assert.match(badSince.stderr, /CONFIG_INVALID: --since: "yesterday" is not a duration/);
    const badUrl = await modelwatch(['report'], { CLICKHOUSE_URL: 'ftp://x' });
    assert.equal(badUrl.code, 78);
    assert.match(badUrl.stderr, /CLICKHOUSE_URL: must use http:\/\/ or https:\/\//);
  });

  it('report exits 2 with the verdict when versions are degraded', async () => {
    const run = await modelwatch(['report', ...incidentWindow]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stdout, /anthropic claude-opus 4\.7 and 4\.8: provider infrastructure/);
    assert.match(run.stdout, /checkout → openai gpt-4o 4o: client errors/);
    assert.ok(!run.stdout.includes('\u001b['), 'no colours when not a TTY');
  });

  it('report --format json is parseable and filters apply', async () => {
    const run = await modelwatch([
      'report',
      ...incidentWindow,
      '--format',
      'json',
      '--provider',
      'openai',
      '--model',
      'gpt-4o-mini',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as {
      versions: { family: string }[];
      degraded: boolean;
      window: { from: string };
    };
    assert.deepEqual(
      report.versions.map((v) => v.family),
      ['gpt-4o-mini'],
    );
    assert.equal(report.degraded, false);
    assert.equal(report.window.from, iso(t.windowFromMs));
  });

  it('query prints csv, maps bad SQL to 65 and writes without --write to 77, without stack traces', async () => {
    const csv = await modelwatch([
      'query',
      'SELECT Provider, count() AS calls FROM llm_calls WHERE Provider = {p:String} GROUP BY Provider',
      '--param',
      'p=anthropic',
      '--format',
      'csv',
    ]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(
      csv.stdout.trim(),
      `Provider,calls\r\nanthropic,${incidentRows(t).filter((r) => r.Provider === 'anthropic').length}`,
    );
    const bad = await modelwatch(['query', 'SELECT nope FROM llm_calls']);
    assert.equal(bad.code, 65);
    assert.match(bad.stderr, /QUERY_FAILED: ClickHouse error 47 \(UNKNOWN_IDENTIFIER\)/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
    const write = await modelwatch(['query', 'TRUNCATE TABLE llm_calls']);
    assert.equal(write.code, 77);
    assert.match(write.stderr, /pass --write/);
  });

  it('demo rejects an invalid scenario with exit 65 before starting anything', async () => {
    const file = join(scratch, 'broken.yaml');
    await writeFile(file, 'name: broken\nstreams: []\nphases: []\n');
    const run = await modelwatch(['demo', '--scenario', file]);
    assert.equal(run.code, 65);
    assert.match(run.stderr, /SCENARIO_INVALID: .*broken\.yaml is invalid:\n\s+streams: Too small/);
    assert.doesNotMatch(run.stderr, /kafka/i);
  });
  it('dashboards --out writes the same provisioning files as the committed dashboards/generated', async () => {
    const outDir = join(scratch, 'grafana');
    const run = await modelwatch(['dashboards', '--out', outDir]);
    assert.equal(run.code, 0, run.stderr);
    const committedDir = join(root, 'dashboards', 'generated');
    const committed = (await readdir(committedDir, { recursive: true }))
      .filter((path) => /\.(json|yaml)$/.test(path))
      .sort();
    assert.ok(committed.length >= 7, committed.join(', '));
    assert.deepEqual(
      run.stdout
        .trim()
        .split('\n')
        .map((line) => line.replace(`wrote ${outDir}/`, ''))
        .sort(),
      committed,
    );
    for (const file of committed) {
      assert.equal(
        await readFile(join(outDir, file), 'utf8'),
        await readFile(join(committedDir, file), 'utf8'),
        `${file} differs from the committed one`,
      );
    }
  });
});
