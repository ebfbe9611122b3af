/**
 * `modelwatch demo`: the whole pipeline on one machine, in one process, in about a minute.
 *
 * Kafka: KAFKA_BROKERS if set, else a local broker (Maven Central jars, temporary data, stopped at the end).
 * ClickHouse: CLICKHOUSE_URL if set, else the embedded engine in .modelwatch/clickhouse (kept, so
 * `modelwatch report` and `modelwatch query` work afterwards). Migrations, gateway and consumer run
 * in-process; the traffic generator drives the real SDKs against the simulators through the scenario.
 *
 * Re-runs never mix: each run has its own topic and consumer group, tags every span with a run id resource
 * attribute (the rows==calls check counts by it), runs with deployment.environment.name=demo, and the
 * report's windows are this run's phases (baseline = the scenario's baseline phase).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { openClickHouse, type ClickHouseHandle } from '../clickhouse/client.js';
import { clickHouseConfigFromEnv } from '../clickhouse/config.js';
import { consumerConfigFromEnv } from '../consumer/config.js';
import { startConsumer, type RunningConsumer } from '../consumer/run-consumer.js';
import { IngestError } from '../errors.js';
import { gatewayConfigFromEnv } from '../gateway/config.js';
import { startGateway, type RunningGateway } from '../gateway/start-gateway.js';
import { startLocalKafka, type LocalKafka } from '../kafka/local-broker/local-broker.js';
import { silentLogger, type Logger } from '../log.js';
import { runMigrations } from '../migrations/run-migrations.js';
import type { DegradationRules } from '../report/degradation-rules.js';
import { runReport, type Report } from '../report/run-report.js';
import {
  countRunRows,
  DEMO_ENVIRONMENT,
  DEMO_RUN_ID_ATTRIBUTE,
  gatewayAcceptedSpans,
} from './demo-store-checks.js';
import { loadScenarioFile, type Scenario } from './scenario.js';
import { runTraffic, type TrafficProgress, type TrafficResult } from './traffic.js';

export const DEFAULT_SCENARIO_PATH = fileURLToPath(new URL('../../scenarios/default.yaml', import.meta.url));

export interface DemoOptions {
  /** A scenario object, or a file to load. @default the packaged scenarios/default.yaml */
  scenario?: Scenario | string;
  /** Timeline speed-up (phase durations ÷ speed). @default 1 */
  speed?: number;
  /** KAFKA_BROKERS, CLICKHOUSE_URL, MODELWATCH_DATA_DIR, … (read once here). */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Status lines for people (stderr in the CLI). */
  status?: (line: string) => void;
  onProgress?: (progress: TrafficProgress) => void;
  /**
   * Ctrl-C. Before the traffic: stop starting things, clean up, reject with DemoInterruptedError. During
   * it: stop the traffic early, give the consumer at most ABORTED_DRAIN_TIMEOUT_MS, clean up, resolve
   * with `aborted: true`.
   */
  signal?: AbortSignal;
  /** Report rules over the demo's defaults (DEMO_RULES). */
  rules?: Partial<DegradationRules>;
  logger?: Logger;
  /** How long to wait for the consumer to write everything the gateway acknowledged. @default 60000 */
  drainTimeoutMs?: number;
}

/** runDemo was interrupted (options.signal) before any traffic: everything it had started is stopped. */
export class DemoInterruptedError extends Error {
  override readonly name = 'DemoInterruptedError';
  constructor() {
    super('interrupted before the traffic started; everything started so far was stopped');
  }
}

/** After Ctrl-C the run's own topic and group are never read again: wait this long at most, not a minute. */
const ABORTED_DRAIN_TIMEOUT_MS = 10_000;

export interface DemoResult {
  runId: string;
  scenario: Scenario;
  kafka: { brokers: string; source: 'KAFKA_BROKERS' | 'local broker' };
  topic: string;
  store: string;
  traffic: TrafficResult;
  /** Spans the gateway had Kafka acknowledge. */
  gatewaySpans: number;
  /** llm_calls rows of this run. */
  rows: number;
  report: Report;
  aborted: boolean;
}

/**
 * The demo's windows last seconds, not hours: versions are judged from 10 calls, and latency must also grow
 * by 300 ms, so a p95 over a handful of fast calls does not flag a healthy model by chance.
 */
/** Seconds of traffic before the timeline, outside the report's windows (see TrafficOptions.warmUpS). */
const DEMO_WARM_UP_S = 5;

const DEMO_RULES: Partial<DegradationRules> = { minCalls: 10, latencyMinDeltaMs: 300 };

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const status = options.status ?? (() => undefined);
  const logger = options.logger ?? silentLogger;
  const scenario =
    typeof options.scenario === 'object'
      ? options.scenario
      : await loadScenarioFile(options.scenario ?? DEFAULT_SCENARIO_PATH);
  const speed = options.speed ?? 1;
  if (!(speed > 0))
    throw new IngestError('CONFIG_INVALID', `--speed: must be a positive number, got ${speed}`);
  const runId = randomBytes(4).toString('hex');
  const topic = `modelwatch-demo-${runId}`;
  // Validate every piece of configuration before starting anything slow.
  const chConfig = clickHouseConfigFromEnv(options.env, options.cwd);

  const throwIfAborted = (): void => {
    if (options.signal?.aborted) throw new DemoInterruptedError();
  };
  const cleanups: Array<() => Promise<void>> = [];
  try {
    throwIfAborted();
    let brokers = options.env.KAFKA_BROKERS;
    let kafkaSource: DemoResult['kafka']['source'] = 'KAFKA_BROKERS';
    if (!brokers) {
      status('starting a local Kafka broker (first run downloads ~70 MB of jars with Maven)…');
      const kafka: LocalKafka = await startLocalKafka({
        logger: { info: (m) => status(`  kafka: ${m}`), warn: (m) => status(`  kafka warning: ${m}`) },
      });
      cleanups.push(() => kafka.stop({ removeDataDir: true }));
      brokers = kafka.brokers;
      kafkaSource = 'local broker';
      throwIfAborted();
    }
    status(`Kafka: ${brokers} (${kafkaSource}), topic ${topic}`);

    const clickhouse: ClickHouseHandle = await openClickHouse(chConfig);
    cleanups.push(() => clickhouse.close());
    await runMigrations(clickhouse, { schema: chConfig, logger });
    status(`ClickHouse: ${clickhouse.describe()}`);
    throwIfAborted();

    const pipelineEnv = {
      ...options.env,
      KAFKA_BROKERS: brokers,
      MODELWATCH_TOPIC: topic,
      MODELWATCH_TOPIC_PARTITIONS: '2',
      MODELWATCH_GATEWAY_HOST: '127.0.0.1',
      MODELWATCH_GATEWAY_PORT: '0',
      MODELWATCH_CONSUMER_GROUP: `modelwatch-demo-${runId}`,
      MODELWATCH_CONSUMER_FROM_BEGINNING: 'true',
      MODELWATCH_CONSUMER_METRICS_PORT: 'off',
      MODELWATCH_BATCH_MAX_WAIT_MS: '500',
    };
    // The gateway first: it creates the run's topic, which the consumer needs to exist.
    const gateway: RunningGateway = await startGateway(gatewayConfigFromEnv(pipelineEnv), { logger });
    cleanups.push(() => gateway.close());
    throwIfAborted();
    const consumer: RunningConsumer = await startConsumer(consumerConfigFromEnv(pipelineEnv), {
      clickhouse,
      logger,
    });
    cleanups.push(() => consumer.stop());
    status(`gateway: ${gateway.url}; consumer group modelwatch-demo-${runId}`);
    throwIfAborted();

    status(
      `scenario "${scenario.name}": ${scenario.phases.map((p) => `${p.name} ${(p.durationS / speed).toFixed(0)}s`).join(' → ')}`,
    );
    const traffic = await runTraffic({
      scenario,
      speed,
      warmUpS: DEMO_WARM_UP_S,
      otlpEndpoint: gateway.url,
      resourceAttributes: { 'deployment.environment.name': DEMO_ENVIRONMENT, [DEMO_RUN_ID_ATTRIBUTE]: runId },
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const aborted = options.signal?.aborted === true;

    // The exporter flushed: the gateway has answered every export. Wait for the consumer to write it all.
    const gatewaySpans = await gatewayAcceptedSpans(gateway.url);
    status(
      `traffic done: ${traffic.calls} calls (${traffic.failedCalls} failed); gateway acknowledged ${gatewaySpans} spans; waiting for the consumer…`,
    );
    const drainTimeoutMs = options.drainTimeoutMs ?? 60_000;
    const caughtUp = await consumer.waitUntilCaughtUp(
      aborted ? Math.min(drainTimeoutMs, ABORTED_DRAIN_TIMEOUT_MS) : drainTimeoutMs,
    );
    if (!caughtUp) status('warning: the consumer did not catch up within the drain timeout');
    const rows = await countRunRows(clickhouse, runId, traffic.startedAtMs);
    status(`ClickHouse: ${rows} llm_calls rows for this run (calls made: ${traffic.calls})`);

    const baselinePhase = traffic.phases.find((p) => p.baseline);
    // Phase windows are planned times; after Ctrl-C the run ended before them, and windows never pass its end.
    const endMs = traffic.endedAtMs + 1;
    const incidentStartMs = Math.min(baselinePhase?.endMs ?? traffic.startedAtMs, endMs);
    const report = await runReport(clickhouse, {
      window: { fromMs: incidentStartMs, toMs: endMs },
      baseline: {
        fromMs: Math.min(baselinePhase?.startMs ?? traffic.startedAtMs, incidentStartMs),
        toMs: incidentStartMs,
      },
      filters: { environment: DEMO_ENVIRONMENT },
      rules: { ...DEMO_RULES, ...options.rules },
      source: 'raw',
    });
    return {
      runId,
      scenario,
      kafka: { brokers, source: kafkaSource },
      topic,
      store: clickhouse.describe(),
      traffic,
      gatewaySpans,
      rows,
      report,
      aborted,
    };
  } finally {
    // Reverse order: gateway, consumer, ClickHouse, Kafka. Each step runs even if an earlier one failed.
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

/** True when the report flags exactly the scenario's expected versions (compared by parsed family/version). */
export function unexpectedFindings(
  result: DemoResult,
  expected: { provider: string; family: string; version: string }[],
): string[] {
  const flagged = result.report.providerVerdicts.flatMap((v) =>
    v.degraded.map((d) => `${d.provider} ${d.family} ${d.version}`),
  );
  const want = expected.map((e) => `${e.provider} ${e.family} ${e.version}`);
  return [
    ...want.filter((w) => !flagged.includes(w)).map((w) => `expected ${w} to be flagged`),
    ...flagged.filter((f) => !want.includes(f)).map((f) => `did not expect ${f} to be flagged`),
  ];
}
