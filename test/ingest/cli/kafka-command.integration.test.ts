// `modelwatch kafka start` in the foreground on free ports (jars from the shared cache, so no download),
// a real client talking to it, then `modelwatch kafka stop` from another process: the broker JVM is gone,
// its port closed, the pidfile removed, and the foreground `start` exits 0 by itself.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import type { BrokerPidFile } from '../../../ingest/src/kafka/local-broker/kafka-cli.js';
import { findFreePorts } from '../../../ingest/src/kafka/local-broker/free-ports.js';
import { isListening, killAll, runModelwatch, startModelwatch } from './fixtures/modelwatch-process.js';

let stateDir: string;

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

before(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'modelwatch-kafka-cli-'));
});
after(async () => {
  await killAll();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('modelwatch kafka start | stop', () => {
  it('runs a real broker in the foreground until `kafka stop`', async () => {
    const [port = 0, controllerPort = 0] = await findFreePorts(2);
    const flags = ['--state-dir', stateDir];
    const start = startModelwatch(
      ['kafka', 'start', ...flags, '--port', String(port), '--controller-port', String(controllerPort)],
      {},
    );
    const [, brokers] = await start.waitFor(/^KAFKA_BROKERS=(\S+)$/m, 120_000);
    assert.equal(brokers, `127.0.0.1:${port}`);

    const pidFile = join(stateDir, 'broker.json');
    const record = JSON.parse(await readFile(pidFile, 'utf8')) as BrokerPidFile;
    assert.equal(record.ownerPid, start.pid);
    assert.equal(record.dataDir, join(stateDir, 'data'));
    assert.ok(isAlive(record.pid));

    // A real broker: a client creates a topic on it.
    const admin = new Kafka({ brokers: [brokers ?? ''], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic: 'kafka-cli-test', numPartitions: 1 }],
        waitForLeaders: true,
      });
      assert.ok((await admin.listTopics()).includes('kafka-cli-test'));
    } finally {
      await admin.disconnect();
    }

    // A second start on the same state dir finds the running broker instead of starting another.
    const again = await runModelwatch(['kafka', 'start', ...flags], {});
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      new RegExp(`already running \\(pid ${record.pid}\\): KAFKA_BROKERS=${brokers}`),
    );

    const stop = await runModelwatch(['kafka', 'stop', ...flags], {});
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(
      stop.stdout,
      new RegExp(`stopped the local Kafka broker at ${brokers} \\(pid ${record.pid}\\)`),
    );
    assert.equal(await isListening(port), false, 'client port closed');

    const started = await start.exited(30_000);
    assert.equal(started.code, 0, started.stderr);
    // Only now: until the foreground `start` (the JVM's parent) has reaped it, the exited JVM is a
    // zombie and still answers signal 0.
    assert.equal(isAlive(record.pid), false, 'broker JVM gone');
    assert.match(started.stderr, /Kafka stopped\./);
    assert.equal(await exists(pidFile), false, 'pidfile removed');
    assert.ok(await exists(join(stateDir, 'data', 'kafka-logs')), 'data kept for the next start');

    const idle = await runModelwatch(['kafka', 'stop', ...flags], {});
    assert.equal(idle.code, 0, idle.stderr);
    assert.match(idle.stdout, /no local Kafka broker is running/);
  });

  it('start does nothing when KAFKA_BROKERS names a Kafka already', async () => {
    const run = await runModelwatch(['kafka', 'start', '--state-dir', stateDir], {
      KAFKA_BROKERS: 'kafka.example:9092',
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /KAFKA_BROKERS=kafka\.example:9092 is set; using that Kafka/);
    assert.equal(await exists(join(stateDir, 'broker.json')), false);
  });
});
