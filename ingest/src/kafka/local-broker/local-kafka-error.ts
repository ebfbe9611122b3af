/** Why the local broker could not be fetched, started or stopped. */
export type LocalKafkaErrorCode =
  | 'JAVA_MISSING'
  | 'JAVA_TOO_OLD'
  | 'MAVEN_MISSING'
  | 'FETCH_FAILED'
  | 'FORMAT_FAILED'
  | 'PORT_IN_USE'
  | 'DATA_DIR_IN_USE'
  | 'BROKER_EXITED'
  | 'BROKER_START_TIMEOUT'
  | 'NOT_RUNNING';

/**
 * Every failure of the local broker tooling. None is retriable by the caller as-is: each needs a human
 * (install something, free a port or data dir, read the quoted broker log), so the message says what to do.
 */
export class LocalKafkaError extends Error {
  override readonly name = 'LocalKafkaError';
  readonly retriable = false;

  constructor(
    readonly code: LocalKafkaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Appended to every "cannot run Kafka here" message. */
export const DOCKER_ALTERNATIVE =
  'Alternatively, with Docker: `docker compose up -d kafka` and set KAFKA_BROKERS=localhost:9094.';
