import type { Logger } from 'pino';
import type { CommandSpec } from '../../model/service.js';
import { ConnectionClosedError } from '../errors.js';
import { StdioChild } from './child.js';
import type { PidFile } from './pid-file.js';
import type { Spawner } from './stdio-transport.js';

/** How long a process must have run for its end to count as a fresh failure rather than one more of a crash loop. */
export const STABLE_AFTER_MS = 30_000;

export interface RestartBackoff {
  /** The wait after a first crash... */
  minMs: number;
  /** ...doubling with each crash in a row, up to this. */
  maxMs: number;
}

/** A start refused while a crashed process waits out its backoff: to the connection, the service is still gone. */
export class RestartPendingError extends ConnectionClosedError {
  override readonly name: string = 'RestartPendingError';
}

/**
 * Crashes in a row of one process slot (the service's shared process, or one session's),
 * and when the next start is allowed. A process that ran for `STABLE_AFTER_MS` resets the
 * count. Pure bookkeeping: the caller passes the clock.
 */
export class CrashHistory {
  crashes = 0;
  notBefore = 0;
  lastReason: string | undefined;

  constructor(readonly backoff: RestartBackoff) {}

  /** Records an end the gateway did not ask for; returns the wait before the next start. */
  crashed(reason: string, ranMs: number, now: number): number {
    this.crashes = ranMs >= STABLE_AFTER_MS ? 1 : this.crashes + 1;
    this.lastReason = reason;
    const wait = Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** (this.crashes - 1));
    this.notBefore = now + wait;
    return wait;
  }

  /** Why a start must wait now, or undefined when it may go ahead. */
  refusal(now: number): string | undefined {
    if (now >= this.notBefore) return undefined;
    const seconds = ((this.notBefore - now) / 1000).toFixed(1);
    const times = this.crashes === 1 ? 'once' : `${this.crashes} times in a row`;
    return `the process ended (${this.lastReason ?? 'unknown reason'}) ${times}; restarting in ${seconds} s`;
  }
}

export interface SupervisorOptions {
  service: string;
  spec: CommandSpec;
  logger: Logger;
  pidFile: PidFile;
  backoff: RestartBackoff;
  graceMs: number;
  maxLineBytes: number;
  /** Told when the first process starts and when the last one has ended (the host keeps the running ones). */
  onActive?: (supervisor: ServiceSupervisor, active: boolean) => void;
  /** True once the gateway is stopping: nothing more starts. */
  stopping?: () => boolean;
}

/**
 * Runs the processes of one command service's connection (it outlives the connection's
 * transports, so a crash loop's history survives the reconnects): starts them (through the guard, in their own
 * process groups, recorded in the pid file), tells a crash from an end the gateway asked
 * for, and refuses a start while a crashed slot waits out its backoff, so that the
 * connection above sees the service `down` and retries on its own schedule. `close()` ends
 * every process it started.
 */
export class ServiceSupervisor {
  readonly #options: SupervisorOptions;
  readonly #children = new Set<StdioChild>();
  #closed = false;
  /** The shared process's slot. */
  readonly shared: CrashHistory;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.shared = new CrashHistory(options.backoff);
  }

  get spec(): CommandSpec {
    return this.#options.spec;
  }

  /** Live processes (shared and per-session). */
  get running(): number {
    return this.#children.size;
  }

  /** A spawner for one slot: throws while the slot waits out a crash, or once closed. */
  spawner(history: CrashHistory, label: string): Spawner {
    return (onLine, onSkipped) => {
      const { service, spec, logger, pidFile, graceMs, maxLineBytes } = this.#options;
      if (this.#closed || this.#options.stopping?.() === true)
        throw new ConnectionClosedError(`service "${service}" is being removed or the gateway is stopping`);
      const refusal = history.refusal(Date.now());
      if (refusal !== undefined) throw new RestartPendingError(refusal);
      const child = new StdioChild({ service, spec, logger, graceMs, maxLineBytes, onLine, onSkipped });
      if (child.pgid === 0) {
        history.crashed('the guard process could not be started', 0, Date.now());
        throw new ConnectionClosedError(`could not start the process of service "${service}"`);
      }
      this.#children.add(child);
      if (this.#children.size === 1) this.#options.onActive?.(this, true);
      pidFile.add(child.pgid, service);
      logger.info(
        { service, childPid: child.pgid, process: label, command: spec.command },
        `started the ${label} process of service "${service}" (pid ${child.pgid})`,
      );
      void child.exited.then(({ reason, ranMs }) => {
        this.#children.delete(child);
        if (this.#children.size === 0) this.#options.onActive?.(this, false);
        pidFile.remove(child.pgid);
        if (child.terminating || this.#closed) {
          logger.info({ service, childPid: child.pgid, process: label }, `the ${label} process of service "${service}" ended`);
          return;
        }
        const wait = history.crashed(reason, ranMs, Date.now());
        logger.warn(
          { service, childPid: child.pgid, process: label, reason, crashes: history.crashes, restartInMs: wait },
          `the ${label} process of service "${service}" ended: ${reason}`,
        );
      });
      return child;
    };
  }

  /** Ends every process of the service and refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#children].map((child) => child.terminate()));
  }
}
