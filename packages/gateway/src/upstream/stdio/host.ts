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
  /** Supervisors with a process running: what `close()` must end. */
  readonly #active = new Set<ServiceSupervisor>();
  #stopping = false;
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
    let supervisor: ServiceSupervisor | undefined;
    return (options, events): UpstreamTransport => {
      // One supervisor per connection, made with its first transport: it remembers crashes across reconnects.
      supervisor ??= new ServiceSupervisor({
        service,
        spec,
        logger,
        pidFile: this.#pidFile,
        backoff,
        graceMs,
        maxLineBytes: options.limits.maxResponseBytes,
        onActive: (which, active) => (active ? this.#active.add(which) : this.#active.delete(which)),
        stopping: () => this.#stopping,
      });
      const common = { service, limits: options.limits, logger };
      if (spec.stdio !== 'per-session') return new StdioTransport({ ...common, spawn: supervisor.spawner(supervisor.shared, 'shared') }, events);
      const transport: PerSessionTransport = new PerSessionTransport({ ...common, supervisor, onClose: () => this.#perSession.delete(transport) }, events);
      this.#perSession.add(transport);
      return transport;
    };
  }

  /** A client's MCP session closed: the processes it had of per-session services end. */
  endSession(sessionId: string): void {
    for (const transport of this.#perSession) transport.endSession(sessionId);
  }

  /** Ends every process of every command service. */
  async close(): Promise<void> {
    this.#stopping = true;
    const supervisors = [...this.#active];
    this.#perSession.clear();
    await Promise.allSettled(supervisors.map((supervisor) => supervisor.close()));
  }
}
