import { randomUUID } from 'node:crypto';
import { type Transport, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { Identity } from './auth.js';
import { DEFAULT_MAX_BODY_BYTES, jsonResponse, readBodyLimited } from './body.js';
import { JSONRPC_INVALID_REQUEST, JSONRPC_SERVER_ERROR, type JsonRpcRequestMessage, jsonRpcError, parseJsonRpcMessage } from './jsonrpc.js';
import { acceptsJsonOrStream, JSON_CONTENT_TYPE, normalizeAccept, SESSION_HEADER, SUPPORTED_VERSIONS, VERSION_HEADER } from './mcp-request.js';

/** Anything the SDK can connect to a transport: a low-level `Server` or an `McpServer`. */
export interface ConnectableServer {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

export interface McpEndpointOptions<I extends Identity = Identity> {
  /** Builds the MCP server of one new session (or of one sessionless request) for the caller `identity`. */
  createServer: (identity: I) => ConnectableServer;
  logger: Logger;
  /** Largest accepted POST body. */
  maxBodyBytes?: number;
  /** A session unused for this long is closed. */
  sessionIdleMs?: number;
  /** New sessions beyond this are refused with 503 until others end. */
  maxSessions?: number;
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
  readonly #options: Required<McpEndpointOptions<I>>;
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
        if (version !== null && !SUPPORTED_VERSIONS.has(version)) return unsupportedVersion(version);
        return this.#withSession(request, identity, undefined);
      }
      default:
        return errorResponse(405, JSONRPC_INVALID_REQUEST, `Method ${request.method} is not allowed on the MCP endpoint`, {
          allow: 'GET, POST, DELETE',
        });
    }
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
    if (version !== null && !SUPPORTED_VERSIONS.has(version)) return unsupportedVersion(version);

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

  /** A one-shot SDK server answers the request with a plain JSON body, then is closed. */
  async #serveSessionless(request: Request, identity: I, message: JsonRpcRequestMessage): Promise<Response> {
    const server = this.#options.createServer(identity);
    const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
    try {
      await server.connect(transport);
      return await transport.handleRequest(normalizeAccept(request), { parsedBody: message });
    } finally {
      await server.close().catch(() => undefined);
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
