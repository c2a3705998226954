import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isLegacyRequest, type McpHandlerRequestOptions, type Transport, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { Identity } from './auth.js';
import { DEFAULT_MAX_BODY_BYTES, jsonResponse, readBodyLimited, serializeJson } from './body.js';
import {
  JSONRPC_INTERNAL_ERROR,
  JSONRPC_INVALID_REQUEST,
  JSONRPC_SERVER_ERROR,
  type JsonRpcMessage,
  type JsonRpcNotificationMessage,
  type JsonRpcRequestMessage,
  type JsonRpcResponseMessage,
  jsonRpcError,
  parseJsonRpcMessage,
} from './jsonrpc.js';
import {
  acceptsJsonOrStream,
  hasMeta,
  isLegacyMessage,
  isNotificationOrResponse,
  JSON_CONTENT_TYPE,
  leanHeadersFit,
  normalizeAccept,
  SESSION_HEADER,
  SUPPORTED_VERSIONS,
  VERSION_HEADER,
} from './mcp-request.js';

/** Anything the SDK can connect to a transport: a low-level `Server` or an `McpServer`. */
export interface ConnectableServer {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/**
 * Answers a sessionless request without building a server or a transport. The gateway
 * supplies one (its lean path); when absent, a one-shot SDK server serves the request.
 */
export type SessionlessHandler<I extends Identity = Identity> = (message: JsonRpcRequestMessage, identity: I) => Promise<JsonRpcResponseMessage>;

export interface McpEndpointOptions<I extends Identity = Identity> {
  /** Builds the MCP server of one new session (or of one sessionless request) for the caller `identity`. */
  createServer: (identity: I) => ConnectableServer;
  logger: Logger;
  sessionless?: SessionlessHandler<I>;
  /** Largest accepted POST body. */
  maxBodyBytes?: number;
  /** A session unused for this long is closed. */
  sessionIdleMs?: number;
  /** New sessions beyond this are refused with 503 until others end. */
  maxSessions?: number;
  /**
   * Serves clients of the stateless 2026-07-28 revision (`server/discover`, per-request
   * `_meta` envelopes, `Mcp-Method` header checks): typically the SDK's
   * `createMcpHandler(factory, { legacy: 'reject' })`. Without it such clients get 400.
   */
  modern?: (request: Request, options: McpHandlerRequestOptions, identity: I) => Promise<Response>;
  /**
   * Sees a client's notification or answer POSTed to a session before the session's SDK
   * server does, and takes it by returning true (202). The gateway's lane uses it for the
   * answers to requests it relayed and the cancellations of calls it serves, which the
   * SDK server knows nothing of, whichever way they arrive.
   */
  sessionMessage?: (server: ConnectableServer, message: JsonRpcResponseMessage | JsonRpcNotificationMessage) => boolean;
}

interface Session {
  readonly id: string;
  /** The name of the identity that opened it: only that identity may use it. */
  readonly owner: string;
  readonly server: ConnectableServer;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  lastSeen: number;
}

/**
 * One MCP endpoint (`/mcp`) speaking streamable HTTP, for the services and the gateway alike.
 *
 * - `initialize` opens a session (`Mcp-Session-Id`), served by the SDK's transport: SSE,
 *   GET notification streams, DELETE, everything the spec asks of sessions.
 * - A POST without a session id is served sessionless with a plain JSON body. The spec
 *   would answer 400 here; Meshgate relaxes that clause so that a bare curl (no
 *   initialize, `Accept: *\/*`) gets an answer, as the stateless revision does.
 * - Sessions are bound to the identity that created them: another identity gets 404.
 */
export class McpEndpoint<I extends Identity = Identity> {
  readonly #options: Required<Omit<McpEndpointOptions<I>, 'sessionless' | 'modern' | 'sessionMessage'>> &
    Pick<McpEndpointOptions<I>, 'sessionless' | 'modern' | 'sessionMessage'>;
  readonly #sessions = new Map<string, Session>();
  readonly #reaper: NodeJS.Timeout;
  #closed = false;

  constructor(options: McpEndpointOptions<I>) {
    this.#options = {
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      sessionIdleMs: 30 * 60_000,
      maxSessions: 10_000,
      ...options,
    };
    const sweepEvery = Math.max(1_000, Math.min(60_000, this.#options.sessionIdleMs / 2));
    this.#reaper = setInterval(() => this.#reapIdle(), sweepEvery);
    this.#reaper.unref();
  }

  /** Number of open sessions. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Ids of the open sessions. */
  sessionIds(): string[] {
    return [...this.#sessions.keys()];
  }

  /** Handles one HTTP request to the endpoint from the authenticated caller `identity`. */
  async handle(request: Request, identity: I): Promise<Response> {
    if (this.#closed) return errorResponse(503, JSONRPC_SERVER_ERROR, 'Server is shutting down');
    switch (request.method) {
      case 'POST':
        return this.#post(request, identity);
      case 'GET':
      case 'DELETE': {
        const version = request.headers.get(VERSION_HEADER);
        if (version !== null && !SUPPORTED_VERSIONS.has(version)) {
          // The stateless revision has no sessions to stream from or delete.
          if (this.#options.modern !== undefined)
            return errorResponse(405, JSONRPC_INVALID_REQUEST, `${request.method} is not used by protocol revision ${version}`, { allow: 'POST' });
          return unsupportedVersion(version);
        }
        return this.#withSession(request, identity, undefined);
      }
      default:
        return errorResponse(405, JSONRPC_INVALID_REQUEST, `Method ${request.method} is not allowed on the MCP endpoint`, {
          allow: 'GET, POST, DELETE',
        });
    }
  }

  /**
   * The lean path, for a lane on node's request objects (service-kit `Lane`): whether a
   * POST with these headers can be, as far as its headers tell, a request the lane may
   * serve (`leanHeadersFit`: every check `handle` makes on headers would pass), so a
   * request the lane declines later still gets `handle`'s answer, errors included.
   */
  leanAccepts(headers: IncomingHttpHeaders): boolean {
    return !this.#closed && this.#options.sessionless !== undefined && leanHeadersFit(headers, this.#options.maxBodyBytes);
  }

  /**
   * The message of a body `leanAccepts` let through, when the lane may serve it: a
   * request, a notification or a response, not `initialize`, and not of the 2026
   * revision (a message with `_meta` is classified as `handle` does, by the SDK's
   * classifier, from the same headers). undefined for anything else (bad framing
   * included), which goes to `handle`.
   */
  leanMessage(body: string, headers: IncomingHttpHeaders): JsonRpcMessage | undefined {
    const framing = parseJsonRpcMessage(body);
    if (!framing.ok || (framing.kind !== 'response' && framing.message.method === 'initialize')) return undefined;
    if (this.#options.modern !== undefined && hasMeta(framing.message) && !isLegacyMessage(framing.message, headers)) return undefined;
    return framing.message;
  }

  /**
   * For a lane serving a request to session `id`: that session's server, when the session
   * is open and `identity` opened it (its idle clock restarts); undefined otherwise, and
   * `handle` answers (404 for an unknown session).
   */
  leanSession(id: string, identity: I): ConnectableServer | undefined {
    const session = this.#sessions.get(id);
    if (this.#closed || session === undefined || session.owner !== identity.name) return undefined;
    session.lastSeen = Date.now();
    return session.server;
  }

  /** The JSON body answering a sessionless request from `leanMessage`, exactly as `handle` answers it (status 200). */
  leanAnswer(message: JsonRpcRequestMessage, identity: I): Promise<string | Buffer> {
    const sessionless = this.#options.sessionless;
    if (sessionless === undefined) throw new Error('leanAnswer needs a sessionless handler; leanAccepts refuses every request without one');
    return this.#answerSessionless(sessionless, message, identity).then(serializeJson);
  }

  async #post(request: Request, identity: I): Promise<Response> {
    const contentType = request.headers.get('content-type') ?? '';
    if (!JSON_CONTENT_TYPE.test(contentType.trim())) {
      return errorResponse(415, JSONRPC_INVALID_REQUEST, 'Unsupported Media Type: Content-Type must be application/json');
    }
    if (!acceptsJsonOrStream(request.headers.get('accept'))) {
      return errorResponse(406, JSONRPC_INVALID_REQUEST, 'Not Acceptable: Accept must allow application/json or text/event-stream');
    }
    const body = await readBodyLimited(request, this.#options.maxBodyBytes);
    if (!body.ok) return errorResponse(body.status, JSONRPC_INVALID_REQUEST, body.message);
    const framing = parseJsonRpcMessage(body.text);
    if (!framing.ok) return jsonResponse(400, jsonRpcError(framing.id, framing.code, framing.message));

    const version = request.headers.get(VERSION_HEADER);
    const unknownVersion = version !== null && !SUPPORTED_VERSIONS.has(version);
    // Only a request with an unknown version header or a `_meta` can be of the 2026 revision;
    // the SDK's own classifier decides those (the common request skips it).
    const modern = this.#options.modern;
    if (modern !== undefined && (unknownVersion || hasMeta(framing.message)) && !(await isLegacyRequest(request, framing.message))) {
      return modern(request, { parsedBody: framing.message }, identity);
    }
    if (unknownVersion) return unsupportedVersion(version);

    if (request.headers.has(SESSION_HEADER)) return this.#withSession(request, identity, framing.message);
    if (framing.kind === 'request' && framing.message.method === 'initialize') {
      return this.#openSession(request, identity, framing.message);
    }
    if (framing.kind !== 'request') {
      // A notification or a response without a session has nobody waiting for it.
      return new Response(null, { status: 202 });
    }
    return this.#serveSessionless(request, identity, framing.message);
  }

  async #withSession(request: Request, identity: I, parsedBody: unknown): Promise<Response> {
    const id = request.headers.get(SESSION_HEADER);
    if (id === null) {
      return errorResponse(400, JSONRPC_INVALID_REQUEST, `Bad Request: ${request.method} needs an Mcp-Session-Id header; send initialize first`);
    }
    const session = this.#sessions.get(id);
    // An unknown id and another identity's id look the same: neither reveals the other.
    if (session === undefined || session.owner !== identity.name) {
      return errorResponse(404, JSONRPC_SERVER_ERROR, 'Session not found: it expired or was deleted; initialize a new session');
    }
    session.lastSeen = Date.now();
    const taken = this.#options.sessionMessage;
    if (taken !== undefined && isNotificationOrResponse(parsedBody) && taken(session.server, parsedBody)) {
      return new Response(null, { status: 202, headers: { [SESSION_HEADER]: session.id } });
    }
    const response = await session.transport.handleRequest(normalizeAccept(request), { parsedBody });
    if (request.method === 'DELETE' && response.ok) this.#forget(session);
    return response;
  }

  async #openSession(request: Request, identity: I, message: JsonRpcRequestMessage): Promise<Response> {
    if (this.#sessions.size >= this.#options.maxSessions) {
      return errorResponse(503, JSONRPC_SERVER_ERROR, 'Too many open sessions; try again later', { 'retry-after': '5' });
    }
    const server = this.#options.createServer(identity);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.#sessions.set(id, { id, owner: identity.name, server, transport, lastSeen: Date.now() });
      },
    });
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id !== undefined) this.#sessions.delete(id);
    };
    await server.connect(transport);
    return transport.handleRequest(normalizeAccept(request), { parsedBody: message });
  }

  async #serveSessionless(request: Request, identity: I, message: JsonRpcRequestMessage): Promise<Response> {
    const sessionless = this.#options.sessionless;
    if (sessionless !== undefined) return jsonResponse(200, await this.#answerSessionless(sessionless, message, identity));
    const server = this.#options.createServer(identity);
    const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
    try {
      await server.connect(transport);
      return await transport.handleRequest(normalizeAccept(request), { parsedBody: message });
    } finally {
      await server.close().catch(() => undefined);
    }
  }

  /** The `sessionless` handler's answer; never throws (a failure is an internal error). */
  async #answerSessionless(handler: SessionlessHandler<I>, message: JsonRpcRequestMessage, identity: I): Promise<JsonRpcResponseMessage> {
    try {
      return await handler(message, identity);
    } catch (error) {
      this.#options.logger.error({ err: error, method: message.method }, 'sessionless request failed');
      return jsonRpcError(message.id, JSONRPC_INTERNAL_ERROR, 'Internal error');
    }
  }

  #forget(session: Session): void {
    this.#sessions.delete(session.id);
    void session.server.close().catch(() => undefined);
  }

  #reapIdle(): void {
    const cutoff = Date.now() - this.#options.sessionIdleMs;
    for (const session of this.#sessions.values()) {
      if (session.lastSeen < cutoff) {
        this.#options.logger.debug({ session: session.id }, 'closing idle MCP session');
        this.#forget(session);
      }
    }
  }

  /** Closes every session. Further requests get 503. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#reaper);
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(sessions.map((s) => s.server.close()));
  }
}

function unsupportedVersion(version: string): Response {
  return errorResponse(400, JSONRPC_INVALID_REQUEST, `Unsupported MCP-Protocol-Version "${version}"; supported: ${[...SUPPORTED_VERSIONS].join(', ')}`);
}

function errorResponse(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return jsonResponse(status, jsonRpcError(null, code, message), headers);
}
