import type { ServerResponse } from 'node:http';
import type { JsonRpcResponseMessage } from '@meshgate/service-kit';
import type { Params } from '../../federation/context.js';
import { type EventSink, MAX_STREAM_BACKLOG_BYTES, type ReplayStream } from '../../session/replay.js';
import type { Outbox, Session } from '../../session/session.js';
import { writeJson } from './respond.js';

export { MAX_STREAM_BACKLOG_BYTES };

const STREAM_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' } as const;

/** The `retry:` a priming event carries: how long a client waits before it reconnects a stream that was cut. */
export const RECONNECT_AFTER_MS = 1_000;

/** One server-sent event carrying a JSON-RPC message (as JSON text), with its id when it has one. */
export function sseEvent(message: unknown, id?: string): string {
  return sseFrame(JSON.stringify(message), id);
}

function sseFrame(data: string, id: string | undefined): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: message\ndata: ${data}\n\n`;
}

/**
 * The event a stream opens with (2025-11-25, "Resumability and Redelivery"): an id and
 * empty data, so a client holds an id to resume with before the first real message, and
 * how long to wait before reconnecting.
 */
export function primingEvent(id: string): string {
  return `id: ${id}\nretry: ${RECONNECT_AFTER_MS}\ndata: \n\n`;
}

/**
 * Whether the session's client takes a priming event: clients of earlier revisions may
 * choke on an event with empty data (the SDK's server makes the same choice).
 */
export function takesPriming(protocolVersion: string): boolean {
  return protocolVersion >= '2025-11-25';
}

/**
 * One client connection to an event stream: writes events unless the connection is over or
 * its backlog past MAX_STREAM_BACKLOG_BYTES. Past the bound a POST's connection drops the
 * event (progress and log messages are advisory, the answer still comes) and a GET's is
 * destroyed, not ended (ending would keep the backlog until a client that does not read has
 * read it); `onOverflow` hears of it once. What is not written is still kept for replay.
 */
export class StreamConnection implements EventSink {
  #overflowed = false;

  constructor(
    readonly response: ServerResponse,
    private readonly pastBound: 'drop' | 'destroy',
    private readonly onOverflow: () => void,
  ) {}

  /** Sends the head (and the priming event, when the client takes one). */
  open(sessionId: string, primingId: string | undefined): void {
    this.response.writeHead(200, { ...STREAM_HEADERS, 'mcp-session-id': sessionId });
    if (primingId !== undefined) this.response.write(primingEvent(primingId));
    else this.response.flushHeaders();
  }

  /** Writes one event (without an id for a stream that cannot be resumed); true if written. */
  write(id: string | undefined, data: string): boolean {
    const { response } = this;
    if (response.writableEnded || response.destroyed) return false;
    if (response.writableLength > MAX_STREAM_BACKLOG_BYTES) {
      if (!this.#overflowed) {
        this.#overflowed = true;
        this.onOverflow();
      }
      if (this.pastBound === 'destroy') response.destroy();
      return false;
    }
    response.write(sseFrame(data, id));
    return true;
  }

  end(last?: { id: string; data: string }): void {
    if (this.response.writableEnded || this.response.destroyed) return;
    // The answer is written whatever the backlog: it is one message, and what the client waits for.
    this.response.end(last === undefined ? undefined : sseFrame(last.data, last.id));
  }
}

/** Connects `connection` to `stream` after `seq` (replaying what came since) until its client goes away. */
export function connect(stream: ReplayStream, connection: StreamConnection, seq: number): void {
  connection.response.once('close', () => stream.detach(connection));
  stream.attach(connection, seq);
}

function notification(method: string, params: Params): unknown {
  return { jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) };
}

function request(id: string, method: string, params: Params): unknown {
  return { jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) };
}

/** What of a session a reply needs: its id, its negotiated version (for priming), its streams. */
export type ReplySession = Pick<Session, 'id' | 'protocolVersion' | 'replay'>;

/**
 * The answer to one POST in a session, as the streamable HTTP transport allows it: plain
 * JSON when the answer is all there is, or an event stream once there is something to
 * send before it (a log message of the call, a request to the client). The choice is made
 * by the first thing written, since nothing is sent before that. The event stream is
 * resumable: a client whose connection is cut gets the rest, and the answer, on a GET with
 * `Last-Event-ID` (the call goes on meanwhile: a disconnection is not a cancellation). A
 * client that does not read the stream loses the call's notifications past the backlog
 * bound (and its relayed requests fail), but still gets the answer.
 */
export class PostReply implements Outbox {
  #stream: ReplayStream | undefined;

  constructor(
    private readonly response: ServerResponse,
    private readonly session: ReplySession,
    private readonly onOverflow: () => void = () => undefined,
  ) {}

  get connected(): boolean {
    return this.#stream === undefined ? !this.response.destroyed : this.#stream.connected;
  }

  notify(method: string, params: Params): void {
    this.#streamed().push(JSON.stringify(notification(method, params)));
  }

  request(id: string, method: string, params: Params): boolean {
    // Live only: a request not sent now has failed at once, and must not reach the client later.
    return this.#streamed().push(JSON.stringify(request(id, method, params)), true);
  }

  close(): void {
    this.#stream?.finish(undefined);
    if (!this.response.writableEnded && !this.response.destroyed) this.response.end();
  }

  /**
   * Ends the reply with the answer. Without one (the client cancelled the request, and a
   * cancelled request gets no answer), it is an event stream that ends empty.
   */
  end(answer: JsonRpcResponseMessage | undefined): void {
    if (this.#stream === undefined) {
      if (this.response.writableEnded || this.response.destroyed) return;
      if (answer !== undefined) {
        writeJson(this.response, 200, answer, { 'mcp-session-id': this.session.id });
        return;
      }
    }
    this.#streamed().finish(answer === undefined ? undefined : JSON.stringify(answer));
  }

  #streamed(): ReplayStream {
    if (this.#stream !== undefined) return this.#stream;
    const stream = this.session.replay.open('post');
    this.#stream = stream;
    if (this.response.destroyed || this.response.writableEnded) return stream;
    const connection = new StreamConnection(this.response, 'drop', this.onOverflow);
    connection.open(this.session.id, takesPriming(this.session.protocolVersion) ? stream.primingId : undefined);
    connect(stream, connection, 0);
    return stream;
  }
}

/**
 * A session's GET stream: the notifications that belong to no request (list changes,
 * resource updates, log messages from outside calls). It outlives its connections: while
 * the client is away what comes is kept (replay.ts), and a GET with `Last-Event-ID` gets it.
 * Past the backlog bound its connection is destroyed: the client reconnects when it reads
 * again, with the id of the last event it read.
 */
export class SessionStream implements Outbox {
  constructor(readonly log: ReplayStream) {}

  get connected(): boolean {
    return this.log.connected;
  }

  notify(method: string, params: Params): void {
    this.log.push(JSON.stringify(notification(method, params)));
  }

  request(id: string, method: string, params: Params): boolean {
    return this.log.push(JSON.stringify(request(id, method, params)), true);
  }

  close(): void {
    this.log.close();
  }
}
