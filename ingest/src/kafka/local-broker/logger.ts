/** What the local broker tooling reports progress to. pino loggers and `console` both fit. */
export interface LocalKafkaLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** The library default: starting a broker inside tests should print nothing. */
export const silentLogger: LocalKafkaLogger = { info: () => {}, warn: () => {} };
