/**
 * Where ClickHouse is and how the schema is rendered, from the environment. Parsed once at the edge;
 * nothing below reads process.env. Every problem is reported together, naming the variable.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_DATABASE } from '../names.js';
import { IngestError } from '../errors.js';

export interface ClickHouseConfig {
  /** Server URL (http(s)://host:8123). Undefined → the embedded engine (chdb) in `dataDir`. */
  url: string | undefined;
  username: string | undefined;
  password: string | undefined;
  /** @default 'otel' */
  database: string;
  /** Embedded engine data folder. @default '<cwd>/.modelwatch/clickhouse' */
  dataDir: string;
  /** Cluster name: migrations run ON CLUSTER with Replicated engines. @default undefined */
  cluster: string | undefined;
  /** @default 30 */
  tracesTtlDays: number;
  /** @default 90 */
  llmCallsTtlDays: number;
  /** @default 400 */
  rollupTtlDays: number;
  /** Per-request timeout for the server client. @default 30000 */
  requestTimeoutMs: number;
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Env variable → schema; the keys are the variable names so error messages name them. */
export const clickHouseEnvSchema = z.object({
  CLICKHOUSE_URL: z
    .string()
    .url({ message: 'must be a URL such as http://localhost:8123' })
    .refine((u) => /^https?:/.test(u), { message: 'must use http:// or https://' })
    .optional(),
  CLICKHOUSE_USER: z.string().min(1).optional(),
  CLICKHOUSE_PASSWORD: z.string().optional(),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(identifier, { message: 'must be a plain identifier (letters, digits, _)' })
    .default(DEFAULT_DATABASE),
  MODELWATCH_DATA_DIR: z.string().min(1).optional(),
  MODELWATCH_CLICKHOUSE_CLUSTER: z
    .string()
    .regex(identifier, { message: 'must be a plain identifier (letters, digits, _)' })
    .optional(),
  MODELWATCH_TRACES_TTL_DAYS: positiveInt(30),
  MODELWATCH_LLM_CALLS_TTL_DAYS: positiveInt(90),
  MODELWATCH_ROLLUP_TTL_DAYS: positiveInt(400),
  MODELWATCH_CLICKHOUSE_TIMEOUT_MS: positiveInt(30_000),
});

/** Turns zod issues into one message that names every bad variable. */
export function formatEnvIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`).join('; ');
}

export function clickHouseConfigFromEnv(
  env: NodeJS.ProcessEnv,
  cwd: string = process.cwd(),
): ClickHouseConfig {
  // Empty strings count as unset: compose files and shells often export VAR= .
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = clickHouseEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new IngestError(
      'CONFIG_INVALID',
      `invalid ClickHouse configuration: ${formatEnvIssues(parsed.error)}`,
    );
  }
  const e = parsed.data;
  return {
    url: e.CLICKHOUSE_URL,
    username: e.CLICKHOUSE_USER,
    password: e.CLICKHOUSE_PASSWORD,
    database: e.CLICKHOUSE_DATABASE,
    dataDir: resolve(cwd, e.MODELWATCH_DATA_DIR ?? '.modelwatch/clickhouse'),
    cluster: e.MODELWATCH_CLICKHOUSE_CLUSTER,
    tracesTtlDays: e.MODELWATCH_TRACES_TTL_DAYS,
    llmCallsTtlDays: e.MODELWATCH_LLM_CALLS_TTL_DAYS,
    rollupTtlDays: e.MODELWATCH_ROLLUP_TTL_DAYS,
    requestTimeoutMs: e.MODELWATCH_CLICKHOUSE_TIMEOUT_MS,
  };
}
