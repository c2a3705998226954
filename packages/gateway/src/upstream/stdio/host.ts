import type { Logger } from 'pino';
import type { CommandSpec } from '../../model/service.js';
import type { TransportFactory, UpstreamTransport } from '../transport.js';
import { PerSessionTransport } from './per-session.js';
import { PidFile } from './pid-file.js';
import { StdioTransport } from './stdio-transport.js';
import { type RestartBackoff, ServiceSupervisor } from './supervisor.js';

/** What the registry needs to run command services: a transport factory per service. */
export interface CommandTransports {
  factoryFor(service: string, spec: CommandSpec): TransportFactory;
}

export interface StdioHostOptions {
  logger: Logger;
  /** Where the pid file lives (next to the registry database); none for an in-memory registry. */
  pidFilePath: string | undefined;
  backoff: RestartBackoff;
  /** SIGTERM to SIGKILL when a process is ended. */
  graceMs?: number;
}

export const DEFAULT_GRACE_MS = 5_000;

/**
 * Every command service of one gateway: one supervisor per connection, the pid file they
 * share, and the hook that ends a client session's processes. Built once in app.ts.
 */
export class StdioHost implements CommandTransports {
  readonly #options: StdioHostOptions;
  readonly #pidFile: PidFile;
  readonly #supervisors = new Set<ServiceSupervisor>();
  readonly #perSession = new Set<PerSessionTransport>();

  constructor(options: StdioHostOptions) {
    this.#options = options;
    this.#pidFile = new PidFile(options.pidFilePath);
  }

  /** Ends what a previous gateway on the same database left running (see pid-file.ts). Call before any service starts. */
  reapLeftovers(): void {
    const reaped = this.#pidFile.reapLeftovers();
    for (const entry of reaped) {
      this.#options.logger.warn(
        { service: entry.service, childPid: entry.pgid },
        `ended a process group of service "${entry.service}" left by a previous gateway`,
      );
    }
  }

  factoryFor(service: string, spec: CommandSpec): TransportFactory {
    const { logger, backoff } = this.#options;
    const graceMs = this.#options.graceMs ?? DEFAULT_GRACE_MS;
    return (options, events): UpstreamTransport => {
      for (const done of [...this.#supervisors].filter((supervisor) => supervisor.finished)) this.#supervisors.delete(done);
      // One supervisor per transport: it lives as long as the session it serves and the processes of it.
      const supervisor = new ServiceSupervisor({
        service,
        spec,
        logger,
        pidFile: this.#pidFile,
        backoff,
        graceMs,
        maxLineBytes: options.limits.maxResponseBytes,
      });
      this.#supervisors.add(supervisor);
      const common = { service, limits: options.limits, logger };
      const transport =
        spec.stdio === 'per-session'
          ? this.#track(new PerSessionTransport({ ...common, supervisor }, events))
          : new StdioTransport({ ...common, spawn: supervisor.spawner(supervisor.shared, 'shared') }, events);
      const close = transport.close.bind(transport);
      transport.close = (drain?: boolean) => {
        supervisor.retire(); // kept in the set until its processes are gone: close() still ends a draining one
        if (transport instanceof PerSessionTransport) this.#perSession.delete(transport);
        return close(drain);
      };
      return transport;
    };
  }

  /** A client's MCP session closed: the processes it had of per-session services end. */
  endSession(sessionId: string): void {
    for (const transport of this.#perSession) transport.endSession(sessionId);
  }

  /** Ends every process of every command service. */
  async close(): Promise<void> {
    const supervisors = [...this.#supervisors];
    this.#supervisors.clear();
    this.#perSession.clear();
    await Promise.allSettled(supervisors.map((supervisor) => supervisor.close()));
  }

  #track(transport: PerSessionTransport): PerSessionTransport {
    this.#perSession.add(transport);
    return transport;
  }
}
