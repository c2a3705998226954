import type { Catalog } from '../model/catalog.js';
import { type ManagedService, Registry } from '../registry/registry.js';
import { redactCredential } from '../upstream/credentials.js';

/** How `/services` shows one service: state, tools (prompts, resources) as exposed and as named upstream, no secrets. */
export function serviceView(service: ManagedService, catalog: Catalog) {
  const { record, connection } = service;
  const origin = Registry.listingsOf(service).origin;
  const entries = catalog.forService(record.name);
  const names = (list: readonly { exposedName: string; upstreamName: string }[]) =>
    list.map((entry) => ({ name: entry.exposedName, upstreamName: entry.upstreamName }));
  return {
    name: record.name,
    url: record.url,
    source: record.source,
    status: connection.status,
    circuit: connection.circuit,
    statusChangedAt: connection.statusChangedAt,
    lastError: connection.lastError ?? null,
    lastSeenAt: connection.lastSeenAt ?? null,
    toolsFrom: origin,
    tools: names(entries.tools),
    prompts: names(entries.prompts),
    resources: names(entries.resources),
    resourceTemplates: names(entries.resourceTemplates),
    clashes: catalog.clashes.filter((clash) => clash.service === record.name || clash.owner === record.name),
    credential: redactCredential(record.credential),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/**
 * The short per-service status `/health` reports. The reason of a failure (an error
 * message, which can name hosts and ports of the gateway's network) only with
 * `withReason`: to a caller with a valid token.
 */
export function healthView(service: ManagedService, withReason: boolean) {
  const { status, statusChangedAt, lastError } = service.connection;
  return {
    status,
    since: statusChangedAt,
    ...(lastError === undefined || !withReason ? {} : { reason: lastError }),
    tools: Registry.listingsOf(service).listings.tools.length,
  };
}
