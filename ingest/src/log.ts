/**
 * Structured JSON logs (pino) for the gateway, consumer and CLI. One factory so every component logs the
 * same fields; the level comes from MODELWATCH_LOG_LEVEL via the caller's config, never read here.
 */
import { pino, type Logger } from 'pino';

export type { Logger };
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(component: string, level: LogLevel = 'info'): Logger {
  return pino({ name: `modelwatch-${component}`, level, base: { component } });
}

/** A logger that writes nothing, for tests and for library use without logging. */
export const silentLogger: Logger = pino({ level: 'silent' });
