import type { Logger } from 'pino';
import type { VirtualServers } from '../federation/virtual-servers.js';
import { sessionMaySee } from '../federation/visibility.js';
import type { Registry } from '../registry/registry.js';
import { relayRefusal } from '../upstream/relay.js';
import type { SessionRegistry } from './registry.js';
import type { Session } from './session.js';

/** How long a service's request outside any call waits for the client's answer. */
export const OUTSIDE_CALL_RELAY_MS = 30_000;

/**
 * Who answers a service outside any call. A service shares one session with the gateway
 * whoever its clients are, so what it asks on its own (for HTTP, on its GET stream) has no
 * caller; the gateway's policy:
 *
 * - `roots/list` goes to the one client session that declared roots, may see the service
 *   and holds a GET stream open to be asked on. With none, or several (whose roots would
 *   have to be merged or chosen between), the answer is no roots.
 * - Everything else (sampling, elicitation) is refused: with nobody's call in flight the
 *   gateway cannot know whose model or user to ask.
 *
 * A service that caches roots (server-everything asks once per session) hears
 * `notifications/roots/list_changed` whenever that answer may have changed: a roots client
 * opened its stream, said its roots changed, or left.
 */
export class ServiceAudience {
  constructor(
    private readonly registry: Registry,
    private readonly sessions: SessionRegistry,
    private readonly logger: Logger,
    /** The virtual servers: a session on one hears only of the services its view holds something of. */
    private readonly servers?: VirtualServers,
  ) {}

  #maySee(session: Session, service: string): boolean {
    const { catalog } = this.registry;
    const view = this.servers === undefined ? catalog : this.servers.catalogOf(session.server, catalog);
    return sessionMaySee(view, session.server !== undefined, session.identity, service);
  }

  /** Takes the registry's requests outside calls and follows sessions ending. Returns a stop. */
  start(): () => void {
    this.registry.onServiceRequest((service, method, params) => this.request(service, method, params));
    const changed = (session: Session) => {
      if (session.takes('roots/list')) this.rootsChanged(session);
    };
    const stops = [this.sessions.onStream(changed), this.sessions.onClose(changed)];
    return () => {
      this.registry.onServiceRequest(undefined);
      for (const stop of stops) stop();
    };
  }

  request(service: string, method: string, params: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
    if (method !== 'roots/list') return Promise.reject(relayRefusal(method, service));
    const [only, another] = this.#rootsClients(service);
    const stream = only?.stream;
    // A GET stream whose client is away keeps notifications for it, but a request must be answered now.
    if (only === undefined || another !== undefined || stream === undefined || !stream.connected) return Promise.resolve({ roots: [] });
    return new Promise((resolve) => {
      let relayId: string | undefined;
      const timer = setTimeout(() => {
        // The client never answered: the service gets no roots, and the relay is forgotten.
        if (relayId !== undefined) only.relays.delete(relayId);
        this.logger.info({ service, session: only.id }, 'a client did not answer roots/list for a service within 30 s; answered no roots');
        resolve({ roots: [] });
      }, OUTSIDE_CALL_RELAY_MS).unref();
      only
        .ask(
          stream,
          method,
          params,
          (id) => {
            relayId = id;
          },
          this.logger,
        )
        .then(resolve, () => resolve({ roots: [] }))
        .finally(() => clearTimeout(timer));
    });
  }

  /** `session`'s roots may have changed: the services it may see hear `notifications/roots/list_changed`. */
  rootsChanged(session: Session): void {
    for (const service of this.registry.list()) {
      if (this.#maySee(session, service.record.name)) service.connection.notify('notifications/roots/list_changed', undefined);
    }
  }

  /** The open sessions that take roots/list and may see `service`. */
  #rootsClients(service: string): Session[] {
    const found: Session[] = [];
    for (const session of this.sessions.values()) {
      if (session.closed || !session.takes('roots/list') || !this.#maySee(session, service)) continue;
      found.push(session);
      if (found.length > 1) break;
    }
    return found;
  }
}
