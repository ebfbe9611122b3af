/**
 * What the producer (gateway/publish-spans.ts) and the consumer (consumer/run-consumer.ts) share about their
 * kafkajs client: the client config with kafkajs' logs routed to pino, and reading a kafkajs error's type.
 * Types only from kafkajs here: those two files stay the only ones that load it.
 */
import type { KafkaConfig, LogEntry, logLevel } from 'kafkajs';
import type { Logger } from '../log.js';

// kafkajs' logLevel values (its enum is a runtime object; this file only imports types).
const LOG_LEVEL = { error: 1 as logLevel.ERROR, warn: 2 as logLevel.WARN, info: 4 as logLevel.INFO };

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
  /** The most verbose kafkajs level passed on to the logger. */
  level: 'warn' | 'info';
}

/** kafkajs log entries -> pino; kafkajs logs a broker outage at ERROR on every retry: a warning here. */
function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, ...extra } = log;
      const fields = { kafkaNamespace: namespace, ...extra };
      if (level === LOG_LEVEL.error || level === LOG_LEVEL.warn) logger.warn(fields, message);
      else if (level === LOG_LEVEL.info) logger.debug(fields, message);
      else logger.trace(fields, message);
    };
}

/** `new Kafka(...)`'s config: `options` plus `extra` (timeouts, retry). */
export function kafkaClientConfig(
  options: KafkaClientOptions,
  extra: Omit<KafkaConfig, 'clientId' | 'brokers' | 'logLevel' | 'logCreator'> = {},
): KafkaConfig {
  return {
    ...extra,
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: LOG_LEVEL[options.level],
    logCreator: kafkaLogCreator(options.logger),
  };
}

/** The innermost kafkajs protocol error type (MESSAGE_TOO_LARGE, ...), through retry wrappers; '' if none. */
export function kafkaErrorType(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const typed = current as { type?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof typed.type === 'string') return typed.type;
    current = typed.originalError ?? typed.cause;
  }
  return '';
}
