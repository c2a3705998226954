import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { PgListener } from '../registry/postgres/listen.js';
import type { StoreLogger } from '../registry/types.js';
import { BusRouter, checkBody } from './bus-router.js';
import { migrateCluster } from './postgres-session-state.js';
import type { BusAddress, BusHandler, BusMessage, MessageBus } from './types.js';

/** The channel every replica LISTENs on. */
export const BUS_CHANNEL = 'meshgate_bus';
/**
 * NOTIFY refuses payloads of 8000 bytes or more; past this many bytes of envelope the body
 * goes in a `bus_payloads` row and the notification carries its id.
 */
export const INLINE_PAYLOAD_BYTES = 7_500;
/** Rows of large bodies are deleted after this long: every replica listening has read them by then. */
const PAYLOAD_TTL_SECONDS = 60;

/** What goes over NOTIFY: sender, address, type, and the body itself (`b`) or the id of its row (`r`). */
interface Envelope {
  f: string;
  t: BusAddress;
  y: string;
  b?: unknown;
  r?: string;
}

const isEnvelope = (value: unknown): value is Envelope => {
  const envelope = value as Partial<Envelope> | null;
  return (
    typeof envelope === 'object' && envelope !== null && typeof envelope.f === 'string' && typeof envelope.y === 'string' && typeof envelope.t === 'object'
  );
};

/**
 * `MessageBus` over LISTEN/NOTIFY on one channel: every replica hears every message and
 * keeps those addressed to it (a session it holds, itself, or all). Messages are handled in
 * the order they arrive (a large body is fetched before the next message is handed on), and
 * one that cannot be read is logged and dropped, never thrown.
 */
export class PostgresMessageBus implements MessageBus {
  readonly #router: BusRouter;
  readonly #listener: PgListener;
  /** Serialises delivery, so a large body's fetch does not let the next message overtake it. */
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(
    readonly pool: pg.Pool,
    url: string,
    readonly replicaId: string,
    readonly logger: StoreLogger | undefined,
  ) {
    this.#router = new BusRouter(replicaId, (error, message) =>
      logger?.warn?.({ err: (error as Error).message, type: message.type }, 'a bus message handler failed'),
    );
    this.#listener = new PgListener(url, {
      channels: [BUS_CHANNEL],
      label: 'the replica message bus',
      applicationName: `meshgate-bus:${process.pid}`,
      onNotification: (_, payload) => {
        this.#queue = this.#queue.then(() => this.#receive(payload));
      },
      // Messages sent while disconnected are lost (at most once); nothing to catch up.
      onReconnect: () => {},
      logger,
    });
  }

  /** A bus on `pool` listening through its own connection to `url`; resolves once it listens. */
  static async create(pool: pg.Pool, url: string, options: { replicaId?: string; logger?: StoreLogger } = {}): Promise<PostgresMessageBus> {
    await migrateCluster(pool);
    const bus = new PostgresMessageBus(pool, url, options.replicaId ?? randomUUID(), options.logger);
    await bus.#listener.start();
    return bus;
  }

  async publish(to: BusAddress, type: string, body: unknown): Promise<void> {
    if (this.#closed) throw new Error('the message bus is closed');
    const text = checkBody(body);
    const inline = JSON.stringify({ f: this.replicaId, t: to, y: type, b: JSON.parse(text) } satisfies Envelope);
    if (Buffer.byteLength(inline, 'utf8') <= INLINE_PAYLOAD_BYTES) {
      await this.pool.query('SELECT pg_notify($1, $2)', [BUS_CHANNEL, inline]);
      return;
    }
    const { rows } = await this.pool.query<{ id: string }>(
      `WITH old AS (DELETE FROM bus_payloads WHERE created_at < now() - make_interval(secs => $2))
       INSERT INTO bus_payloads (body) VALUES ($1) RETURNING id`,
      [text, PAYLOAD_TTL_SECONDS],
    );
    const envelope = JSON.stringify({ f: this.replicaId, t: to, y: type, r: rows[0]?.id } satisfies Envelope);
    if (Buffer.byteLength(envelope, 'utf8') > INLINE_PAYLOAD_BYTES) throw new RangeError('a bus message address or type is too long');
    await this.pool.query('SELECT pg_notify($1, $2)', [BUS_CHANNEL, envelope]);
  }

  async #receive(payload: string): Promise<void> {
    try {
      const envelope: unknown = JSON.parse(payload);
      if (!isEnvelope(envelope)) throw new Error('not a bus envelope');
      if (!this.#addressedHere(envelope.t)) return;
      let body = envelope.b;
      if (envelope.r !== undefined) {
        const { rows } = await this.pool.query<{ body: string }>('SELECT body FROM bus_payloads WHERE id = $1', [envelope.r]);
        if (rows[0] === undefined) throw new Error(`its body (row ${envelope.r}) is gone`);
        body = JSON.parse(rows[0].body);
      }
      if (!this.#closed) this.#router.deliver({ from: envelope.f, to: envelope.t, type: envelope.y, body } satisfies BusMessage);
    } catch (error) {
      this.logger?.warn?.({ err: (error as Error).message }, 'dropped a bus message that could not be read');
    }
  }

  #addressedHere(to: BusAddress): boolean {
    if ('session' in to) return this.#router.holdsSession(to.session);
    return 'all' in to || to.replica === this.replicaId;
  }

  subscribeSession(key: string, handler: BusHandler): () => void {
    return this.#router.subscribeSession(key, handler);
  }

  onReplicaMessage(handler: BusHandler): () => void {
    return this.#router.onReplicaMessage(handler);
  }

  /** Stops listening; the pool is its owner's. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#router.clear();
    await this.#listener.close();
    await this.#queue;
  }
}
