import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';

/**
 * Resource subscriptions one session may hold: each is state the gateway keeps (and a
 * subscription upstream), so a client subscribing in a loop must not grow it without bound.
 */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 1_000;

/** A client that subscribes to resources: told of updates under the URI it used. */
export interface Subscriber {
  resourceUpdated(uri: string): void;
}

/**
 * Resource subscriptions, shared upstream: the first client to subscribe to a service's
 * resource subscribes the gateway; the last to leave unsubscribes it. An update from the
 * service reaches every client subscribed to that resource, under the URI it used. When a
 * service comes back up (a new upstream session), the gateway subscribes again.
 */
export class Subscriptions {
  /** `<service> <upstream uri>` -> subscribers, each with the URI it subscribed by. */
  readonly #byResource = new Map<string, Map<Subscriber, string>>();

  constructor(
    private readonly registry: Registry,
    private readonly logger: Logger,
  ) {
    registry.onStatusChange((service, status) => {
      if (status === 'up') this.#resubscribe(service);
    });
  }

  #resubscribe(service: string): void {
    for (const key of this.#byResource.keys()) {
      if (!key.startsWith(`${service} `)) continue;
      const uri = key.slice(service.length + 1);
      this.#connection(service)
        ?.request('resources/subscribe', { uri })
        .catch((error: unknown) => this.logger.warn({ service, uri, err: error }, `could not renew the subscription to "${uri}" of service "${service}"`));
    }
  }

  async subscribe(service: string, upstreamUri: string, subscriber: Subscriber, exposedUri: string): Promise<void> {
    const key = `${service} ${upstreamUri}`;
    let subscribers = this.#byResource.get(key);
    if (subscribers === undefined) {
      subscribers = new Map();
      this.#byResource.set(key, subscribers);
      try {
        await this.#connection(service)?.request('resources/subscribe', { uri: upstreamUri });
      } catch (error) {
        this.#byResource.delete(key);
        throw error;
      }
    }
    subscribers.set(subscriber, exposedUri);
  }

  async unsubscribe(service: string, upstreamUri: string, subscriber: Subscriber): Promise<void> {
    const key = `${service} ${upstreamUri}`;
    const subscribers = this.#byResource.get(key);
    if (subscribers === undefined || !subscribers.delete(subscriber) || subscribers.size > 0) return;
    this.#byResource.delete(key);
    await this.#connection(service)
      ?.request('resources/unsubscribe', { uri: upstreamUri })
      .catch((error: unknown) => this.logger.debug({ service, err: error }, 'upstream unsubscribe failed'));
  }

  /** Drops every subscription of one client (its session ended). */
  forget(subscriber: Subscriber, entries: Iterable<{ service: string; upstreamUri: string }>): void {
    for (const { service, upstreamUri } of entries) void this.unsubscribe(service, upstreamUri, subscriber);
  }

  /** A service's `notifications/resources/updated`. */
  updated(service: string, upstreamUri: string): void {
    for (const [subscriber, uri] of this.#byResource.get(`${service} ${upstreamUri}`) ?? []) subscriber.resourceUpdated(uri);
  }

  #connection(service: string) {
    return this.registry.get(service)?.connection;
  }
}
