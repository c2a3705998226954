import type { ServerResponse } from 'node:http';
import type { JsonRpcResponseMessage } from '@meshgate/service-kit';

/**
 * The answer to one POST in a session, as the streamable HTTP transport allows it: plain
 * JSON when the answer is all there is, or an event stream once there is something to
 * send before it (a log message of the call, a request to the client). The choice is made
 * by the first thing written, since nothing is sent before that.
 */
export class SessionReply {
  #streaming = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly sessionId: string,
  ) {}

  /** Sends a notification to the client, switching to an event stream if it is the first thing sent. */
  async notify(method: string, params: Record<string, unknown> | undefined): Promise<void> {
    this.#send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  /** Sends a request to the client on the stream (its answer comes back as a POST of its own). */
  request(id: string, method: string, params: Record<string, unknown> | undefined): void {
    this.#send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
  }

  #send(message: unknown): void {
    if (this.response.writableEnded) return;
    this.#startStream();
    this.response.write(event(message));
  }

  /**
   * Ends the reply with the answer. Without one (the client cancelled the request, and a
   * cancelled request gets no answer), it is an event stream that ends empty.
   */
  end(answer: JsonRpcResponseMessage | undefined): void {
    if (this.response.writableEnded) return;
    if (answer === undefined) this.#startStream();
    if (this.#streaming) {
      this.response.end(answer === undefined ? undefined : event(answer));
      return;
    }
    const json = JSON.stringify(answer);
    this.response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'mcp-session-id': this.sessionId });
    this.response.end(json);
  }

  #startStream(): void {
    if (this.#streaming) return;
    this.#streaming = true;
    this.response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      'mcp-session-id': this.sessionId,
    });
  }
}

function event(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}
