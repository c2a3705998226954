import { randomBytes } from 'node:crypto';

/** How much one stream keeps for a client that reconnects: its most recent events, at most this many and this many bytes. */
export interface ReplayLimits {
  /** Events kept per stream; 0 keeps none (ids are still sent, but nothing can be resumed). */
  events: number;
  /** Bytes of JSON kept per stream. */
  bytes: number;
}

/**
 * Past this many bytes waiting to be written to a client, its stream takes nothing more: a
 * client that does not read must not grow the gateway (http/mcp/reply.ts enforces it). A
 * stream's replay is kept below it, so that a whole replay fits a reconnecting stream.
 */
export const MAX_STREAM_BACKLOG_BYTES = 4 * 1024 * 1024;

export const DEFAULT_REPLAY_LIMITS: ReplayLimits = { events: 100, bytes: 256 * 1024 };

/** What all sessions together keep for replay, by default: the per-stream bounds times the session cap would be far more. */
export const DEFAULT_REPLAY_TOTAL_BYTES = 64 * 1024 * 1024;

/**
 * The bytes all streams of the gateway keep for replay, against one bound: past it, the
 * stream that records evicts its own oldest events, so a busy stream cannot grow the
 * gateway however many sessions are open, and a quiet one keeps what it has.
 */
export class ReplayBudget {
  used = 0;

  constructor(readonly maxBytes: number = DEFAULT_REPLAY_TOTAL_BYTES) {}

  get over(): boolean {
    return this.used > this.maxBytes;
  }
}

/**
 * Streams of one session kept for resumption, at most. The GET stream is one of them; the
 * others are POST streams, oldest finished first to go. With the per-stream bound this makes
 * the most one session keeps `MAX_REPLAY_STREAMS × bytes` (4 MiB at the defaults).
 */
export const MAX_REPLAY_STREAMS = 16;

/**
 * Where a stream's events go while a client is connected to it: the http layer's
 * connection (with its own backlog bound). `write` is false when the event could not be
 * written (the connection is gone, or its client does not read).
 */
export interface EventSink {
  write(id: string, data: string): boolean;
  /** Ends the connection, with a last event when there is one: the answer a client waits for is written past the backlog bound. */
  end(last?: { id: string; data: string }): void;
}

interface Recorded {
  seq: number;
  id: string;
  data: string;
  bytes: number;
}

/** An event id: the stream it belongs to, then its place in that stream. */
export function eventId(streamId: string, seq: number): string {
  return `${streamId}.${seq}`;
}

/**
 * Which kind of stream an event id's stream is, read from the id alone: the top bit of its
 * first byte is clear for a GET stream and set for a POST stream. So a replica asked to
 * resume a stream another replica held can tell a session's GET stream from a call's.
 */
export function eventIdKind(id: string): 'get' | 'post' | undefined {
  const parsed = parseEventId(id.trim());
  if (parsed === undefined) return undefined;
  return Number.parseInt(parsed.streamId.slice(0, 2), 16) < 0x80 ? 'get' : 'post';
}

/** A fresh random stream id of `kind` (see eventIdKind). */
function newStreamId(kind: 'get' | 'post'): string {
  const bytes = randomBytes(8);
  bytes[0] = kind === 'get' ? (bytes[0] as number) & 0x7f : (bytes[0] as number) | 0x80;
  return bytes.toString('hex');
}

/** The stream and place an event id names, or undefined when it is not one of the gateway's ids. */
export function parseEventId(id: string): { streamId: string; seq: number } | undefined {
  const match = /^([0-9a-f]{16})\.(0|[1-9][0-9]{0,15})$/.exec(id);
  if (match === null) return undefined;
  const seq = Number(match[2]);
  return Number.isSafeInteger(seq) ? { streamId: match[1] as string, seq } : undefined;
}

/**
 * One event stream of a session as a client can resume it (the streamable HTTP transport,
 * "Resumability and Redelivery"): every event gets an id naming this stream, the most recent
 * ones are kept within `ReplayLimits`, and a client that reconnects with the id of the last
 * event it saw gets what came after on its new connection, then the rest live. Messages
 * that come while no client is connected are kept the same way. A finished stream (a POST's,
 * once its answer is recorded) ends every connection after the replay.
 */
export class ReplayStream {
  readonly #events: Recorded[] = [];
  #bytes = 0;
  #seq = 0;
  /** The highest place whose event was evicted: an id before it cannot be resumed. */
  #evictedThrough = 0;
  #sink: EventSink | undefined;
  #finished = false;
  #closed = false;

  constructor(
    readonly id: string,
    readonly kind: 'get' | 'post',
    private readonly limits: ReplayLimits,
    private readonly budget: ReplayBudget = new ReplayBudget(Number.POSITIVE_INFINITY),
  ) {}

  /** The id of the priming event a new connection opens with: resuming after it replays everything. */
  get primingId(): string {
    return eventId(this.id, 0);
  }

  /** Whether a client is connected to the stream now. */
  get connected(): boolean {
    return this.#sink !== undefined;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Bytes kept for replay now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Records one message (its JSON text) and writes it to the connected client, if any. With
   * `live`, a message that cannot be written now is not kept either (a request the gateway
   * gives up on at once must not be replayed later). True if written.
   */
  push(data: string, live = false): boolean {
    if (this.#finished || this.#closed) return false;
    this.#seq += 1;
    const id = eventId(this.id, this.#seq);
    const written = this.#sink?.write(id, data) ?? false;
    if (written || !live) this.#record({ seq: this.#seq, id, data, bytes: Buffer.byteLength(data) });
    return written;
  }

  /** Records the last message (a POST's answer; none when the call was cancelled) and ends the connection. */
  finish(data: string | undefined): void {
    if (this.#finished || this.#closed) return;
    this.#finished = true;
    let last: Recorded | undefined;
    if (data !== undefined) {
      this.#seq += 1;
      last = { seq: this.#seq, id: eventId(this.id, this.#seq), data, bytes: Buffer.byteLength(data) };
      this.#record(last);
    }
    const sink = this.#sink;
    this.#sink = undefined;
    sink?.end(last);
  }

  /** The place of the newest event (0 before any). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Whether every event after `seq` is still kept (nothing after it was evicted, and it is not in the future). */
  holdsAfter(seq: number): boolean {
    return seq >= this.#evictedThrough && seq <= this.#seq;
  }

  /**
   * Connects a client: replays the events after `seq` in order, then sends it the rest as
   * they come (a finished stream is ended after the replay). A client already connected is
   * ended: the one reconnecting says it lost that connection. Check `holdsAfter` first.
   */
  attach(sink: EventSink, seq: number): void {
    const previous = this.#sink;
    this.#sink = undefined;
    previous?.end();
    for (const event of this.#events) {
      if (event.seq > seq && !sink.write(event.id, event.data)) {
        // The replay itself did not fit the connection's backlog: a gap must not follow it.
        sink.end();
        return;
      }
    }
    if (this.#finished || this.#closed) sink.end();
    else this.#sink = sink;
  }

  /** The client of `sink` went away; what comes next is kept for it. */
  detach(sink: EventSink): void {
    if (this.#sink === sink) this.#sink = undefined;
  }

  /** Ends the connection and frees what was kept. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.length = 0;
    this.budget.used -= this.#bytes;
    this.#bytes = 0;
    const sink = this.#sink;
    this.#sink = undefined;
    sink?.end();
  }

  #record(event: Recorded): void {
    this.#events.push(event);
    this.#bytes += event.bytes;
    this.budget.used += event.bytes;
    while (this.#events.length > 0 && (this.#events.length > this.limits.events || this.#bytes > this.limits.bytes || this.budget.over)) {
      const evicted = this.#events.shift() as Recorded;
      this.#bytes -= evicted.bytes;
      this.budget.used -= evicted.bytes;
      this.#evictedThrough = evicted.seq;
    }
  }
}

/**
 * The resumable streams of one session, by stream id. Stream ids are random, so an event id
 * of another session names nothing here, and nothing of another session can be replayed:
 * the session itself was already checked to belong to the caller's identity.
 */
export class SessionReplay {
  readonly #streams = new Map<string, ReplayStream>();

  constructor(
    private readonly limits: ReplayLimits = DEFAULT_REPLAY_LIMITS,
    private readonly budget: ReplayBudget = new ReplayBudget(),
  ) {}

  get size(): number {
    return this.#streams.size;
  }

  /** A new stream. A new GET stream replaces the old one; past MAX_REPLAY_STREAMS the oldest (finished first) is freed. */
  open(kind: 'get' | 'post'): ReplayStream {
    if (kind === 'get') {
      for (const stream of this.#streams.values()) if (stream.kind === 'get') this.#drop(stream);
    }
    while (this.#streams.size >= MAX_REPLAY_STREAMS) {
      const streams = [...this.#streams.values()];
      this.#drop(streams.find((stream) => stream.finished) ?? (streams[0] as ReplayStream));
    }
    const stream = new ReplayStream(newStreamId(kind), kind, this.limits, this.budget);
    this.#streams.set(stream.id, stream);
    return stream;
  }

  /** The stream a `Last-Event-ID` names and the place in it, or undefined when it names no stream of this session (any more). */
  find(lastEventId: string): { stream: ReplayStream; seq: number } | undefined {
    const parsed = parseEventId(lastEventId.trim());
    if (parsed === undefined) return undefined;
    const stream = this.#streams.get(parsed.streamId);
    // An id past the newest event was never sent: it names nothing.
    return stream === undefined || parsed.seq > stream.lastSeq ? undefined : { stream, seq: parsed.seq };
  }

  /** Bytes kept for replay across the session's streams. */
  get bytes(): number {
    let total = 0;
    for (const stream of this.#streams.values()) total += stream.bytes;
    return total;
  }

  /** Ends every stream and frees what they kept (the session ended). */
  close(): void {
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const stream of streams) stream.close();
  }

  #drop(stream: ReplayStream): void {
    this.#streams.delete(stream.id);
    stream.close();
  }
}
