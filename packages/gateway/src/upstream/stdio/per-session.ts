import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import { ConnectionClosedError, classifyUpstreamError, describeCause } from '../errors.js';
import { answerServiceRequest } from '../relay.js';
import type { CallOptions, TransportEvents, TransportLimits, UpstreamHandshake, UpstreamTransport } from '../transport.js';
import { StdioTransport } from './stdio-transport.js';
import { CrashHistory, type ServiceSupervisor } from './supervisor.js';

/** The methods a session's own process serves; lists, subscriptions and pings stay with the shared one. */
const SESSION_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read', 'completion/complete']);
/** Processes one per-session service may run for sessions at once, besides its shared one. */
export const MAX_SESSION_PROCESSES = 100;

export interface PerSessionOptions {
  service: string;
  limits: TransportLimits;
  logger: Logger;
  supervisor: ServiceSupervisor;
  /** Called once when this transport closes. */
  onClose?: () => void;
}

/**
 * A `per-session` command service: a shared process opens the connection's session and
 * supplies the catalog (lists, probes, subscriptions, sessionless calls); each client MCP
 * session gets a process of its own on its first call, ended when the client's session
 * closes (`endSession`) or this transport does. A session process that dies fails only
 * that session's calls (as a JSON-RPC internal error, so the service is not marked down for
 * everyone); the session's next call starts a new one, after a backoff if it keeps dying.
 */
export class PerSessionTransport implements UpstreamTransport {
  readonly #options: PerSessionOptions;
  readonly #events: TransportEvents;
  readonly #shared: StdioTransport;
  readonly #sessions = new Map<string, Promise<StdioTransport>>();
  readonly #histories = new Map<string, CrashHistory>();
  #closed = false;

  constructor(options: PerSessionOptions, events: TransportEvents) {
    this.#options = options;
    this.#events = events;
    const { supervisor } = options;
    this.#shared = new StdioTransport({ ...options, spawn: supervisor.spawner(supervisor.shared, 'shared') }, events);
  }

  /** Sessions with a process (started or starting). */
  get sessions(): number {
    return this.#sessions.size;
  }

  start(signal?: AbortSignal): Promise<UpstreamHandshake> {
    return this.#shared.start(signal);
  }

  async request(method: string, params: Record<string, unknown> | undefined, options: CallOptions = {}): Promise<Record<string, unknown>> {
    const id = options.sessionId;
    if (id === undefined || !SESSION_METHODS.has(method)) return this.#shared.request(method, params, options);
    try {
      const transport = await this.#forSession(id);
      return await transport.request(method, params, options);
    } catch (error) {
      if (classifyUpstreamError(error).kind !== 'transport') throw error;
      // Only this session's process is gone: say so to this client, without taking the service down.
      throw new ProtocolError(
        ProtocolErrorCode.InternalError,
        `The process of service "${this.#options.service}" for this session ended (${describeCause(error)}); the next call starts a new one`,
      );
    }
  }

  notify(method: string, params: Record<string, unknown> | undefined): void {
    this.#shared.notify(method, params);
  }

  /** The client's session closed: its process ends. */
  endSession(id: string): void {
    const transport = this.#sessions.get(id);
    this.#sessions.delete(id);
    this.#histories.delete(id);
    void transport?.then((started) => started.close()).catch(() => undefined);
  }

  async close(drain = false): Promise<void> {
    if (!this.#closed) this.#options.onClose?.();
    this.#closed = true;
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled([this.#shared.close(drain), ...sessions.map((session) => session.then((started) => started.close(drain)))]);
  }

  #forSession(id: string): Promise<StdioTransport> {
    const existing = this.#sessions.get(id);
    if (existing !== undefined) return existing;
    if (this.#closed) return Promise.reject(new ConnectionClosedError('the service is being removed'));
    if (this.#sessions.size >= MAX_SESSION_PROCESSES) {
      return Promise.reject(
        new ProtocolError(
          ProtocolErrorCode.InternalError,
          `Service "${this.#options.service}" already runs ${MAX_SESSION_PROCESSES} session processes; try again later`,
        ),
      );
    }
    const { service, supervisor } = this.#options;
    const history = this.#histories.get(id) ?? new CrashHistory(supervisor.shared.backoff);
    this.#histories.set(id, history);
    let transport: StdioTransport | undefined;
    const forget = () => {
      if (this.#sessions.get(id) === started) this.#sessions.delete(id);
    };
    transport = new StdioTransport(
      {
        ...this.#options,
        spawn: supervisor.spawner(history, 'session'),
        // The service's requests go to this session's client: any call of the session in flight is it.
        answer: (method, params, callers) => answerServiceRequest(service, method, params, callers.at(-1)),
      },
      {
        notification: (method, params) => {
          if (!method.endsWith('/list_changed')) this.#events.notification(method, params); // the catalog is the shared process's
        },
        request: (method, params) => answerServiceRequest(service, method, params, undefined),
        sessionLost: forget,
      },
    );
    const started: Promise<StdioTransport> = transport.start().then(
      () => transport,
      async (error: unknown) => {
        forget();
        await transport?.close();
        throw error;
      },
    );
    this.#sessions.set(id, started);
    return started;
  }
}
