import { Server, type ServerCapabilities, type ServerContext } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { ListKind, Registry } from '../registry/registry.js';
import type { RequestOptions } from '../upstream/connection.js';
import { type Federation, INSTRUCTIONS, LIST_METHODS, SERVER_INFO } from './federation.js';
import { asProtocolError, callDownstream, FORWARDED, progressTo, type SendNotification, type SendRequest } from './session-calls.js';
import { SessionLane } from './session-lane.js';
import { offers, SessionState } from './session-state.js';
import { Subscriptions } from './subscriptions.js';

/** Keeps every field the client sent back (sampling, elicitation and roots results). */
const passthrough = z.looseObject({});

/**
 * Builds the SDK server of each client session and keeps track of the open ones: a change
 * of the federated catalog reaches every connected client as `notifications/<kind>/
 * list_changed`, resource updates reach their subscribers, and log messages the services
 * send outside a call reach the clients that asked for logs (and may see that service).
 */
export class SessionServers {
  readonly #open = new Set<SessionState>();
  /** The state of each open session, by its SDK server (what the MCP endpoint knows it by). */
  readonly #states = new WeakMap<object, SessionState>();
  readonly #subscriptions: Subscriptions;
  readonly #unsubscribe: (() => void)[];
  /** What the MCP lane answers of the open sessions, without their SDK servers. */
  readonly lane: SessionLane;

  constructor(
    private readonly federation: Federation,
    private readonly registry: Registry,
    private readonly logger: Logger,
  ) {
    this.#subscriptions = new Subscriptions(registry, logger);
    this.lane = new SessionLane(federation, logger, (server) => {
      const session = this.#states.get(server);
      return session !== undefined && this.#open.has(session) ? session : undefined;
    });
    this.#unsubscribe = [
      registry.onCatalogChange((_catalog, changed) => this.#notifyListsChanged(changed)),
      registry.onNotification((service, method, params) => this.#onServiceNotification(service, method, params)),
    ];
  }

  get size(): number {
    return this.#open.size;
  }

  /** The factory the MCP endpoint calls for each new session. */
  create = (identity: GatewayIdentity): Server => this.#build(identity, true);

  /**
   * A server for one request of the stateless 2026-07-28 revision: the same methods, but
   * not kept open (it has no stream to push list changes or updates to).
   */
  createStateless = (identity: GatewayIdentity): Server => this.#build(identity, false);

  #build(identity: GatewayIdentity, tracked: boolean): Server {
    const capabilities = this.#capabilities();
    const server = new Server(SERVER_INFO, { capabilities, instructions: INSTRUCTIONS });
    const session = new SessionState(server, identity, capabilities);
    const federation = this.federation;

    for (const method of LIST_METHODS) {
      if (offers(capabilities, method)) server.setRequestHandler(method, (request) => this.#answer(() => federation.list(method, identity, request.params)));
    }
    for (const [method, forward] of Object.entries(FORWARDED)) {
      if (!offers(capabilities, method)) continue;
      server.setRequestHandler(method as 'tools/call', (request, ctx) =>
        this.#answer(() => forward(federation, identity, request.params, this.#callOptions(session, ctx))),
      );
    }
    if (capabilities.resources !== undefined) {
      server.setRequestHandler('resources/subscribe', (request) => this.#answer(() => this.#subscribe(session, request.params, true)));
      server.setRequestHandler('resources/unsubscribe', (request) => this.#answer(() => this.#subscribe(session, request.params, false)));
    }
    server.setRequestHandler('logging/setLevel', (request) => {
      session.logLevel = request.params.level;
      return {};
    });
    if (!tracked) return server;
    server.onclose = () => {
      this.#open.delete(session);
      this.#subscriptions.forget(session.subscriber, session.subscribed.values());
      for (const call of session.leanCalls.values()) call.abort();
    };
    this.#open.add(session);
    this.#states.set(server, session);
    return server;
  }

  /** What this gateway can do now: tools and logging always; the rest when some service has it. */
  #capabilities(): ServerCapabilities {
    const { catalog } = this.registry;
    const live = this.registry.list().flatMap((service) => service.connection.capabilities ?? []);
    return {
      tools: { listChanged: true },
      logging: {},
      ...(catalog.prompts.items.length > 0 || live.some((c) => c.prompts !== undefined) ? { prompts: { listChanged: true } } : {}),
      ...(catalog.resources.items.length > 0 || catalog.resourceTemplates.items.length > 0 || live.some((c) => c.resources !== undefined)
        ? { resources: { subscribe: true, listChanged: true } }
        : {}),
      ...(live.some((c) => c.completions !== undefined) ? { completions: {} } : {}),
    };
  }

  /** Options for a call forwarded on behalf of this session: cancellation, progress and relays go to it. */
  #callOptions(session: SessionState, ctx: ServerContext): RequestOptions {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    const send: SendRequest = (method, params) =>
      ctx.mcpReq.send({ method, ...(params === undefined ? {} : { params }) } as never, passthrough, { signal: ctx.mcpReq.signal }) as Promise<
        Record<string, unknown>
      >;
    const notify: SendNotification = (method, params) => ctx.mcpReq.notify({ method, ...(params === undefined ? {} : { params }) } as never);
    return {
      signal: ctx.mcpReq.signal,
      downstream: callDownstream(session, send, notify),
      ...progressTo(progressToken, notify),
    };
  }

  async #subscribe(session: SessionState, params: Record<string, unknown> | undefined, on: boolean): Promise<Record<string, unknown>> {
    const method = on ? 'resources/subscribe' : 'resources/unsubscribe';
    const { uri, target } = this.federation.resolveResource(session.identity, params, method);
    const entry = { service: target.service, upstreamUri: target.upstreamName };
    if (on) {
      await this.#subscriptions.subscribe(entry.service, entry.upstreamUri, session.subscriber, uri);
      session.subscribed.set(uri, entry);
    } else {
      session.subscribed.delete(uri);
      await this.#subscriptions.unsubscribe(entry.service, entry.upstreamUri, session.subscriber);
    }
    return {};
  }

  async #answer(work: () => Promise<Record<string, unknown>> | Record<string, unknown>): Promise<never> {
    try {
      return (await work()) as never;
    } catch (error) {
      throw asProtocolError(error, this.logger);
    }
  }

  #notifyListsChanged(changed: ReadonlySet<ListKind>): void {
    for (const session of this.#open) session.listsChanged(changed);
  }

  #onServiceNotification(service: string, method: string, params: Record<string, unknown>): void {
    if (method === 'notifications/resources/updated' && typeof params['uri'] === 'string') {
      this.#subscriptions.updated(service, params['uri']);
    } else if (method === 'notifications/message') {
      for (const session of this.#open) session.log(service, params);
    }
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#open.clear();
  }
}
