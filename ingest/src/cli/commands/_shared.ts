/**
 * Flags several commands share, declared once (`as const satisfies` keeps their types in `run`), and the
 * helpers that turn them into validated configuration. Flags override the environment variable of the
 * same meaning; the env-based config modules then validate both and name the bad variable.
 */
import type { ArgDef } from 'citty';
import { openClickHouse, type ClickHouseHandle } from '../../clickhouse/client.js';
import { clickHouseConfigFromEnv, type ClickHouseConfig } from '../../clickhouse/config.js';
import { IngestError } from '../../errors.js';
import type { LogLevel } from '../../log.js';

/** Where ClickHouse is: a server (URL) or the embedded engine's data folder. */
export const storeArgs = {
  'clickhouse-url': {
    type: 'string',
    description:
      'ClickHouse server URL, e.g. http://localhost:8123 (env CLICKHOUSE_URL); without it the embedded engine is used',
    valueHint: 'url',
  },
  'data-dir': {
    type: 'string',
    description: 'embedded engine data folder (env MODELWATCH_DATA_DIR; default .modelwatch/clickhouse)',
    valueHint: 'dir',
  },
  database: { type: 'string', description: 'database name (env CLICKHOUSE_DATABASE; default otel)' },
} as const satisfies Record<string, ArgDef>;

export interface StoreFlags {
  'clickhouse-url'?: string | undefined;
  'data-dir'?: string | undefined;
  database?: string | undefined;
}

/** The environment with the store flags laid over it (flags win). */
export function envWithStoreFlags(
  flags: StoreFlags,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return {
    ...env,
    ...(flags['clickhouse-url'] !== undefined ? { CLICKHOUSE_URL: flags['clickhouse-url'] } : {}),
    ...(flags['data-dir'] !== undefined ? { MODELWATCH_DATA_DIR: flags['data-dir'] } : {}),
    ...(flags.database !== undefined ? { CLICKHOUSE_DATABASE: flags.database } : {}),
  };
}

export function clickHouseConfigFromFlags(
  flags: StoreFlags,
  env: NodeJS.ProcessEnv = process.env,
): ClickHouseConfig {
  return clickHouseConfigFromEnv(envWithStoreFlags(flags, env));
}

/** Opens the store, runs `fn`, always closes it. */
export async function withStore<T>(
  flags: StoreFlags,
  fn: (handle: ClickHouseHandle) => Promise<T>,
): Promise<T> {
  const handle = await openClickHouse(clickHouseConfigFromFlags(flags));
  try {
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

/**
 * Every value of a repeatable flag (`--param a=1 --param b=2`): citty keeps only the last one, so the raw
 * arguments are read again.
 */
export function repeatedFlag(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] ?? '';
    if (arg === `--${name}`) {
      const next = rawArgs[i + 1];
      if (next === undefined) throw new IngestError('CONFIG_INVALID', `--${name} needs a value`);
      values.push(next);
      i++;
    } else if (arg.startsWith(`--${name}=`)) {
      values.push(arg.slice(name.length + 3));
    }
  }
  return values;
}

/** A positive integer flag, or undefined when absent. Names the flag and the bad value. */
export function positiveIntFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new IngestError('CONFIG_INVALID', `--${flag}: "${value}" is not a positive integer`);
  return n;
}

/** A positive number flag (fractions allowed), or undefined when absent. */
export function positiveNumberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new IngestError('CONFIG_INVALID', `--${flag}: "${value}" is not a positive number`);
  return n;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** MODELWATCH_LOG_LEVEL (or --log-level laid over it), validated. @default 'info' */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  const value = env.MODELWATCH_LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new IngestError(
      'CONFIG_INVALID',
      `MODELWATCH_LOG_LEVEL: "${value}" is not one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  return value as LogLevel;
}
