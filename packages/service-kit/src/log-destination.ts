import { Writable } from 'node:stream';

/** Log output waiting for a reader, at most; past it lines are dropped and counted. */
export const MAX_LOG_BACKLOG_BYTES = 8 * 1024 * 1024;

/** What a log destination writes to: process.stdout, or a stand-in in tests. */
export interface LogSink {
  readonly writableLength: number;
  write(chunk: string): boolean;
  on(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown;
}

/** Where pino writes: one line at a time, never waiting. */
export interface LogDestination {
  write(line: string): void;
  /** Lines dropped so far (no reader, or the reader went away). */
  readonly dropped: number;
}

/**
 * A log destination that never makes the process wait for its reader. pino's own (a
 * sonic-boom on fd 1) writes synchronously or, when the pipe is full, retries in a loop
 * and flushes synchronously at exit: with nobody reading (the parent process killed),
 * the process then ignores SIGTERM and its own exit timer. This one writes through
 * `process.stdout`, which node writes to a pipe asynchronously, keeps at most
 * `maxBacklogBytes` waiting (then drops lines, and says how many once it can write
 * again), stops writing once the reader is gone (EPIPE), and leaves nothing to flush at
 * exit: a log line is never a reason not to stop.
 */
export function stdoutDestination(sink: LogSink = process.stdout, maxBacklogBytes = MAX_LOG_BACKLOG_BYTES): LogDestination {
  let dropped = 0;
  let unreported = 0;
  let gone = false;
  sink.on('error', () => {
    gone = true; // EPIPE and the like: the reader went away; nothing written from now on can arrive
  });
  return {
    write(line) {
      if (gone || sink.writableLength > maxBacklogBytes) {
        dropped += 1;
        unreported += 1;
        return;
      }
      if (unreported > 0) {
        sink.write(`${JSON.stringify({ level: 40, time: Date.now(), msg: `${unreported} log lines dropped: nobody was reading the log` })}\n`);
        unreported = 0;
      }
      sink.write(line);
    },
    get dropped() {
      return dropped;
    },
  };
}

/** The same destination as a Writable, for what pipes into a stream (pino-pretty). */
export function asWritable(destination: LogDestination): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      destination.write(chunk.toString());
      done();
    },
  });
}
