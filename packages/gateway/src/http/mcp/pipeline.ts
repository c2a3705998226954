import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptsStream, type JsonRpcMessage, type JsonRpcRequestMessage, type Lane } from '@meshgate/service-kit';
import type { Logger } from 'pino';
import type { GatewayAuth } from '../../auth/authenticator.js';
import type { GatewayIdentity } from '../../auth/tokens.js';
import { GatewayError } from '../../errors.js';
import { gatewayCapabilities, gatewayInstructions, SERVER_INFO } from '../../federation/capabilities.js';
import { unknownVirtualServer, type VirtualServer, type VirtualServers } from '../../federation/virtual-servers.js';
import { virtualServerOf, virtualServerPath } from '../../model/virtual-server.js';
import type { Observer } from '../../observability/observer.js';
import type { RequestRecord } from '../../observability/record.js';
import type { Registry } from '../../registry/registry.js';
import type { Perimeter } from '../../security/index.js';
import type { Dispatcher, RequestMeta } from '../../session/dispatch.js';
import { initializeResult, negotiate } from '../../session/initialize.js';
import type { SessionRegistry } from '../../session/registry.js';
import { eventIdKind, type ReplayStream } from '../../session/replay.js';
import type { Session } from '../../session/session.js';
import { readBody } from './body.js';
import type { ModernEndpoint } from './modern.js';
import { connect, PostReply, SessionStream, StreamConnection, takesPriming } from './reply.js';
import { answerFailure, writeJson } from './respond.js';
import { authenticateStage, authorizeStage, corsStage, eraStage, framingStage, methodStage, perimeterStage, type Stage, sessionIdStage } from './stages.js';

export interface McpPipelineDeps {
  auth: GatewayAuth;
  perimeter: Perimeter;
  registry: Registry;
  sessions: SessionRegistry;
  dispatcher: Dispatcher;
  modern: ModernEndpoint;
  logger: Logger;
  maxBodyBytes: number;
  /** Metrics, traces, access and audit logs (observability/); absent, nothing is observed. */
  observer?: Observer;
  /** The virtual servers served at `/servers/{name}/mcp`; absent, those paths are unknown (404). */
  virtualServers?: VirtualServers;
}

/** A stage's value; its refusal is thrown, rendered by the pipeline, and nothing after it runs. */
export function accept<T>(stage: Stage<T>): T {
  if (!stage.ok) throw stage.error;
  return stage.value;
}

/** The MCP endpoint a request target names: `/mcp` (server undefined), a virtual server's `/servers/{name}/mcp`, or none (undefined). */
function endpointOf(url: string | undefined): { server: string | undefined } | undefined {
  if (url === '/mcp') return MAIN_ENDPOINT;
  if (url === undefined) return undefined;
  const path = url.startsWith('/') ? url.split('?', 1)[0] : safePath(url);
  if (path === '/mcp') return MAIN_ENDPOINT;
  const server = path === undefined || !path.startsWith('/servers/') ? undefined : virtualServerOf(path);
  return server === undefined ? undefined : { server };
}
const MAIN_ENDPOINT = { server: undefined };

function safePath(url: string): string | undefined {
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

/**
 * Every request to `/mcp`, on node's own request and response objects, through one
 * sequence of stages: perimeter (and CORS), authenticate, authorize, framing, protocol era, session,
 * rate limit, dispatch (stages.ts). A refusal at any stage is answered from the error
 * catalogue, and so is anything unexpected (as JSON-RPC -32603, never in the admin API's
 * shape). Other paths go on to the Hono app.
 */
export class McpPipeline {
  #closed = false;

  constructor(private readonly deps: McpPipelineDeps) {}

  /** The pipeline as a lane in front of the Hono app (service-kit `listen`). */
  readonly lane: Lane = (request, response, next) => {
    const endpoint = endpointOf(request.url);
    if (endpoint === undefined) {
      next();
      return;
    }
    const record = this.deps.observer?.begin(request, response);
    this.#serve(request, response, record, endpoint.server).catch((error: unknown) => this.#failed(response, error, record));
  };

  /** Further requests get 503. */
  close(): void {
    this.#closed = true;
  }

  #failed(response: ServerResponse, error: unknown, record: RequestRecord | undefined): void {
    if (record !== undefined) this.deps.observer?.refused(record, error);
    answerFailure(response, error, this.deps.logger, 'MCP');
  }

  async #serve(request: IncomingMessage, response: ServerResponse, record: RequestRecord | undefined, serverName: string | undefined): Promise<void> {
    const { auth, perimeter } = this.deps;
    const { headers } = request;
    if (this.#closed) throw new GatewayError('shutting_down', 'Server is shutting down');
    if (admitted(perimeter, request, response)) return;
    const identity = await admit(auth, perimeter, request, serverName === undefined ? '/mcp' : virtualServerPath(serverName));
    if (record !== undefined) record.identity = identity.name;
    // A virtual server's endpoint: the same stages, with its view of the catalog (after authentication, so names are not probed).
    const server = serverName === undefined ? undefined : this.#virtualServer(serverName);
    const method = accept(methodStage(request.method, headers));
    if (method !== 'POST') return this.#withoutBody(method, request, response, identity, server);

    const body = await readBody(request, this.deps.maxBodyBytes);
    const message = accept(framingStage(body));
    if (record !== undefined) this.deps.observer?.identify(record, message, headers, body);
    const era = accept(eraStage(method, headers, message));
    const sessionId = accept(sessionIdStage(headers));
    // A 2026 request names no session of the gateway's: the SDK's handler serves it whole.
    const session = era === 'legacy' && sessionId !== undefined ? await this.#session(sessionId, identity, server) : undefined;
    const limited = withinLimit(this.deps.perimeter, identity);
    if (limited !== undefined) await limited;

    if (era === 'modern') return this.deps.modern.serve(request, response, message, identity, record, server);
    const meta: RequestMeta = { identity, traceparent: traceparentOf(headers['traceparent'], message), record };
    if (server !== undefined) meta.view = server.scope(this.deps.registry.catalog);
    if (session !== undefined) return this.#inSession(session, message, headers.accept, response, meta);
    if (!('method' in message) || !('id' in message)) {
      // A notification or an answer without a session: nobody is waiting for it.
      response.writeHead(202).end();
      return;
    }
    if (message.method === 'initialize') return this.#initialize(message, identity, response, server);
    const answer = await this.deps.dispatcher.sessionless(message, meta);
    writeJson(response, 200, answer);
  }

  #virtualServer(name: string): VirtualServer {
    const server = this.deps.virtualServers?.get(name);
    if (server === undefined) throw unknownVirtualServer(name);
    return server;
  }

  /** The caller's session `id`, opened on this endpoint: one opened on another virtual server, or on `/mcp`, is not found here. */
  async #session(id: string, identity: GatewayIdentity, server: VirtualServer | undefined): Promise<Session> {
    // With several replicas, one opened on another replica is rebuilt from its sealed id.
    const session = await this.deps.sessions.resolve(id, identity, server?.name);
    // An unknown id and another identity's id look the same: neither reveals the other.
    if (session === undefined) throw new GatewayError('unknown_session', 'Session not found: it expired or was deleted; initialize a new session');
    return session;
  }

  #initialize(message: JsonRpcRequestMessage, identity: GatewayIdentity, response: ServerResponse, server: VirtualServer | undefined): void {
    let handshake: ReturnType<typeof negotiate>;
    try {
      handshake = negotiate(message.params, gatewayCapabilities(this.deps.registry));
    } catch (error) {
      writeJson(response, 200, (error as GatewayError).toRpc(message.id));
      return;
    }
    const session = this.deps.sessions.open(identity, handshake, server?.name);
    const instructions = server?.record.description ?? gatewayInstructions(this.deps.registry, identity);
    writeJson(
      response,
      200,
      {
        jsonrpc: '2.0',
        id: message.id,
        result: initializeResult(handshake, SERVER_INFO, instructions, this.deps.registry.federationMeta()),
      },
      { 'mcp-session-id': session.id },
    );
  }

  async #inSession(session: Session, message: JsonRpcMessage, acceptHeader: string | undefined, response: ServerResponse, meta: RequestMeta): Promise<void> {
    if (!('method' in message) || !('id' in message)) {
      await this.deps.dispatcher.take(session, message);
      response.writeHead(202, { 'mcp-session-id': session.id }).end();
      return;
    }
    if (message.method === 'initialize') {
      const error = new GatewayError(
        'invalid_request',
        'Invalid Request: this session is already initialized; send initialize without Mcp-Session-Id to open another',
      );
      writeJson(response, 400, error.toRpc(message.id));
      return;
    }
    const reply = new PostReply(response, session, () => {
      if (!session.firstTime('post-backlog')) return;
      this.deps.logger.warn(
        { session: session.id, method: message.method },
        'dropping notifications of a call whose client does not read its event stream (backlog over the limit); said once per session',
      );
    });
    // A client that takes only JSON gets the answer alone: nothing can be streamed before it.
    const outbox = acceptsStream(acceptHeader ?? null) ? reply : undefined;
    reply.end(await this.deps.dispatcher.inSession(session, message, outbox, meta));
  }

  /** GET opens the session's stream; DELETE ends the session. Both need the session's id. */
  async #withoutBody(
    method: 'GET' | 'DELETE',
    request: IncomingMessage,
    response: ServerResponse,
    identity: GatewayIdentity,
    server: VirtualServer | undefined,
  ): Promise<void> {
    const { headers } = request;
    accept(eraStage(method, headers, undefined));
    const id = accept(sessionIdStage(headers));
    if (id === undefined) {
      throw new GatewayError('session_required', `Bad Request: ${method} needs an Mcp-Session-Id header; send initialize first`);
    }
    const session = await this.#session(id, identity, server);
    const limited = withinLimit(this.deps.perimeter, identity);
    if (limited !== undefined) await limited;
    if (method === 'DELETE') {
      await this.deps.sessions.end(session);
      response.writeHead(200, { 'mcp-session-id': session.id }).end();
      return;
    }
    const lastEventId = headers['last-event-id'];
    if (typeof lastEventId === 'string' && !this.#heldElsewhere(session, lastEventId)) return this.#resume(session, lastEventId, response);
    if (session.stream?.connected) throw new GatewayError('stream_conflict', 'Conflict: this session already has a GET stream open');
    // A GET without Last-Event-ID is a new stream: what the old one kept is not for it.
    const stream = new SessionStream(session.replay.open('get'));
    this.#connect(session, stream.log, response, takesPriming(session.protocolVersion) ? stream.log.primingId : undefined, 0);
    this.deps.sessions.attachStream(session, stream);
    if (typeof lastEventId === 'string') this.#afterGap(session);
  }

  /**
   * Several replicas: a GET resuming the session's GET stream that another replica held (it
   * died, or the balancer sent the reconnection here). Its events are kept there, so none can
   * be replayed; the GET opens the session's stream here instead (`#afterGap` tells the
   * client what it may have missed). Refusing it with 400 would end the session's stream for
   * good with clients that only ever retry the same id (the SDK's).
   */
  #heldElsewhere(session: Session, lastEventId: string): boolean {
    return session.share !== undefined && eventIdKind(lastEventId) === 'get' && session.replay.find(lastEventId) === undefined;
  }

  /** What a client whose stream could not be resumed may have missed, as hints to look again: list changes, and an update of every resource it subscribed to. */
  #afterGap(session: Session): void {
    this.deps.logger.info({ session: session.key }, 'a GET stream held by another replica was opened here afresh; the client is told to list and read again');
    for (const kind of ['tools', 'prompts', 'resources'] as const) {
      if (session.offered[kind]?.listChanged === true) session.notify(`notifications/${kind}/list_changed`, undefined);
    }
    for (const uri of session.subscribed.keys()) session.notify('notifications/resources/updated', { uri });
  }

  /**
   * A GET with `Last-Event-ID` (the transport's "Resumability and Redelivery"): the stream
   * that id belongs to, in this session, gets the events after it replayed on this
   * connection, then goes on here; a POST's stream ends after its answer. An id that names
   * no stream of this session (malformed, another session's, freed) or whose successors
   * were evicted is refused with 400 before anything is sent: nothing is ever replayed from
   * another stream, and a gap is never passed off as a resumption.
   */
  #resume(session: Session, lastEventId: string, response: ServerResponse): void {
    const found = session.replay.find(lastEventId);
    if (found === undefined) {
      throw new GatewayError(
        'unknown_event_id',
        'Bad Request: Last-Event-ID names no stream of this session (unknown, or it ended long ago); open a new GET stream without Last-Event-ID',
      );
    }
    const { stream, seq } = found;
    if (!stream.holdsAfter(seq)) {
      throw new GatewayError(
        'unknown_event_id',
        'Bad Request: the events after this Last-Event-ID are no longer kept (more came than the replay buffer holds); open a new GET stream without Last-Event-ID',
      );
    }
    this.#connect(session, stream, response, undefined, seq);
    if (stream.kind === 'get' && session.stream instanceof SessionStream && session.stream.log === stream)
      this.deps.sessions.attachStream(session, session.stream);
  }

  #connect(session: Session, stream: ReplayStream, response: ServerResponse, primingId: string | undefined, seq: number): void {
    const pastBound = stream.kind === 'get' ? 'destroy' : 'drop';
    const what =
      stream.kind === 'get' ? 'closing a GET stream whose client does not read it' : 'dropping events of a resumed POST stream whose client does not read it';
    const connection = new StreamConnection(response, pastBound, () => {
      this.deps.logger.warn(
        { session: session.id },
        `${what} (backlog over the limit); it can resume with Last-Event-ID while the replay buffer holds what it missed`,
      );
    });
    connection.open(session.id, primingId);
    connect(stream, connection, seq);
  }
}

/** 7. The token's rate budget: a promise only when there is something to wait for (callers await only then). */
/**
 * The perimeter of an MCP endpoint (`/mcp`, and `/sse` with `/messages`), before any token
 * is looked at: one Host, Origin and Host allowed (throws the refusal), then CORS for an
 * allowed browser origin. True when that already answered the request (a preflight); else
 * the CORS headers are set for whatever answer follows.
 */
export function admitted(perimeter: Perimeter, request: IncomingMessage, response: ServerResponse): boolean {
  const { headers } = request;
  accept(perimeterStage(perimeter, headers, request.rawHeaders));
  const cors = corsStage(perimeter, request.method, headers);
  if (cors === undefined) return false;
  if (cors.preflight) {
    response.writeHead(204, cors.headers).end();
    return true;
  }
  for (const [name, value] of Object.entries(cors.headers)) response.setHeader(name, value);
  return false;
}

/**
 * The caller of a request that passed the perimeter (`admitted`): the throttle on failed
 * authentications from its address, the token, the role. Resolves with the caller; throws
 * the refusal.
 */
export async function admit(auth: GatewayAuth, perimeter: Perimeter, request: IncomingMessage, endpoint = '/mcp'): Promise<GatewayIdentity> {
  const { headers } = request;
  const address = request.socket.remoteAddress;
  const throttled = perimeter.authRefusal(address);
  const refusal = throttled instanceof Promise ? await throttled : throttled;
  if (refusal !== undefined) throw refusal;
  const authenticated = authenticateStage(auth, headers, endpoint);
  const stage = authenticated instanceof Promise ? await authenticated : authenticated;
  // A token given and refused is a guess: counted against the address (none given is not).
  if (!stage.ok && headers.authorization !== undefined) perimeter.authFailed(address);
  const identity = accept(stage);
  accept(authorizeStage(auth, identity, headers, endpoint));
  return identity;
}

export function withinLimit(perimeter: Perimeter, identity: GatewayIdentity): void | Promise<void> {
  const over = perimeter.overLimit(identity.name);
  const settle = (error: GatewayError | undefined) => {
    if (error !== undefined) throw error;
  };
  return over instanceof Promise ? over.then(settle) : settle(over);
}

/** W3C trace context from the `traceparent` header, else from `params._meta` where MCP clients put it. */
export function traceparentOf(header: string | string[] | undefined, message: JsonRpcMessage): string | undefined {
  if (typeof header === 'string') return header;
  const meta = (message as { params?: { _meta?: { traceparent?: unknown } } }).params?._meta;
  return typeof meta?.traceparent === 'string' ? meta.traceparent : undefined;
}
