import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { CommandSpec } from '../../model/service.js';
import { childEnvironment } from './environment.js';
import { LineSplitter } from './lines.js';
import { GUARD_ENTRY, GUARD_PREFIX, signalGroup } from './process-group.js';

/** What the supervisor needs to run one process. */
export interface ChildOptions {
  service: string;
  spec: CommandSpec;
  logger: Logger;
  /** Longest stdout line read; longer ones are skipped and logged. */
  maxLineBytes: number;
  /** SIGTERM to SIGKILL. */
  graceMs: number;
  /** Each stdout line, a JSON-RPC message if the server behaves. */
  onLine(line: string): void;
  /** A stdout line over `maxLineBytes` was dropped; `head` is its start. */
  onSkipped(head: string): void;
}

/** Why a process ended, in words for logs and errors. */
export interface ChildExit {
  reason: string;
  /** How long it ran. */
  ranMs: number;
}

/** At most this many stderr lines per window are logged; the rest are counted and said once. */
const STDERR_LINES_PER_WINDOW = 50;
const STDERR_WINDOW_MS = 10_000;
const MAX_STDERR_LINE = 2_000;
const PIPE_CLOSE_WAIT_MS = 1_000;

/**
 * One running command: started through the guard as the leader of its own process group
 * (`detached`), with only the configured environment; stdout read as bounded lines, stderr
 * logged under the service's name (bounded and rate-limited), and an end that takes the
 * whole group with it.
 */
export class StdioChild {
  readonly pgid: number;
  /** Resolves once the process has exited and its pipes are closed. */
  readonly exited: Promise<ChildExit>;
  readonly #process: ChildProcess;
  readonly #options: ChildOptions;
  readonly #started = Date.now();
  /** What the guard said about the command's end or start failure. */
  #guardSays: string | undefined;
  #done = false;
  #terminating = false;
  #stderrWindow = { start: Date.now(), lines: 0, dropped: 0 };

  /** Throws if the guard itself cannot be started (no pid). */
  constructor(options: ChildOptions) {
    this.#options = options;
    const { spec } = options;
    const child = spawn(process.execPath, [GUARD_ENTRY, String(process.pid), String(options.graceMs), spec.command, ...spec.args], {
      env: childEnvironment(spec.env),
      ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // a new process group, led by the guard
    });
    this.#process = child;
    this.exited = new Promise((resolve) => {
      const ended = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.#done) return;
        this.#done = true;
        const own = signal === null ? `exited with code ${code}` : `was ended by ${signal}`;
        resolve({ reason: this.#guardSays ?? `the process ${own}`, ranMs: Date.now() - this.#started });
      };
      // 'close' waits for the pipes, so the guard's last line is in; a process that left the
      // group could hold them open for ever, so the exit itself is enough after a moment.
      child.once('close', ended);
      child.once('exit', (code, signal) => {
        // Whatever the command left in its group goes too (the guard normally did it already).
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        setTimeout(() => ended(code, signal), PIPE_CLOSE_WAIT_MS).unref();
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (child.pid !== undefined) return; // 'close' follows and says it
        this.#done = true;
        resolve({ reason: `the process could not be started (${error.code ?? error.message})`, ranMs: 0 });
      });
    });
    this.pgid = child.pid ?? 0;
    const stdout = new LineSplitter(options.maxLineBytes, {
      line: (line) => options.onLine(line),
      skipped: (bytes, head) => {
        options.logger.warn(
          { service: options.service, bytes, limit: options.maxLineBytes },
          `service "${options.service}" wrote a line over the limit; skipped`,
        );
        options.onSkipped(head);
      },
    });
    child.stdout?.on('data', (chunk: Buffer) => stdout.write(chunk));
    child.stdout?.on('end', () => stdout.end());
    const stderr = new LineSplitter(MAX_STDERR_LINE, { line: (line) => this.#stderrLine(line), skipped: () => this.#stderrLine('[a line too long to log]') });
    child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));
    // A write to a process that is gone: its exit is reported by 'close'.
    child.stdin?.on('error', () => undefined);
  }

  get pid(): number {
    return this.pgid;
  }

  get running(): boolean {
    return !this.#done;
  }

  /** Whether the gateway asked it to end (so its end is no crash). */
  get terminating(): boolean {
    return this.#terminating;
  }

  /** Writes one line to the process's stdin; false when it cannot take it any more. */
  send(line: string): boolean {
    const stdin = this.#process.stdin;
    if (this.#done || stdin === null || stdin.destroyed || !stdin.writable) return false;
    stdin.write(`${line}\n`);
    return true;
  }

  /**
   * Ends the process group: stdin closed (a well-behaved server exits on that), SIGTERM to
   * the group, SIGKILL to it after the grace period. Resolves when the process has exited.
   */
  async terminate(): Promise<ChildExit> {
    this.#terminating = true;
    if (!this.#done) {
      this.#process.stdin?.end();
      signalGroup(this.pgid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(this.pgid, 'SIGKILL'), this.#options.graceMs);
      timer.unref();
      void this.exited.finally(() => clearTimeout(timer));
    }
    return this.exited;
  }

  #stderrLine(line: string): void {
    const { logger, service } = this.#options;
    if (line.startsWith(GUARD_PREFIX)) {
      this.#guardSays = line.slice(GUARD_PREFIX.length).trim();
      return;
    }
    const window = this.#stderrWindow;
    const now = Date.now();
    if (now - window.start >= STDERR_WINDOW_MS) {
      if (window.dropped > 0)
        logger.warn({ service, dropped: window.dropped }, `service "${service}" wrote ${window.dropped} more stderr lines than are logged`);
      this.#stderrWindow = { start: now, lines: 0, dropped: 0 };
    }
    const current = this.#stderrWindow;
    if (current.lines >= STDERR_LINES_PER_WINDOW) {
      current.dropped += 1;
      return;
    }
    current.lines += 1;
    logger.info({ service, childPid: this.pgid, stderr: line }, `[${service}] ${line}`);
  }
}
