/**
 * The consumer's settings, from the environment. Parsed once at the edge (nothing below reads process.env);
 * every problem is reported together, naming the variable. Each field documents its default and unit.
 */
import { z } from 'zod';
import { formatEnvIssues } from '../clickhouse/config.js';
import { IngestError } from '../errors.js';
import { DEFAULT_CONSUMER_GROUP, DEFAULT_TOPIC } from '../names.js';

export interface ConsumerConfig {
  /** Bootstrap servers (KAFKA_BROKERS, comma-separated). @default ['localhost:9092'] */
  brokers: string[];
  /** MODELWATCH_KAFKA_CLIENT_ID. @default 'modelwatch-consumer' */
  clientId: string;
  /** MODELWATCH_TOPIC. @default 'otlp_spans' */
  topic: string;
  /** MODELWATCH_CONSUMER_GROUP; also the key of the exactly-once range state. @default 'modelwatch-ingest' */
  groupId: string;
  /**
   * MODELWATCH_CONSUMER_FROM_BEGINNING: where a group with no committed offset starts. True so spans produced
   * before the consumer's first start are not skipped. @default true
   */
  fromBeginning: boolean;
  /**
   * MODELWATCH_BATCH_MAX_SPANS: a partition's batch is cut at this many spans. 20k keeps one insert's
   * encoded body (~1.5 KB/span for both tables) around 30 MB; bigger blocks gained nothing measurable.
   * A batch of a quarter of this is cut early when an insert slot would otherwise idle (pending-batches.ts).
   * @default 20_000
   */
  batchMaxSpans: number;
  /** MODELWATCH_BATCH_MAX_BYTES: ... or at this many Kafka record bytes. @default 33_554_432 (32 MiB) */
  batchMaxBytes: number;
  /** MODELWATCH_BATCH_MAX_WAIT_MS: ... or this long after its first record (freshness bound). @default 1000 */
  batchMaxWaitMs: number;
  /**
   * MODELWATCH_CONSUMER_MAX_BUFFERED_BYTES: memory held across all partitions by open, queued and in-flight
   * batches (encoded rows, plus poison records kept for the DLQ). Above it, partitions are paused until
   * inserts catch up. @default 100_663_296 (96 MiB)
   */
  maxBufferedBytes: number;
  /**
   * MODELWATCH_CONSUMER_MAX_CONCURRENT_INSERTS: inserts in flight at once across partitions; bounds the
   * engine's parse memory and CPU (2 matches a 2-core box; raise it for a ClickHouse server). With the
   * embedded engine each slot gets a connection of its own (clickhouse/engine-sessions.ts), since one chdb
   * connection runs its statements one at a time. @default 2
   */
  maxConcurrentInserts: number;
  /** MODELWATCH_CONSUMER_RETRY_MIN_MS: first backoff after a retriable failure. @default 200 */
  retryMinMs: number;
  /** MODELWATCH_CONSUMER_RETRY_MAX_MS: backoff cap (exponential with full jitter). @default 30_000 */
  retryMaxMs: number;
  /**
   * MODELWATCH_CONSUMER_METRICS_PORT: /healthz and /metrics (Prometheus text). 0 picks a free port;
   * 'off' disables the server. @default 9464
   */
  metricsPort: number | null;
  /** MODELWATCH_CONSUMER_METRICS_HOST. @default '0.0.0.0' */
  metricsHost: string;
  /** MODELWATCH_MIGRATE_ON_START: apply pending migrations before consuming. @default true */
  migrateOnStart: boolean;
  /** MODELWATCH_CONSUMER_SHUTDOWN_TIMEOUT_MS: how long SIGTERM waits for in-flight batches. @default 30_000 */
  shutdownTimeoutMs: number;
  /** MODELWATCH_KAFKA_SESSION_TIMEOUT_MS. @default 30_000 */
  sessionTimeoutMs: number;
  /**
   * TEST ONLY — MODELWATCH_TEST_CRASH_AFTER_INSERT=n: SIGKILL this process right after the n-th batch insert
   * was acknowledged by ClickHouse and before its offsets are committed (the worst moment for exactly-once),
   * once no other engine statement runs (test-kill-hooks.ts). Used by the kill tests; never set it in
   * production. @default undefined (off)
   */
  testCrashAfterInsert: number | undefined;
  /**
   * TEST ONLY — MODELWATCH_TEST_KILL_ON_SIGUSR2=true: SIGUSR2 makes this process SIGKILL itself at the next
   * moment no engine statement runs (test-kill-hooks.ts). Never set it in production. @default false
   */
  testKillOnSigusr2: boolean;
  /**
   * TEST ONLY — MODELWATCH_TEST_KILL_INSIDE_INSERTS=true (with the above): the kill lands inside the next
   * insert instead, at a random moment of it, where the embedded engine can lose the block (the kill tests'
   * stress mode; replay-repair.ts). @default false
   */
  testKillInsideInserts: boolean;
}

const boolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Env variable → schema; keys are the variable names so messages name them. */
export const consumerEnvSchema = z
  .object({
    KAFKA_BROKERS: z
      .string()
      .default('localhost:9092')
      .transform((v) =>
        v
          .split(',')
          .map((b) => b.trim())
          .filter((b) => b.length > 0),
      )
      .refine((list) => list.length > 0 && list.every((b) => /^[^:\s]+:\d+$/.test(b)), {
        message: 'must be host:port[,host:port...]',
      }),
    MODELWATCH_KAFKA_CLIENT_ID: z.string().min(1).default('modelwatch-consumer'),
    MODELWATCH_TOPIC: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,249}$/, { message: 'must be a Kafka topic name (letters, digits, . _ -)' })
      .default(DEFAULT_TOPIC),
    MODELWATCH_CONSUMER_GROUP: z.string().min(1).default(DEFAULT_CONSUMER_GROUP),
    MODELWATCH_CONSUMER_FROM_BEGINNING: boolean(true),
    MODELWATCH_BATCH_MAX_SPANS: positiveInt(20_000),
    MODELWATCH_BATCH_MAX_BYTES: positiveInt(32 * 1024 * 1024),
    MODELWATCH_BATCH_MAX_WAIT_MS: positiveInt(1000),
    MODELWATCH_CONSUMER_MAX_BUFFERED_BYTES: positiveInt(96 * 1024 * 1024),
    MODELWATCH_CONSUMER_MAX_CONCURRENT_INSERTS: positiveInt(2),
    MODELWATCH_CONSUMER_RETRY_MIN_MS: positiveInt(200),
    MODELWATCH_CONSUMER_RETRY_MAX_MS: positiveInt(30_000),
    MODELWATCH_CONSUMER_METRICS_PORT: z
      .union([z.literal('off'), z.coerce.number().int().min(0).max(65_535)], {
        message: "must be a port number (0 = any free port) or 'off'",
      })
      .default(9464),
    MODELWATCH_CONSUMER_METRICS_HOST: z.string().min(1).default('0.0.0.0'),
    MODELWATCH_MIGRATE_ON_START: boolean(true),
    MODELWATCH_CONSUMER_SHUTDOWN_TIMEOUT_MS: positiveInt(30_000),
    MODELWATCH_KAFKA_SESSION_TIMEOUT_MS: positiveInt(30_000),
    MODELWATCH_TEST_CRASH_AFTER_INSERT: z.coerce.number().int().positive().optional(),
    MODELWATCH_TEST_KILL_ON_SIGUSR2: boolean(false),
    MODELWATCH_TEST_KILL_INSIDE_INSERTS: boolean(false),
  })
  .refine((e) => e.MODELWATCH_CONSUMER_RETRY_MIN_MS <= e.MODELWATCH_CONSUMER_RETRY_MAX_MS, {
    message: 'must not exceed MODELWATCH_CONSUMER_RETRY_MAX_MS',
    path: ['MODELWATCH_CONSUMER_RETRY_MIN_MS'],
  })
  .refine((e) => e.MODELWATCH_BATCH_MAX_BYTES <= e.MODELWATCH_CONSUMER_MAX_BUFFERED_BYTES, {
    message: 'must not exceed MODELWATCH_CONSUMER_MAX_BUFFERED_BYTES',
    path: ['MODELWATCH_BATCH_MAX_BYTES'],
  });

export function consumerConfigFromEnv(env: NodeJS.ProcessEnv): ConsumerConfig {
  // Empty strings count as unset: compose files and shells often export VAR= .
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = consumerEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new IngestError(
      'CONFIG_INVALID',
      `invalid consumer configuration: ${formatEnvIssues(parsed.error)}`,
    );
  }
  const e = parsed.data;
  return {
    brokers: e.KAFKA_BROKERS,
    clientId: e.MODELWATCH_KAFKA_CLIENT_ID,
    topic: e.MODELWATCH_TOPIC,
    groupId: e.MODELWATCH_CONSUMER_GROUP,
    fromBeginning: e.MODELWATCH_CONSUMER_FROM_BEGINNING,
    batchMaxSpans: e.MODELWATCH_BATCH_MAX_SPANS,
    batchMaxBytes: e.MODELWATCH_BATCH_MAX_BYTES,
    batchMaxWaitMs: e.MODELWATCH_BATCH_MAX_WAIT_MS,
    maxBufferedBytes: e.MODELWATCH_CONSUMER_MAX_BUFFERED_BYTES,
    maxConcurrentInserts: e.MODELWATCH_CONSUMER_MAX_CONCURRENT_INSERTS,
    retryMinMs: e.MODELWATCH_CONSUMER_RETRY_MIN_MS,
    retryMaxMs: e.MODELWATCH_CONSUMER_RETRY_MAX_MS,
    metricsPort: e.MODELWATCH_CONSUMER_METRICS_PORT === 'off' ? null : e.MODELWATCH_CONSUMER_METRICS_PORT,
    metricsHost: e.MODELWATCH_CONSUMER_METRICS_HOST,
    migrateOnStart: e.MODELWATCH_MIGRATE_ON_START,
    shutdownTimeoutMs: e.MODELWATCH_CONSUMER_SHUTDOWN_TIMEOUT_MS,
    sessionTimeoutMs: e.MODELWATCH_KAFKA_SESSION_TIMEOUT_MS,
    testCrashAfterInsert: e.MODELWATCH_TEST_CRASH_AFTER_INSERT,
    testKillOnSigusr2: e.MODELWATCH_TEST_KILL_ON_SIGUSR2,
    testKillInsideInserts: e.MODELWATCH_TEST_KILL_INSIDE_INSERTS,
  };
}
