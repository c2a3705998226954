import type { FeedListener, RegistryFeed, StoreLogger } from '../types.js';
import { PgListener } from './listen.js';
import { PIN_PREFIX, REGISTRY_CHANNEL, VIRTUAL_SERVER_PREFIX } from './migrations.js';

/**
 * What one notification says (migrations.ts's triggers): a service's name (services can't
 * have a ':' in their names), `pin:<service>` or `virtual-server:<name>`.
 */
function tell(listener: FeedListener, payload: string): void {
  if (payload.startsWith(PIN_PREFIX)) listener.pinsChanged?.(payload.slice(PIN_PREFIX.length));
  else if (payload.startsWith(VIRTUAL_SERVER_PREFIX)) listener.virtualServerChanged?.(payload.slice(VIRTUAL_SERVER_PREFIX.length));
  else listener.changed(payload);
}

export interface FeedOptions {
  /** Every this often, listeners resync even with no notification (a safety net for anything missed); 0: never. */
  reconcileIntervalMs: number;
  logger?: StoreLogger | undefined;
}

/**
 * The registry change feed on Postgres: the `services` trigger NOTIFYs the service's name on
 * every committed write, the `tool_pins` and `virtual_servers` triggers a prefixed name (migrations.ts), this LISTENs on one dedicated connection and tells
 * the listeners; a reconnect, and the periodic reconcile, tell them to re-read everything.
 * Notifications of this process's own writes arrive too: the Registry finds them unchanged.
 */
export class PostgresFeed implements RegistryFeed {
  readonly #listeners = new Set<FeedListener>();
  readonly #listener: PgListener;
  #started: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(url: string, options: FeedOptions) {
    const each = (hear: (listener: FeedListener) => void) => {
      for (const listener of this.#listeners) hear(listener);
    };
    this.#listener = new PgListener(url, {
      channels: [REGISTRY_CHANNEL],
      onNotification: (_, payload) => each((listener) => tell(listener, payload)),
      onReconnect: () => each((listener) => listener.resync()),
      label: 'the registry change feed',
      applicationName: `meshgate-feed:${process.pid}`,
      logger: options.logger,
    });
    if (options.reconcileIntervalMs > 0) {
      this.#timer = setInterval(() => each((listener) => listener.resync()), options.reconcileIntervalMs);
      this.#timer.unref();
    }
  }

  /** The server process id of the listening connection, for tests that cut it. */
  get backendPid(): number | undefined {
    return this.#listener.backendPid;
  }

  async subscribe(listener: FeedListener): Promise<() => Promise<void>> {
    this.#started ??= this.#listener.start();
    await this.#started;
    this.#listeners.add(listener);
    return async () => {
      this.#listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#listeners.clear();
    await this.#listener.close();
  }
}
