import { mkdtemp, mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log4jConfigPath } from './assets.js';
import { spawnWatchedProcess, type ProcessExit, type WatchedProcess } from './broker-process.js';
import { claimDataDir, type DataDirClaim } from './data-dir-claim.js';
import { ensureKafkaJars, type KafkaJars } from './fetch-jars.js';
import { formatStorage } from './format-storage.js';
import { findFreePorts, isPortFree } from './free-ports.js';
import { LocalKafkaError } from './local-kafka-error.js';
import { silentLogger, type LocalKafkaLogger } from './logger.js';
import { findJava } from './prerequisites.js';
import { renderServerProperties } from './server-properties.js';
import { waitForBroker } from './wait-for-broker.js';

const HOST = '127.0.0.1';
const DEFAULT_START_TIMEOUT_MS = 90_000;
const DEFAULT_STOP_TIMEOUT_MS = 20_000;
/** Auto-picked ports can be taken by someone else before the JVM binds them; pick again this many times. */
const PORT_ATTEMPTS = 3;
const LOG_TAIL_LINES = 40;

export interface StartLocalKafkaOptions {
  /**
   * Holds server.properties, partition data (kafka-logs/) and broker logs (logs/). An existing formatted
   * dir is reused as is, with its messages: that is how a broker is restarted.
   * @default a new temporary folder
   */
  dataDir?: string;
  /** Client port on 127.0.0.1. @default a free port */
  port?: number;
  /** KRaft controller port on 127.0.0.1; pass the previous one back when restarting. @default a free port */
  controllerPort?: number;
  /** Jar cache. @default defaultKafkaCacheDir() (MODELWATCH_KAFKA_CACHE or ~/.cache/modelwatch/kafka-<version>) */
  cacheDir?: string;
  /** Progress messages (fetching, ready). @default silent */
  logger?: LocalKafkaLogger;
  /** Fetching jars not included. @default 90_000 */
  startTimeoutMs?: number;
}

export interface StopLocalKafkaOptions {
  /** Grace period after SIGTERM before SIGKILL. @default 20_000 */
  timeoutMs?: number;
  /** Delete the data dir once the broker is gone (end of a test). @default false */
  removeDataDir?: boolean;
}

export interface LocalKafka {
  /** Bootstrap servers for clients: "127.0.0.1:PORT". */
  brokers: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  /** The broker JVM's pid. */
  pid: number;
  kafkaVersion: string;
  /** WARN+ broker log. */
  logFile: string;
  /** Resolves when the broker process has exited, whoever stopped it. */
  exited: Promise<ProcessExit>;
  /** SIGTERM, wait, SIGKILL after the timeout; resolves once the ports and data dir are released. */
  stop(options?: StopLocalKafkaOptions): Promise<void>;
}

interface BrokerPaths {
  dataDir: string;
  logsDir: string;
  logFile: string;
  jvmOutputFile: string;
  serverProperties: string;
}

function brokerPaths(dataDir: string): BrokerPaths {
  const logsDir = join(dataDir, 'logs');
  return {
    dataDir,
    logsDir,
    logFile: join(logsDir, 'server.log'),
    jvmOutputFile: join(logsDir, 'jvm-output.log'),
    serverProperties: join(dataDir, 'server.properties'),
  };
}

async function fileSize(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

/** The last lines written to `path` since byte `fromOffset` (this start only, not earlier runs). */
async function tailSince(path: string, fromOffset: number): Promise<string> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(fromOffset, size - 64 * 1024);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } finally {
    await handle.close();
  }
}

async function choosePorts(
  options: StartLocalKafkaOptions,
): Promise<{ port: number; controllerPort: number }> {
  for (const [name, port] of [
    ['port', options.port],
    ['controllerPort', options.controllerPort],
  ] as const) {
    if (port !== undefined && !(await isPortFree(port))) {
      throw new LocalKafkaError(
        'PORT_IN_USE',
        `${name} ${port} on ${HOST} is in use (a local broker still running? \`npm run kafka:stop\`); pick another port or stop what holds it`,
      );
    }
  }
  const [free1, free2] = await findFreePorts(2);
  const port = options.port ?? (free1 === options.controllerPort ? free2 : free1);
  const controllerPort = options.controllerPort ?? (free2 === port ? free1 : free2);
  if (port === undefined || controllerPort === undefined) throw new Error('no free ports found');
  return { port, controllerPort };
}

async function startOnce(
  options: StartLocalKafkaOptions,
  jars: KafkaJars,
  java: string,
  dataDir: string,
  claim: DataDirClaim,
  logger: LocalKafkaLogger,
): Promise<LocalKafka> {
  const startedAt = Date.now();
  const paths = brokerPaths(dataDir);
  const logDir = join(dataDir, 'kafka-logs');
  await mkdir(paths.logsDir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  const { port, controllerPort } = await choosePorts(options);
  await writeFile(paths.serverProperties, renderServerProperties({ port, controllerPort, logDir }));

  const jvmArgs = [
    '-Djava.awt.headless=true',
    // Kafka stops its own loggers on shutdown; log4j's hook would only add a "JVM is shutting down" warning.
    '-Dlog4j2.shutdownHookEnabled=false',
    `-Dlog4j2.configurationFile=${log4jConfigPath()}`,
    `-Dkafka.logs.dir=${paths.logsDir}`,
    '-cp',
    join(jars.libsDir, '*'),
  ];
  await formatStorage({ java, jvmArgs, serverPropertiesPath: paths.serverProperties, logDir });

  const logOffset = await fileSize(paths.logFile);
  const outputOffset = await fileSize(paths.jvmOutputFile);
  const tail = async (): Promise<string> =>
    [await tailSince(paths.jvmOutputFile, outputOffset), await tailSince(paths.logFile, logOffset)]
      .filter(Boolean)
      .join('\n') || '(the broker wrote nothing)';

  const broker: WatchedProcess = await spawnWatchedProcess(
    java,
    ['-Xms256m', '-Xmx512m', ...jvmArgs, 'kafka.Kafka', paths.serverProperties],
    paths.jvmOutputFile,
  );
  await claim.recordBrokerPid(broker.pid);
  const brokerExited = new AbortController();
  void broker.exited.then(() => brokerExited.abort());
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const ready = await waitForBroker({
    host: HOST,
    port,
    deadline: startedAt + timeoutMs,
    signal: brokerExited.signal,
  });

  if (!ready) {
    const exit = broker.hasExited() ? await broker.exited : await broker.stop(5_000).then(() => undefined);
    const log = await tail();
    const where = `(data dir ${dataDir}, log ${paths.logFile})`;
    if (exit && /Address already in use|BindException/.test(log)) {
      throw new LocalKafkaError(
        'PORT_IN_USE',
        `Kafka could not bind port ${port} or ${controllerPort} on ${HOST} ${where}:\n${log}`,
      );
    }
    if (exit) {
      throw new LocalKafkaError(
        'BROKER_EXITED',
        `Kafka broker exited during start (code ${exit.code}, signal ${exit.signal}) ${where}:\n${log}`,
      );
    }
    throw new LocalKafkaError(
      'BROKER_START_TIMEOUT',
      `Kafka broker not ready at ${HOST}:${port} after ${timeoutMs / 1000} s; stopped it ${where}:\n${log}`,
    );
  }
  logger.info(
    `Kafka ${jars.version} ready at ${HOST}:${port} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (data ${dataDir})`,
  );

  return {
    brokers: `${HOST}:${port}`,
    port,
    controllerPort,
    dataDir,
    pid: broker.pid,
    kafkaVersion: jars.version,
    logFile: paths.logFile,
    exited: broker.exited,
    async stop(stopOptions = {}) {
      await broker.stop(stopOptions.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
      if (stopOptions.removeDataDir) await rm(dataDir, { recursive: true, force: true });
      else await claim.release();
    },
  };
}

/**
 * Starts a real single-node KRaft Kafka broker on 127.0.0.1 from jars fetched with Maven (cached), and
 * resolves once a kafkajs admin client can describe the cluster. The broker stops with `stop()`, and by
 * itself within a second or two if this Node process dies (see broker-process.ts).
 */
export async function startLocalKafka(options: StartLocalKafkaOptions = {}): Promise<LocalKafka> {
  const logger = options.logger ?? silentLogger;
  const jars = await ensureKafkaJars({ cacheDir: options.cacheDir, logger });
  const java = findJava();
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'modelwatch-kafka-')));
  await mkdir(dataDir, { recursive: true });
  const claim = await claimDataDir(dataDir);
  // Only ports we picked ourselves are worth picking again; a port the caller chose is theirs to fix.
  const portsArePicked = options.port === undefined && options.controllerPort === undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(options, jars, java, dataDir, claim, logger);
    } catch (error) {
      const retry =
        portsArePicked &&
        attempt < PORT_ATTEMPTS &&
        error instanceof LocalKafkaError &&
        error.code === 'PORT_IN_USE';
      if (!retry) {
        // A temporary dir made for this start is useless after a failure; a caller's dir is theirs to keep.
        if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
        else await claim.release();
        throw error;
      }
      logger.warn(`${error.message.split('\n')[0]}; retrying with other ports`);
    }
  }
}
