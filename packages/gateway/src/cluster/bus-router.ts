/** What every bus does with a message once it arrives: hand it to the handlers it is addressed to. */

import type { BusHandler, BusMessage } from './types.js';
import { MAX_BUS_BODY_BYTES } from './types.js';

/** The body as JSON text; throws a clear error for a body that is not JSON or too large. */
export function checkBody(body: unknown): string {
  const text = JSON.stringify(body);
  if (text === undefined) throw new TypeError('a bus message body must be JSON');
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_BUS_BODY_BYTES) throw new RangeError(`a bus message body is ${size} bytes, over the ${MAX_BUS_BODY_BYTES} a bus carries`);
  return text;
}

export class BusRouter {
  readonly #sessions = new Map<string, Set<BusHandler>>();
  readonly #replica = new Set<BusHandler>();

  constructor(
    readonly replicaId: string,
    readonly onHandlerError: (error: unknown, message: BusMessage) => void = () => {},
  ) {}

  subscribeSession(key: string, handler: BusHandler): () => void {
    let handlers = this.#sessions.get(key);
    if (handlers === undefined) {
      handlers = new Set();
      this.#sessions.set(key, handlers);
    }
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.#sessions.get(key) === handlers) this.#sessions.delete(key);
    };
  }

  onReplicaMessage(handler: BusHandler): () => void {
    this.#replica.add(handler);
    return () => this.#replica.delete(handler);
  }

  /** Whether this replica holds handlers for `key` (a sender's bus can skip the network for its own sessions). */
  holdsSession(key: string): boolean {
    return this.#sessions.has(key);
  }

  deliver(message: BusMessage): void {
    const { to } = message;
    const handlers = 'session' in to ? [...(this.#sessions.get(to.session) ?? [])] : 'all' in to || to.replica === this.replicaId ? [...this.#replica] : [];
    for (const handler of handlers) {
      try {
        handler(message);
      } catch (error) {
        this.onHandlerError(error, message);
      }
    }
  }

  clear(): void {
    this.#sessions.clear();
    this.#replica.clear();
  }
}
