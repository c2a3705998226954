/**
 * 2025-era sessions, kept as the spec says (no relaxations): `initialize` opens a
 * session, other requests need its `Mcp-Session-Id` (400 without, 404 if unknown),
 * DELETE ends it. Each session resumes SSE streams from its own event store.
 */
import { randomUUID } from 'node:crypto';
import { type McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { MemoryEventStore } from './event-store.js';

interface Session {
  readonly server: McpServer;
  readonly transport: WebStandardStreamableHTTPServerTransport;
}

export interface SessionsOptions {
  createServer: () => McpServer;
  /** SSE `retry` hint (ms) sent in priming events. */
  retryMs?: number;
}

export class Sessions {
  readonly #sessions = new Map<string, Session>();
  readonly #options: SessionsOptions;

  constructor(options: SessionsOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Serves a request carrying a session id; an unknown id gets 404. */
  async handle(id: string, request: Request, parsedBody?: unknown): Promise<Response> {
    const session = this.#sessions.get(id);
    if (session === undefined) return jsonRpcErrorResponse(404, -32001, 'Session not found');
    return session.transport.handleRequest(request, { parsedBody });
  }

  /** Opens a session for an `initialize` request and answers it. */
  async open(request: Request, parsedBody: unknown): Promise<Response> {
    const server = this.#options.createServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new MemoryEventStore(),
      retryInterval: this.#options.retryMs ?? 500,
      onsessioninitialized: (id) => {
        this.#sessions.set(id, { server, transport });
      },
      onsessionclosed: (id) => {
        this.#sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.#sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody });
  }

  async close(): Promise<void> {
    const open = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(open.map((session) => session.server.close()));
  }
}

export function jsonRpcErrorResponse(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}
