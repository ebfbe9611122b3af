import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cachedKafkaJars, defaultKafkaCacheDir, ensureKafkaJars } from './fetch-jars.js';
import { startLocalKafka } from './local-broker.js';
import type { LocalKafkaLogger } from './logger.js';

/** 9092 is the consumer's default KAFKA_BROKERS (localhost:9092), so a started broker needs no env var. */
const DEFAULT_PORT = 9092;
const DEFAULT_CONTROLLER_PORT = 9093;
const STOP_TIMEOUT_MS = 20_000;

/** Options shared by the `modelwatch kafka …` commands; the CLI maps flags onto these. */
export interface KafkaCommandOptions {
  /** Holds the pidfile (broker.json) and, by default, the broker's data. @default ./.modelwatch/kafka */
  stateDir?: string;
  /** @default <stateDir>/data (kept between runs, so topics and messages survive a restart) */
  dataDir?: string;
  /** @default 9092 */
  port?: number;
  /** @default 9093 */
  controllerPort?: number;
  /** @default defaultKafkaCacheDir() */
  cacheDir?: string;
  /** Only KAFKA_BROKERS is read from it. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Result lines (the broker address); progress goes to `logger`. @default console.log */
  print?: (line: string) => void;
  /** @default stderr */
  logger?: LocalKafkaLogger;
}

/** What `kafka start` leaves in the state dir so `kafka stop` (another process) can find the broker. */
export interface BrokerPidFile {
  /** The broker JVM. */
  pid: number;
  /** The `kafka start` process in the foreground. */
  ownerPid: number;
  brokers: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  logFile: string;
  kafkaVersion: string;
  startedAt: string;
}

const stderrLogger: LocalKafkaLogger = {
  info: (message) => console.error(message),
  warn: (message) => console.error(`warning: ${message}`),
};

function resolveOptions(options: KafkaCommandOptions) {
  const stateDir = resolve(options.stateDir ?? join('.modelwatch', 'kafka'));
  return {
    stateDir,
    pidFile: join(stateDir, 'broker.json'),
    dataDir: resolve(options.dataDir ?? join(stateDir, 'data')),
    env: options.env ?? process.env,
    print: options.print ?? ((line: string) => console.log(line)),
    logger: options.logger ?? stderrLogger,
  };
}

async function readPidFile(path: string): Promise<BrokerPidFile | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as BrokerPidFile;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still our broker JVM (on Linux the command line is checked, guarding against pid reuse). */
function isBrokerRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
  } catch {
    return true; // no /proc (macOS): the signal check is all there is
  }
}

/**
 * `modelwatch kafka start`: runs a local broker in the foreground until Ctrl-C, SIGTERM or `kafka stop`,
 * and prints `KAFKA_BROKERS=…`. Does nothing when KAFKA_BROKERS is already set (that Kafka wins) or a
 * broker from this state dir is already running. Resolves to the process exit code.
 */
export async function runKafkaStart(options: KafkaCommandOptions = {}): Promise<number> {
  const { stateDir, pidFile, dataDir, env, print, logger } = resolveOptions(options);
  if (env.KAFKA_BROKERS) {
    print(`KAFKA_BROKERS=${env.KAFKA_BROKERS} is set; using that Kafka, not starting a local broker.`);
    return 0;
  }
  const running = await readPidFile(pidFile);
  if (running && isBrokerRunning(running.pid)) {
    print(`a local Kafka broker is already running (pid ${running.pid}): KAFKA_BROKERS=${running.brokers}`);
    return 0;
  }

  // Listen before starting anything: a Ctrl-C during the broker's start-up must stop it, not orphan it.
  let stopRequested = false;
  let stopBroker: (() => void) | undefined;
  const onSignal = (): void => {
    if (stopRequested) return;
    stopRequested = true;
    logger.info('stopping Kafka…');
    stopBroker?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The broker process does not hold the event loop open (see broker-process.ts); the foreground does.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    await mkdir(stateDir, { recursive: true });
    const kafka = await startLocalKafka({
      dataDir,
      port: options.port ?? DEFAULT_PORT,
      controllerPort: options.controllerPort ?? DEFAULT_CONTROLLER_PORT,
      cacheDir: options.cacheDir,
      logger,
    });
    stopBroker = () => void kafka.stop();
    if (stopRequested) stopBroker();
    const record: BrokerPidFile = {
      pid: kafka.pid,
      ownerPid: process.pid,
      brokers: kafka.brokers,
      port: kafka.port,
      controllerPort: kafka.controllerPort,
      dataDir: kafka.dataDir,
      logFile: kafka.logFile,
      kafkaVersion: kafka.kafkaVersion,
      startedAt: new Date().toISOString(),
    };
    await writeFile(pidFile, `${JSON.stringify(record, null, 2)}\n`);
    print(`KAFKA_BROKERS=${kafka.brokers}`);
    logger.info(
      `Kafka ${kafka.kafkaVersion} running (pid ${kafka.pid}); log ${kafka.logFile}. Ctrl-C or \`npm run kafka:stop\` stops it.`,
    );
    const exit = await kafka.exited;
    // Stopped by us, by `kafka stop` (SIGTERM to the JVM, exit code 143) or a clean broker shutdown.
    const expected = stopRequested || exit.code === 0 || exit.code === 143;
    if (!expected)
      logger.warn(
        `Kafka exited unexpectedly (code ${exit.code}, signal ${exit.signal}); see ${kafka.logFile}`,
      );
    else logger.info('Kafka stopped.');
    return expected ? 0 : 1;
  } finally {
    clearInterval(keepAlive);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(pidFile, { force: true });
  }
}

/**
 * `modelwatch kafka stop`: stops the broker recorded in the state dir's pidfile (SIGTERM, then SIGKILL
 * after 20 s). A `kafka start` in another terminal then exits by itself. Not running is not an error.
 */
export async function runKafkaStop(options: KafkaCommandOptions = {}): Promise<number> {
  const { pidFile, print } = resolveOptions(options);
  const record = await readPidFile(pidFile);
  if (!record || !isBrokerRunning(record.pid)) {
    await rm(pidFile, { force: true });
    print('no local Kafka broker is running.');
    return 0;
  }
  process.kill(record.pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isBrokerRunning(record.pid) && Date.now() < deadline) await sleep(200);
  if (isBrokerRunning(record.pid)) process.kill(record.pid, 'SIGKILL');
  while (isBrokerRunning(record.pid)) await sleep(100);
  await rm(pidFile, { force: true });
  print(`stopped the local Kafka broker at ${record.brokers} (pid ${record.pid}).`);
  return 0;
}

/** `modelwatch kafka fetch`: only downloads (or verifies) the cached broker jars. For CI and offline prep. */
export async function runKafkaFetch(options: KafkaCommandOptions = {}): Promise<number> {
  const { print, logger } = resolveOptions(options);
  const cacheDir = options.cacheDir ?? defaultKafkaCacheDir();
  const wasCached = (await cachedKafkaJars(cacheDir)) !== undefined;
  const jars = await ensureKafkaJars({ cacheDir, logger });
  print(`Kafka ${jars.version} jars ${wasCached ? 'already cached' : 'fetched'} in ${jars.libsDir}`);
  return 0;
}
