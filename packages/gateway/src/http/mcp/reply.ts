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

/** Past this many bytes waiting to be written to a client, its stream takes nothing more: a client that does not read must not grow the gateway. */
export const MAX_STREAM_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * What both kinds of stream share: messages to the client as events, the end of the
 * stream, and the bound on what may wait for a client that does not read. Past the
 * bound `overflow` decides (drop or close) and `onOverflow` hears of it once.
 */
abstract class EventOutbox implements Outbox {
  #overflowed = false;

  constructor(
    protected readonly response: ServerResponse,
    private readonly onOverflow: () => void,
  ) {}

  notify(method: string, params: Params): void {
    this.send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  request(id: string, method: string, params: Params): boolean {
    return this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
  }

  close(): void {
    if (!this.response.writableEnded) this.response.end();
  }

  /** Writes one message unless the stream is over or its backlog past the bound; true if written. */
  protected send(message: unknown): boolean {
    if (this.response.writableEnded || this.response.destroyed) return false;
    if (this.response.writableLength > MAX_STREAM_BACKLOG_BYTES) {
      if (!this.#overflowed) {
        this.#overflowed = true;
        this.onOverflow();
      }
      this.overflow();
      return false;
    }
    this.write(message);
    return true;
  }

  /** Writes one message (the stream is open and within its bound). */
  protected abstract write(message: unknown): void;
  /** What happens to a message past the bound, besides not being written. */
  protected abstract overflow(): void;
}

/**
 * The answer to one POST in a session, as the streamable HTTP transport allows it: plain
 * JSON when the answer is all there is, or an event stream once there is something to
 * send before it (a log message of the call, a request to the client). The choice is made
 * by the first thing written, since nothing is sent before that. A client that does not
 * read the stream loses the call's notifications past the backlog bound (and its
 * relayed requests fail), but still gets the answer: the call itself is not cut short.
 */
export class PostReply extends EventOutbox {
  #streaming = false;

  constructor(
    response: ServerResponse,
    private readonly sessionId: string,
    onOverflow: () => void = () => undefined,
  ) {
    super(response, onOverflow);
  }

  protected write(message: unknown): void {
    this.#startStream();
    this.response.write(sseEvent(message));
  }

  protected overflow(): void {
    // Dropped: progress and log messages are advisory, and the answer still comes.
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

/**
 * A session's GET stream: the notifications that belong to no request (list changes,
 * resource updates, log messages from outside calls). Opened with its head at once, so
 * the client knows it is listening. Past the backlog bound it is closed: the client can
 * open another when it reads again, and learns that it missed messages.
 */
export class SessionStream extends EventOutbox {
  constructor(response: ServerResponse, sessionId: string, onOverflow: () => void) {
    super(response, onOverflow);
    response.writeHead(200, { ...STREAM_HEADERS, 'mcp-session-id': sessionId });
    response.flushHeaders();
  }

  protected write(message: unknown): void {
    this.response.write(sseEvent(message));
  }

  protected overflow(): void {
    // Destroyed, not ended: ending would keep the backlog until a client that does not read has read it.
    this.response.destroy();
  }
}
