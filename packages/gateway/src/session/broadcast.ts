import type { Subscriptions } from '../federation/subscriptions.js';
import type { TaskRouter } from '../federation/tasks.js';
import type { VirtualServers } from '../federation/virtual-servers.js';
import { sessionMaySee } from '../federation/visibility.js';
import type { ListKind, Registry } from '../registry/registry.js';
import { passesLevel } from './log-level.js';
import type { SessionRegistry } from './registry.js';

const LIST_CHANGED: Record<ListKind, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
};

/**
 * What reaches sessions from outside their own requests: a change of the federated
 * catalog as `notifications/<kind>/list_changed` to every session, resource updates to
 * their subscribers (through Subscriptions), and a service's log messages sent outside a
 * call to the sessions that asked for logs and may use something of that service (one
 * sent while exactly one call to the service is in flight is that call's: the connection
 * gives it to that call's client and it never comes here), and a task's status to the
 * session that created it. A session ending drops its subscriptions.
 */
export function wireBroadcasts(
  registry: Registry,
  sessions: SessionRegistry,
  subscriptions: Subscriptions,
  tasks: TaskRouter,
  servers?: VirtualServers,
): () => void {
  const stops = [
    registry.onCatalogChange((_catalog, changed) => {
      for (const session of sessions.values()) {
        for (const kind of changed) session.notify(LIST_CHANGED[kind], undefined);
      }
    }),
    registry.onNotification((service, method, params) => {
      if (method === 'notifications/resources/updated' && typeof params['uri'] === 'string') {
        subscriptions.updated(service, params['uri']);
        return;
      }
      if (method === 'notifications/tasks/status') {
        // Only the session that created the task hears of it, under the gateway's id.
        const id = typeof params['taskId'] === 'string' ? tasks.idOf(service, params['taskId']) : undefined;
        const owner = id === undefined ? undefined : tasks.get(id)?.session;
        if (owner !== undefined) sessions.get(owner)?.notify(method, tasks.rewrite(service, params));
        return;
      }
      if (method !== 'notifications/message') return;
      for (const session of sessions.values()) {
        if (session.logLevel === undefined || !passesLevel(params['level'], session.logLevel)) continue;
        // A session on a virtual server hears only of the services its view holds something of.
        const view = servers === undefined ? registry.catalog : servers.catalogOf(session.server, registry.catalog);
        if (!sessionMaySee(view, session.server !== undefined, session.identity, service)) continue;
        session.notify(method, params);
      }
    }),
    sessions.onClose((session) => subscriptions.forget(session, session.subscribed.values())),
    // With several replicas the subscription is held upstream by the replica that took it; an unsubscribe may land elsewhere.
    sessions.onRemoteChange((session, change) => {
      const entry = change.kind === 'unsubscribed' ? session.subscribed.get(change.uri) : undefined;
      if (entry !== undefined) void subscriptions.unsubscribe(entry.service, entry.upstreamUri, session);
    }),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
