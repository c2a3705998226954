import type { LoggingLevel } from '@modelcontextprotocol/server';

const LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** True when a message of `level` should reach a client that asked for `threshold` and above. */
export function passesLevel(level: unknown, threshold: LoggingLevel | undefined): boolean {
  if (threshold === undefined) return true; // the client never asked: the service's own choice stands
  const at = LEVELS.indexOf(level as LoggingLevel);
  return at === -1 || at >= LEVELS.indexOf(threshold);
}
