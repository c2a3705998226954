import type { ServerResponse } from 'node:http';
import { SessionStream } from '../mcp/reply.js';

/**
 * The one stream of a legacy HTTP+SSE client: it carries everything the gateway sends
 * that client (the `endpoint` event first, then every answer, notification and relayed
 * request), since the client's POSTs are only acknowledged. It is a session's GET stream
 * (reply.ts) with those two additions, so it keeps that stream's backlog limit: a client
 * that stops reading is cut off instead of growing the gateway.
 */
export class LegacyStream extends SessionStream {
  constructor(response: ServerResponse, id: string, onOverflow: () => void) {
    super(response, id, onOverflow);
  }

  /** The 2024-11-05 transport's first event: where the client POSTs its messages. */
  endpoint(url: string): void {
    if (!this.response.writableEnded) this.response.write(`event: endpoint\ndata: ${url}\n\n`);
  }

  /** The answer to one of the client's requests. */
  answer(message: unknown): void {
    this.send(message);
  }
}
