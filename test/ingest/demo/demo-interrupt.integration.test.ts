// Ctrl-C during `modelwatch demo` (a child process, no KAFKA_BROKERS: it starts its own local broker):
// exit 130, and everything it started is gone by the time it exits — the broker JVM (not left to its
// watchdog) and its temporary data, the gateway's port, the embedded store's lock — so a second
// `modelwatch query` on the same data dir works.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { drainPending } from 'chdb';
import { DemoInterruptedError, runDemo } from '../../../ingest/src/demo/run-demo.js';
import { isListening, killAll, runModelwatch, startModelwatch } from '../cli/fixtures/modelwatch-process.js';

let scratch: string;

/** Two healthy streams for a long single phase: the demo is surely still sending when it is interrupted. */
const SCENARIO = `name: interrupt-me
clientTimeoutMs: 5000
streams:
  - { provider: openai, model: gpt-4o-mini, service: search, ratePerS: 4, latency: { medianMs: 100, p95Ms: 200 } }
  - { provider: anthropic, model: claude-haiku-4-5, service: search, ratePerS: 4, latency: { medianMs: 100, p95Ms: 200 } }
phases:
  - { name: steady, durationS: 1200, baseline: true }
`;

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Pids of processes whose command line mentions `text` (Linux /proc). */
function pidsMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'modelwatch-demo-interrupt-'));
});
after(async () => {
  await killAll();
  await drainPending();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe(
  'modelwatch demo interrupted with Ctrl-C',
  { skip: process.platform === 'linux' ? false : 'reads /proc to find the broker JVM' },
  () => {
    it('exits 130 after stopping the broker, the gateway and the consumer and closing the store', async () => {
      const scenarioFile = join(scratch, 'interrupt-me.yaml');
      await writeFile(scenarioFile, SCENARIO);
      const dataDir = join(scratch, 'clickhouse');

      const demo = startModelwatch(['demo', '--scenario', scenarioFile, '--speed', '20'], {
        MODELWATCH_DATA_DIR: dataDir,
      });
      const [, kafkaPort = '', kafkaDataDir = ''] = await demo.waitFor(
        /kafka: Kafka \S+ ready at 127\.0\.0\.1:(\d+) in [\d.]+ s \(data (\S+)\)/,
        120_000,
      );
      const [, gatewayPort = ''] = await demo.waitFor(
        /gateway: http:\/\/127\.0\.0\.1:(\d+); consumer group/,
        60_000,
      );
      await demo.waitFor(/scenario "interrupt-me": steady 60s/, 10_000);
      // The JVM itself, not the shell wrapper and watchdog that also name the data dir.
      const brokerPids = pidsMentioning(join(kafkaDataDir, 'server.properties')).filter((pid) =>
        /(^|\/)java$/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? ''),
      );
      assert.equal(brokerPids.length, 1, `one broker JVM on ${kafkaDataDir}`);
      assert.ok(await isListening(Number(gatewayPort)));
      assert.ok(await exists(join(dataDir, '.modelwatch.lock')), 'the demo holds the store');
      // Interrupted mid-traffic, once calls were made (the first progress line comes ~5 s in).
      await demo.waitFor(/^ {2}\d+s\/\d+s [^:\n]*: [1-9]\d* calls/m, 30_000);

      demo.signal('SIGINT');
      const run = await demo.exited(90_000);
      assert.equal(run.code, 130, `${run.signal ?? ''}\n${run.stderr}`);
      assert.match(run.stderr, /stopping the traffic and cleaning up/);
      // What ran is summarised; a report over a few cut-short seconds is not printed.
      assert.match(
        run.stderr,
        /interrupted: run [0-9a-f]+ made [1-9]\d* calls, gateway acknowledged \d+ spans, \d+ rows in llm_calls/,
      );
      assert.equal(run.stdout, '');

      // Checked at once: the demo itself stopped them before exiting.
      assert.deepEqual(
        brokerPids.filter((pid) => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        }),
        [],
        'broker JVM gone',
      );
      assert.deepEqual(pidsMentioning(kafkaDataDir), [], 'nothing runs on the broker data dir');
      assert.equal(await isListening(Number(kafkaPort)), false, 'Kafka port closed');
      assert.equal(await exists(kafkaDataDir), false, 'temporary broker data removed');
      assert.equal(await isListening(Number(gatewayPort)), false, 'gateway port closed');
      assert.equal(await exists(join(dataDir, '.modelwatch.lock')), false, 'store lock released');

      const query = await runModelwatch(['query', 'SELECT 1 AS one', '--format', 'csv'], {
        MODELWATCH_DATA_DIR: dataDir,
      });
      assert.equal(query.code, 0, query.stderr);
      assert.equal(query.stdout.trim(), 'one\r\n1');
    });
  },
);

describe(
  'runDemo interrupted while it starts',
  { skip: process.env.KAFKA_BROKERS ? false : 'KAFKA_BROKERS not set (run through scripts/run-tests.mjs)' },
  () => {
    it('stops starting things, closes the store and rejects with DemoInterruptedError', async () => {
      const dataDir = join(scratch, 'interrupted-at-start');
      const scenarioFile = join(scratch, 'interrupt-at-start.yaml');
      await writeFile(scenarioFile, SCENARIO);
      const abort = new AbortController();
      const lines: string[] = [];
      await assert.rejects(
        runDemo({
          scenario: scenarioFile,
          env: { KAFKA_BROKERS: process.env.KAFKA_BROKERS, MODELWATCH_DATA_DIR: dataDir },
          signal: abort.signal,
          status: (line) => {
            lines.push(line);
            // Ctrl-C right after the store is migrated, before the gateway and consumer start.
            if (line.startsWith('ClickHouse:')) abort.abort();
          },
        }),
        DemoInterruptedError,
      );
      assert.ok(
        lines.some((l) => l.startsWith('ClickHouse:')),
        lines.join('\n'),
      );
      assert.ok(!lines.some((l) => l.startsWith('gateway:') || l.startsWith('scenario')), lines.join('\n'));
      assert.equal(await exists(join(dataDir, '.modelwatch.lock')), false, 'store lock released');
    });
  },
);
