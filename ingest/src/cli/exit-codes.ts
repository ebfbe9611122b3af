/**
 * Exit codes of the `modelwatch` binary — one table, documented in `modelwatch --help` and the README.
 * Codes follow BSD sysexits where one fits, so scripts can tell "fix your config" from "try again later".
 *
 * | code | meaning                                                                 |
 * | ---- | ----------------------------------------------------------------------- |
 * | 0    | success; `report`: no degradation                                       |
 * | 1    | unexpected error (a bug: rerun with MODELWATCH_DEBUG=1 for the stack);   |
 * |      | `demo`: the report differs from the scenario's `expect`                  |
 * | 2    | `report`: a degradation or client-error burst was found                  |
 * | 64   | usage: unknown command or flag, missing argument                        |
 * | 65   | bad input data: invalid scenario, SQL rejected, migration file changed   |
 * | 69   | a service is unavailable: Kafka, ClickHouse, local broker prerequisites  |
 * | 70   | a service failed while working (Kafka error, migration failed);          |
 * |      | `demo`: rows in ClickHouse != calls made                                  |
 * | 77   | `query` tried to change data without --write                            |
 * | 78   | configuration invalid (environment variable or flag value)              |
 * | 130  | interrupted (Ctrl-C)                                                     |
 */
import type { IngestErrorCode } from '../errors.js';
import { IngestError } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_DEGRADED = 2;
export const EXIT_USAGE = 64;
export const EXIT_DATA = 65;
export const EXIT_UNAVAILABLE = 69;
export const EXIT_SERVICE_FAILED = 70;
export const EXIT_NO_PERMISSION = 77;
export const EXIT_CONFIG = 78;
export const EXIT_INTERRUPTED = 130;

/** `satisfies` makes a new IngestErrorCode a compile error here until it gets an exit code. */
export const EXIT_CODE_BY_ERROR = {
  CONFIG_INVALID: EXIT_CONFIG,
  SCENARIO_INVALID: EXIT_DATA,
  QUERY_FAILED: EXIT_DATA,
  READ_ONLY_VIOLATION: EXIT_NO_PERMISSION,
  CLICKHOUSE_REJECTED: EXIT_DATA,
  MIGRATION_CHECKSUM_MISMATCH: EXIT_DATA,
  OTLP_DECODE_FAILED: EXIT_DATA,
  OTLP_INVALID: EXIT_DATA,
  PAYLOAD_TOO_LARGE: EXIT_DATA,
  UNSUPPORTED_MEDIA_TYPE: EXIT_DATA,
  UNAUTHORIZED: EXIT_CONFIG,
  KAFKA_UNAVAILABLE: EXIT_UNAVAILABLE,
  CLICKHOUSE_UNAVAILABLE: EXIT_UNAVAILABLE,
  LOCAL_KAFKA_FAILED: EXIT_UNAVAILABLE,
  KAFKA_FAILED: EXIT_SERVICE_FAILED,
  MIGRATION_FAILED: EXIT_SERVICE_FAILED,
} as const satisfies Record<IngestErrorCode, number>;

/** The exit code for anything a command threw. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof IngestError) return EXIT_CODE_BY_ERROR[error.code];
  // The local broker tooling has its own error class (every one needs a human: install Java, free a port).
  if (error instanceof Error && error.name === 'LocalKafkaError') return EXIT_UNAVAILABLE;
  if (error instanceof Error && error.name === 'CLIError') return EXIT_USAGE;
  return EXIT_INTERNAL;
}

export const EXIT_CODE_HELP = `Exit codes: 0 ok · 1 unexpected error (demo: report differs from the scenario) · 2 degradation
found (report) · 64 usage · 65 bad input (scenario, SQL, changed migration) · 69 Kafka/ClickHouse unavailable ·
70 service failed (demo: rows != calls) ·
77 write without --write · 78 invalid configuration · 130 interrupted`;
