import { ProtocolError, ProtocolErrorCode, Server, type ServerCapabilities, type ServerContext } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError, toRpcError } from '../errors.js';
import type { ListKind, Registry } from '../registry/registry.js';
import type { JsonRpcNotificationMessage, JsonRpcRequestMessage, JsonRpcResponseMessage } from '@meshgate/service-kit';
import type { Downstream } from '../upstream/relay.js';
import type { RequestOptions } from '../upstream/connection.js';
import { INSTRUCTIONS, LIST_METHODS, SERVER_INFO, type Federation, type ListMethod } from './federation.js';
import { SessionState, offers, passesLevel } from './session-state.js';
import { Subscriptions } from './subscriptions.js';

/** Keeps every field the client sent back (sampling, elicitation and roots results). */
const passthrough = z.looseObject({});

/** Which client capability a relayed request needs. */
const NEEDS: Record<string, 'sampling' | 'elicitation' | 'roots'> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

type Params = Record<string, unknown> | undefined;
/** Sends a request or a notification to a session's client. */
type SendRequest = (method: string, params: Params) => Promise<Record<string, unknown>>;
type SendNotification = (method: string, params: Params) => Promise<void>;

/** What a call served by the MCP lane sends its client before the answer. */
export interface LeanClient {
  notify: SendNotification;
  /** Sends a request under `id`; its answer arrives through `SessionServers.leanRespond`. */
  request(id: string, method: string, params: Params): void;
}

/** The forwarded requests, by method: each goes to the service that owns its name or URI. */
const FORWARDED: Record<string, (federation: Federation, identity: GatewayIdentity, params: Params, options: RequestOptions) => Promise<Record<string, unknown>>> = {
  'tools/call': (federation, identity, params, options) => federation.callTool(identity, params, options),
  'prompts/get': (federation, identity, params, options) => federation.getPrompt(identity, params, options),
  'resources/read': (federation, identity, params, options) => federation.readResource(identity, params, options),
  'completion/complete': (federation, identity, params, options) => federation.complete(identity, params, options),
};

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

  constructor(
    private readonly federation: Federation,
    private readonly registry: Registry,
    private readonly logger: Logger,
  ) {
    this.#subscriptions = new Subscriptions(registry, logger);
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
      server.setRequestHandler(method as 'tools/call', (request, ctx) => this.#answer(() => forward(federation, identity, request.params, this.#callOptions(session, ctx))));
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

  /**
   * For the MCP lane (http/mcp-lane.ts): how to answer `message`, a request of the open
   * session whose SDK server is `server`, without that server: lists, ping and the
   * forwarded requests. Undefined when the SDK server must answer (a method this session
   * was not offered, an id already in flight). The work resolves with the answer, or with
   * undefined when the client cancelled the request (no answer is due then). `client`
   * carries what the call sends its client before the answer: log messages, and requests
   * (sampling, elicitation, roots), whose answers come back through `leanRespond`.
   */
  leanPlan(server: object, message: JsonRpcRequestMessage, client: LeanClient): (() => Promise<JsonRpcResponseMessage | undefined>) | undefined {
    const session = this.#states.get(server);
    if (session === undefined || !this.#open.has(session) || !offers(session.capabilities, message.method)) return undefined;
    const { method, params, id } = message;
    const { identity } = session;
    if (method === 'ping') return async () => ({ jsonrpc: '2.0', id, result: {} });
    if ((LIST_METHODS as string[]).includes(method)) return () => this.#leanAnswer(id, () => this.federation.list(method as ListMethod, identity, params));
    const forward = FORWARDED[method];
    if (forward === undefined || session.leanCalls.has(id)) return undefined;
    return async () => {
      const cancel = new AbortController();
      session.leanCalls.set(id, cancel);
      const relayed = new Set<string>();
      const send: SendRequest = (relayedMethod, relayedParams) =>
        new Promise((resolve, reject) => {
          const relayId = session.nextRelayId();
          session.leanRelays.set(relayId, { resolve, reject });
          relayed.add(relayId);
          client.request(relayId, relayedMethod, relayedParams);
        });
      const progressToken = (params?.['_meta'] as { progressToken?: unknown } | undefined)?.progressToken;
      const options: RequestOptions = {
        signal: cancel.signal,
        downstream: this.#downstream(session, send, (m, p) => client.notify(m, p)),
        ...progressTo(progressToken, (m, p) => client.notify(m, p)),
      };
      try {
        return await this.#leanAnswer(id, () => forward(this.federation, identity, params, options));
      } finally {
        session.leanCalls.delete(id);
        // The call is over: its requests to the client that are still unanswered are moot.
        for (const relayId of relayed) {
          const pending = session.leanRelays.get(relayId);
          if (pending === undefined) continue;
          session.leanRelays.delete(relayId);
          pending.reject(new Error('the call ended before the client answered'));
          void client.notify('notifications/cancelled', { requestId: relayId, reason: 'the call ended' });
        }
      }
    };
  }

  /**
   * For the MCP lane and the MCP endpoint (`sessionMessage`): takes a client's message
   * that concerns a call the lane serves (the answer to a request it relayed, or the
   * cancellation of the call); false for any other, which is the SDK server's.
   */
  leanReceive = (server: object, message: JsonRpcResponseMessage | JsonRpcNotificationMessage): boolean => {
    if (!('method' in message)) return this.#leanRespond(server, message);
    return message.method === 'notifications/cancelled' && this.#leanCancel(server, message.params?.['requestId']);
  };

  #leanCancel(server: object, requestId: unknown): boolean {
    const call = typeof requestId === 'string' || typeof requestId === 'number' ? this.#states.get(server)?.leanCalls.get(requestId) : undefined;
    call?.abort();
    return call !== undefined;
  }

  /** The client's answer to a request the lane relayed to it; false if it answers none of those. */
  #leanRespond(server: object, message: JsonRpcResponseMessage): boolean {
    const session = this.#states.get(server);
    const pending = typeof message.id === 'string' ? session?.leanRelays.get(message.id) : undefined;
    if (session === undefined || pending === undefined) return false;
    session.leanRelays.delete(message.id as string);
    const { result, error } = message;
    if (error !== undefined) pending.reject(new ProtocolError(error.code, error.message, error.data));
    else if (typeof result === 'object' && result !== null && !Array.isArray(result)) pending.resolve(result as Record<string, unknown>);
    else pending.reject(new ProtocolError(ProtocolErrorCode.InvalidParams, 'The client answered without a result object'));
    return true;
  }

  async #leanAnswer(id: JsonRpcRequestMessage['id'], work: () => Promise<Record<string, unknown>> | Record<string, unknown>): Promise<JsonRpcResponseMessage | undefined> {
    try {
      return { jsonrpc: '2.0', id, result: await work() };
    } catch (error) {
      const failure = asProtocolError(error, this.logger);
      if (!(failure instanceof ProtocolError)) return undefined; // cancelled by the client
      return { jsonrpc: '2.0', id, error: { code: failure.code, message: failure.message, ...(failure.data === undefined ? {} : { data: failure.data }) } };
    }
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
      ctx.mcpReq.send({ method, ...(params === undefined ? {} : { params }) } as never, passthrough, { signal: ctx.mcpReq.signal }) as Promise<Record<string, unknown>>;
    const notify: SendNotification = (method, params) => ctx.mcpReq.notify({ method, ...(params === undefined ? {} : { params }) } as never);
    return {
      signal: ctx.mcpReq.signal,
      downstream: this.#downstream(session, send, notify),
      ...progressTo(progressToken, notify),
    };
  }

  /**
   * The client of a call, as the service sees it: requests the client did not declare it
   * takes are refused here (`roots/list` answers no roots), and log messages below the
   * level it asked for are dropped.
   */
  #downstream(session: SessionState, send: SendRequest, notify: SendNotification): Downstream {
    return {
      request: async (method, params) => {
        const needed = NEEDS[method];
        if (needed !== undefined && session.server.getClientCapabilities()?.[needed] === undefined) {
          if (method === 'roots/list') return { roots: [] };
          throw new ProtocolError(ProtocolErrorCode.InvalidRequest, `The client of this call does not support ${method}`);
        }
        return send(method, params);
      },
      notify: async (method, params) => {
        if (method === 'notifications/message' && !passesLevel(params?.['level'], session.logLevel)) return;
        await notify(method, params);
      },
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

/** Progress from the service goes to the call's client, under the client's own token (none without one). */
function progressTo(progressToken: unknown, notify: SendNotification): Pick<RequestOptions, 'onprogress'> {
  if (progressToken === undefined) return {};
  return { onprogress: (progress) => void notify('notifications/progress', { progressToken, ...progress }).catch(() => undefined) };
}

function asProtocolError(error: unknown, logger: Logger): unknown {
  if (error instanceof Error && error.name === 'AbortError') return error;
  const rpc = toRpcError(error);
  if (rpc.code === -32603 && !(error instanceof GatewayError)) logger.error({ err: error }, 'request failed');
  return new ProtocolError(rpc.code, rpc.message, rpc.data);
}
