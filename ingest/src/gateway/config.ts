/**
 * Gateway settings from the environment, parsed once at the edge (nothing below reads process.env).
 * Every problem is reported together, naming the variable; a misspelt MODELWATCH_GATEWAY_* is an error.
 */
import { z } from 'zod';
import { IngestError } from '../errors.js';
import type { LogLevel } from '../log.js';
import { DEFAULT_TOPIC } from '../names.js';

export interface GatewayConfig {
  /** MODELWATCH_GATEWAY_HOST. @default '127.0.0.1' (set 0.0.0.0 in a container) */
  host: string;
  /** MODELWATCH_GATEWAY_PORT; 0 picks a free port. @default 4318 (OTLP/HTTP) */
  port: number;
  /** MODELWATCH_GATEWAY_MAX_BODY_BYTES, applied after decompression (OTLP's recommended cap). @default 64 MiB */
  maxBodyBytes: number;
  /** MODELWATCH_GATEWAY_AUTH_TOKEN: when set, POST /v1/traces requires `Authorization: Bearer <token>`. */
  authToken: string | undefined;
  /** KAFKA_BROKERS, comma-separated host:port list. Required. */
  brokers: string[];
  /** MODELWATCH_TOPIC. @default 'otlp_spans' */
  topic: string;
  /** MODELWATCH_TOPIC_PARTITIONS, used only when the gateway creates the topic. @default 6 */
  topicPartitions: number;
  /** MODELWATCH_GATEWAY_PUBLISH_TIMEOUT_MS: longest wait for Kafka's ack before answering 503. @default 10000 */
  publishTimeoutMs: number;
  /** MODELWATCH_GATEWAY_RETRY_AFTER_S: the Retry-After sent with 503. @default 5 */
  retryAfterS: number;
  /** MODELWATCH_KAFKA_CLIENT_ID. @default 'modelwatch-gateway' */
  kafkaClientId: string;
  /** MODELWATCH_LOG_LEVEL. @default 'info' */
  logLevel: LogLevel;
}

const MIB = 1024 * 1024;
const brokerList = /^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/;

export const gatewayEnvSchema = z.object({
  MODELWATCH_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  MODELWATCH_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(4318),
  MODELWATCH_GATEWAY_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * MIB),
  MODELWATCH_GATEWAY_AUTH_TOKEN: z.string().min(1).optional(),
  MODELWATCH_GATEWAY_PUBLISH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  MODELWATCH_GATEWAY_RETRY_AFTER_S: z.coerce.number().int().positive().default(5),
  KAFKA_BROKERS: z
    .string({ message: 'is required (comma-separated host:port list, e.g. 127.0.0.1:9092)' })
    .transform((value) => value.replace(/\s+/g, ''))
    .pipe(
      z
        .string()
        .regex(brokerList, { message: 'must be a comma-separated host:port list, e.g. 127.0.0.1:9092' }),
    ),
  MODELWATCH_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, { message: 'must be a Kafka topic name (letters, digits, . _ -)' })
    .default(DEFAULT_TOPIC),
  MODELWATCH_TOPIC_PARTITIONS: z.coerce.number().int().positive().max(10_000).default(6),
  MODELWATCH_KAFKA_CLIENT_ID: z.string().min(1).default('modelwatch-gateway'),
  MODELWATCH_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
});

const GATEWAY_PREFIX = 'MODELWATCH_GATEWAY_';

export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv): GatewayConfig {
  // Empty strings count as unset: compose files and shells often export VAR= .
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const problems: string[] = [];
  const known = new Set(Object.keys(gatewayEnvSchema.shape));
  for (const key of Object.keys(cleaned)) {
    if (key.startsWith(GATEWAY_PREFIX) && !known.has(key))
      problems.push(`${key}: unknown variable (misspelt?)`);
  }
  const parsed = gatewayEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      problems.push(`${issue.path.join('.') || '(env)'}: ${issue.message}`);
  }
  if (problems.length > 0 || !parsed.success) {
    throw new IngestError('CONFIG_INVALID', `invalid gateway configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    host: e.MODELWATCH_GATEWAY_HOST,
    port: e.MODELWATCH_GATEWAY_PORT,
    maxBodyBytes: e.MODELWATCH_GATEWAY_MAX_BODY_BYTES,
    authToken: e.MODELWATCH_GATEWAY_AUTH_TOKEN,
    brokers: e.KAFKA_BROKERS.split(','),
    topic: e.MODELWATCH_TOPIC,
    topicPartitions: e.MODELWATCH_TOPIC_PARTITIONS,
    publishTimeoutMs: e.MODELWATCH_GATEWAY_PUBLISH_TIMEOUT_MS,
    retryAfterS: e.MODELWATCH_GATEWAY_RETRY_AFTER_S,
    kafkaClientId: e.MODELWATCH_KAFKA_CLIENT_ID,
    logLevel: e.MODELWATCH_LOG_LEVEL,
  };
}
