import pg from 'pg';
import { redactUrl } from '../../model/service.js';
import type { StoreLogger } from '../types.js';

export interface ListenOptions {
  /** Channels to LISTEN on; names are ours (fixed identifiers), never input. */
  channels: readonly string[];
  onNotification(channel: string, payload: string): void;
  /** The connection was lost and is listening again: notifications in between are lost, so the owner re-reads what it follows. */
  onReconnect(): void;
  /** What the connection is for, in log lines ("the registry change feed"). */
  label: string;
  /** Its `application_name`, to tell it in pg_stat_activity (`meshgate-feed:<pid>`). */
  applicationName: string;
  logger?: StoreLogger | undefined;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * One dedicated connection that LISTENs (a pooled one would be handed to other queries and
 * lose its LISTEN), kept open: when the server ends it (restart, failover,
 * pg_terminate_backend) it connects again with backoff and says so through `onReconnect`.
 */
export class PgListener {
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = FIRST_RETRY_MS;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly url: string,
    readonly options: ListenOptions,
  ) {}

  /** Connects and listens; rejects if the first attempt fails (the caller is starting up and should say so). */
  async start(): Promise<void> {
    await this.#connect();
  }

  /** The server process id of the listening connection (tests end it with pg_terminate_backend). */
  get backendPid(): number | undefined {
    return (this.#client as (pg.Client & { processID?: number }) | undefined)?.processID;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, application_name: this.options.applicationName });
    client.on('notification', (message) => {
      if (this.#client === client && message.payload !== undefined) this.options.onNotification(message.channel, message.payload);
    });
    // 'error' then 'end' when the server cuts the connection; either one means reconnect.
    const lost = (error?: Error) => {
      if (this.#client !== client || this.#closed) return;
      this.#client = undefined;
      this.options.logger?.warn?.({ database: redactUrl(this.url), err: error?.message }, `${this.options.label} lost its connection; reconnecting`);
      client.end().catch(() => undefined);
      this.#schedule();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      for (const channel of this.options.channels) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#retryMs = FIRST_RETRY_MS;
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect().then(
        () => {
          if (!this.#closed) {
            this.options.logger?.info({ database: redactUrl(this.url) }, `${this.options.label} is listening again`);
            this.options.onReconnect();
          }
        },
        (error: unknown) => {
          this.options.logger?.warn?.(
            { database: redactUrl(this.url), err: (error as Error).message, retryMs: this.#retryMs },
            `${this.options.label} cannot reconnect yet`,
          );
          this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2);
          this.#schedule();
        },
      );
    }, this.#retryMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
