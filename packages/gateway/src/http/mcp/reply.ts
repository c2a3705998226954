import type { ServerResponse } from 'node:http';
import type { JsonRpcResponseMessage } from '@meshgate/service-kit';
import type { Params } from '../../federation/context.js';
import type { Outbox } from '../../session/session.js';
import { writeJson } from './respond.js';

const STREAM_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' } as const;

/** One server-sent event carrying a JSON-RPC message. */
export function sseEvent(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

/** What both kinds of stream share: messages to the client as events, and the end of the stream. */
abstract class EventOutbox implements Outbox {
  constructor(protected readonly response: ServerResponse) {}

  notify(method: string, params: Params): void {
    this.send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  request(id: string, method: string, params: Params): void {
    this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
  }

  close(): void {
    if (!this.response.writableEnded) this.response.end();
  }

  protected abstract send(message: unknown): void;
}

/**
 * The answer to one POST in a session, as the streamable HTTP transport allows it: plain
 * JSON when the answer is all there is, or an event stream once there is something to
 * send before it (a log message of the call, a request to the client). The choice is made
 * by the first thing written, since nothing is sent before that.
 */
export class PostReply extends EventOutbox {
  #streaming = false;

  constructor(
    response: ServerResponse,
    private readonly sessionId: string,
  ) {
    super(response);
  }

  protected send(message: unknown): void {
    if (this.response.writableEnded) return;
    this.#startStream();
    this.response.write(sseEvent(message));
  }

  /**
   * Ends the reply with the answer. Without one (the client cancelled the request, and a
   * cancelled request gets no answer), it is an event stream that ends empty.
   */
  end(answer: JsonRpcResponseMessage | undefined): void {
    if (this.response.writableEnded) return;
    if (answer === undefined) this.#startStream();
    if (this.#streaming) {
      this.response.end(answer === undefined ? undefined : sseEvent(answer));
      return;
    }
    writeJson(this.response, 200, answer, { 'mcp-session-id': this.sessionId });
  }

  #startStream(): void {
    if (this.#streaming) return;
    this.#streaming = true;
    this.response.writeHead(200, { ...STREAM_HEADERS, 'mcp-session-id': this.sessionId });
  }
}

/** Past this many bytes waiting to be written, a session's GET stream is closed: a client that does not read must not grow the gateway. */
export const MAX_STREAM_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * A session's GET stream: the notifications that belong to no request (list changes,
 * resource updates, log messages from outside calls). Opened with its head at once, so
 * the client knows it is listening.
 */
export class SessionStream extends EventOutbox {
  constructor(
    response: ServerResponse,
    sessionId: string,
    private readonly onOverflow: () => void,
  ) {
    super(response);
    response.writeHead(200, { ...STREAM_HEADERS, 'mcp-session-id': sessionId });
    response.flushHeaders();
  }

  protected send(message: unknown): void {
    if (this.response.writableEnded) return;
    if (this.response.writableLength > MAX_STREAM_BACKLOG_BYTES) {
      this.onOverflow();
      this.close();
      return;
    }
    this.response.write(sseEvent(message));
  }
}
