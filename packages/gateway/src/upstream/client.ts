import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import { describeCause } from './errors.js';
import { limitedFetch } from './limited-fetch.js';
import { type Downstream, relayHandlers, UPSTREAM_CLIENT_CAPABILITIES } from './relay.js';

const VERSION = '0.1.0';
/** Notifications from a service that the gateway passes on to its own clients. */
const FORWARDED_NOTIFICATIONS = ['notifications/resources/updated', 'notifications/message'] as const;

export interface UpstreamClientOptions {
  service: string;
  url: string;
  /** The service's own credential, as headers. */
  headers: Record<string, string>;
  maxResponseBytes: number;
  logger: Logger;
  /** The downstreams of the calls in flight (see relay.ts). */
  callers: ReadonlySet<Downstream>;
  /** Any `notifications/*\/list_changed` from the service. */
  onListChanged: () => void;
  /** A notification not about one call (resource updates, log messages outside calls). */
  onNotification: (method: string, params: Record<string, unknown>) => void;
}

/**
 * An SDK client for one service, not yet connected: it opens the session, lists, probes
 * and holds the GET notification stream (calls themselves take lean-call.ts). The
 * service's credential goes on every request, answers are capped in size, list changes
 * and notifications are wired up, and the service's requests to its client (sampling,
 * elicitation, roots) are relayed.
 */
export function createUpstreamClient(options: UpstreamClientOptions): { client: Client; transport: StreamableHTTPClientTransport } {
  const { service, callers } = options;
  const client = new Client({ name: 'meshgate', version: VERSION }, { capabilities: UPSTREAM_CLIENT_CAPABILITIES });
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers: options.headers },
    fetch: limitedFetch(options.maxResponseBytes),
  });
  for (const kind of ['tools', 'prompts', 'resources'] as const) {
    client.setNotificationHandler(`notifications/${kind}/list_changed`, () => options.onListChanged());
  }
  // Calls go through lean-call.ts, so what arrives here came on the GET stream: not about one call.
  for (const method of FORWARDED_NOTIFICATIONS) {
    client.setNotificationHandler(method, (notification) => options.onNotification(method, notification.params as Record<string, unknown>));
  }
  const soleCaller = () => (callers.size === 1 ? callers.values().next().value : undefined);
  for (const [method, handler] of relayHandlers(service, soleCaller)) client.setRequestHandler(method as never, handler as never);
  client.onerror = (error) => options.logger.debug({ service, reason: describeCause(error) }, 'upstream transport error');
  return { client, transport };
}
