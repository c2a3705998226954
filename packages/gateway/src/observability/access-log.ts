import { createLogger } from '@meshgate/service-kit';
import pino, { type Logger } from 'pino';

/** A logger for the access log, and how to push out what it holds. */
export interface AccessLogger {
  readonly logger: Logger;
  /** Writes what is buffered now (on shutdown). */
  flush(): void;
}

/** How long a buffered line may wait at low traffic. */
const FLUSH_EVERY_MS = 500;

/**
 * The access log's own logger: the process's format, level and redaction (service-kit's
 * `createLogger`), but JSON lines go to stdout through a buffer written in 4 KiB pieces
 * rather than one write per line. One `write(2)` per request was most of the access
 * log's cost (docs/performance.md). Lines wait at most 500 ms, and are flushed on
 * shutdown; a SIGKILL can lose the last of them (the audit log, not this, is the record).
 * Pretty output (a terminal) stays synchronous.
 */
export function bufferedAccessLogger(name: string): AccessLogger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const logger = createLogger({ name, destination });
  const timer = setInterval(() => destination.flush(), FLUSH_EVERY_MS);
  timer.unref();
  return {
    logger,
    flush: () => {
      clearInterval(timer);
      try {
        destination.flushSync();
      } catch {
        // Nothing was written yet, or stdout is gone: nothing to save.
      }
    },
  };
}
