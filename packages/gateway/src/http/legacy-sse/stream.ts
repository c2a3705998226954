import type { ServerResponse } from 'node:http';
import type { Params } from '../../federation/context.js';
import type { Outbox } from '../../session/session.js';
import { StreamConnection } from '../mcp/reply.js';

/**
 * The one stream of a legacy HTTP+SSE client: it carries everything the gateway sends
 * that client (the `endpoint` event first, then every answer, notification and relayed
 * request), since the client's POSTs are only acknowledged. It writes through the same
 * connection as a session's GET stream (reply.ts), so it keeps that stream's backlog limit:
 * a client that stops reading is cut off instead of growing the gateway. Its events carry
 * no ids: the 2024-11-05 transport has no resumption (a new GET /sse is a new session).
 */
export class LegacyStream implements Outbox {
  readonly #connection: StreamConnection;

  constructor(
    private readonly response: ServerResponse,
    id: string,
    onOverflow: () => void,
  ) {
    this.#connection = new StreamConnection(response, 'destroy', onOverflow);
    this.#connection.open(id, undefined);
  }

  get connected(): boolean {
    return !this.response.writableEnded && !this.response.destroyed;
  }

  /** The 2024-11-05 transport's first event: where the client POSTs its messages. */
  endpoint(url: string): void {
    if (!this.response.writableEnded) this.response.write(`event: endpoint\ndata: ${url}\n\n`);
  }

  /** The answer to one of the client's requests. */
  answer(message: unknown): void {
    this.#connection.write(undefined, JSON.stringify(message));
  }

  notify(method: string, params: Params): void {
    this.#connection.write(undefined, JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) }));
  }

  request(id: string, method: string, params: Params): boolean {
    return this.#connection.write(undefined, JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
  }

  close(): void {
    this.#connection.end();
  }
}
