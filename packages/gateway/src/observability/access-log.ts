import { createLogger, type LogDestination, loggingFromEnv, stdoutDestination } from '@meshgate/service-kit';
import pino, { type Logger } from 'pino';

/** A logger for the access log, and how to push out what it holds. */
export interface AccessLogger {
  readonly logger: Logger;
  /** Writes what is buffered now (on shutdown). */
  flush(): void;
}

/** How long a buffered line may wait at low traffic. */
const FLUSH_EVERY_MS = 500;
/** Lines are written in batches of about this many bytes. */
const BATCH_BYTES = 4_096;

/**
 * The access log's own logger, for JSON output: the process's level, the same `name`,
 * `pid` and `hostname`, but lean and buffered. Lean: no redaction paths and no key-clash
 * hook, because every field of an access-log line is the gateway's own (ids, names,
 * numbers; never a header or an argument); those two cost more per line than the rest of
 * the line. Buffered: lines go to stdout in 4 KiB writes rather than one `write(2)` per
 * request, waiting at most 500 ms, flushed on shutdown (a SIGKILL can lose the last of
 * them; the audit log, not this, is the record). Pretty output (a terminal) uses the
 * process's ordinary logger.
 */
export function bufferedAccessLogger(name: string, env: NodeJS.ProcessEnv = process.env, out: LogDestination = stdoutDestination()): AccessLogger {
  const logging = loggingFromEnv(env);
  if (!logging.ok || logging.value.format === 'pretty') return { logger: createLogger({ name }), flush: () => undefined };
  // Batches go through the process's non-blocking stdout destination: a reader that stopped
  // reading costs dropped lines, never a process that cannot stop (service-kit log-destination.ts).
  let pending = '';
  const drain = () => {
    if (pending === '') return;
    out.write(pending);
    pending = '';
  };
  const logger = pino(
    { name, level: logging.value.level },
    {
      write(line: string) {
        pending += line;
        if (pending.length >= BATCH_BYTES) drain();
      },
    },
  );
  const timer = setInterval(drain, FLUSH_EVERY_MS);
  timer.unref();
  return {
    logger,
    flush: () => {
      clearInterval(timer);
      drain();
    },
  };
}
