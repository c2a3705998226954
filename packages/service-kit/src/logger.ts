import { type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear. Secrets must never reach a log line,
 * whatever object a caller happens to log (a request, a service record, an error).
 */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'token',
  '*.token',
  'credential',
  '*.credential',
  'upstreamToken',
  '*.upstreamToken',
  'password',
  '*.password',
];

export interface LoggerConfig {
  /** Service name, shown on every line. */
  name: string;
  /** pino level; defaults to LOG_LEVEL or `info`. */
  level?: string;
  /** `pretty` for humans, `json` for machines; defaults to LOG_FORMAT, else pretty on a TTY. */
  format?: 'pretty' | 'json';
}

/** Creates the process logger: JSON by default, readable when a person is watching. */
export function createLogger(config: LoggerConfig): Logger {
  const level = config.level ?? process.env['LOG_LEVEL'] ?? 'info';
  const format = config.format ?? (process.env['LOG_FORMAT'] as LoggerConfig['format'] | undefined) ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const options: LoggerOptions = {
    name: config.name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: config.name },
  };
  if (format === 'pretty') {
    // Synchronous pretty printing: no worker thread, and nothing lost on a fast exit.
    const stream = pretty({
      sync: true,
      colorize: process.stdout.isTTY || process.env['FORCE_COLOR'] === '1',
      ignore: 'pid,hostname,service,name',
      translateTime: 'HH:MM:ss.l',
      singleLine: true,
    });
    return pino(options, stream);
  }
  return pino(options);
}
