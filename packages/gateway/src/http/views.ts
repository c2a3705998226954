import type { GatewayIdentity } from '../auth/tokens.js';
import type { Catalog } from '../model/catalog.js';
import type { IndexEntry } from '../model/item-index.js';
import { redactUrl, type ServiceRecord } from '../model/service.js';
import { type ManagedService, Registry } from '../registry/registry.js';
import { redactCredential } from '../upstream/credentials.js';

/**
 * How `/services` shows one service to an admin: state, tools (prompts, resources) as
 * exposed and as named upstream, rejected items, clashes; no secrets (literal secrets
 * redacted, and secrets in the URL's query too).
 */
export function serviceView(service: ManagedService, registry: Registry) {
  const { record, connection } = service;
  const { catalog } = registry;
  const origin = Registry.listingsOf(service).origin;
  const entries = catalog.forService(record.name);
  const names = (list: readonly { exposedName: string; upstreamName: string }[]) =>
    list.map((entry) => ({ name: entry.exposedName, upstreamName: entry.upstreamName }));
  return {
    name: record.name,
    ...where(record),
    source: record.source,
    status: connection.status,
    circuit: connection.circuit,
    statusChangedAt: connection.statusChangedAt,
    lastError: connection.lastError ?? null,
    lastSeenAt: connection.lastSeenAt ?? null,
    toolsFrom: origin,
    tools: entries.tools.map((entry) => ({ name: entry.exposedName, upstreamName: entry.upstreamName, ...(entry.aliased === true ? { aliased: true } : {}) })),
    prompts: names(entries.prompts),
    resources: names(entries.resources),
    resourceTemplates: names(entries.resourceTemplates),
    rejected: Registry.listingsOf(service).listings.rejected ?? [],
    clashes: catalog.clashes.filter((clash) => clash.service === record.name || clash.owner === record.name),
    credential: redactCredential(record.credential),
    surface: surfaceView(service, registry),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/**
 * How the service's tools are surfaced (docs/tool-surfaces.md): its settings as they apply,
 * overrides that did not apply, changes held back by pinning (before and after), flagged
 * and stripped text.
 */
function surfaceView(service: ManagedService, registry: Registry) {
  const { overrides, ...settings } = registry.surfaceSettings(service.record);
  const report = registry.surfaceReport(service.record.name);
  return { ...settings, overrides: overrides ?? {}, ...report };
}

/**
 * Where the service is: its URL (secrets in its query redacted), or the command it runs. A
 * command's environment values may be secrets, so only the variables' names are shown.
 */
function where(record: ServiceRecord) {
  if (record.command === undefined) return { url: redactUrl(record.url), transport: record.transport ?? 'auto' };
  const { command, args, env, cwd, stdio } = record.command;
  return { command: { command, args, envNames: Object.keys(env), ...(cwd === undefined ? {} : { cwd }), stdio } };
}

/**
 * What a token without the admin role may see of one service: only what its allow-list
 * lets it use, and nothing of how the gateway reaches the service (URL, credential, last
 * error, clashes). Undefined when it may use nothing of the service: a service is as
 * hidden from it as its tools are in `tools/list`.
 */
export function clientServiceView(service: ManagedService, catalog: Catalog, identity: GatewayIdentity) {
  const entries = catalog.forService(service.record.name);
  const allowList = identity.allowList;
  const visible = (list: readonly IndexEntry<unknown>[]) =>
    (allowList === undefined ? list : list.filter((entry) => allowList.allows(entry))).map((entry) => ({ name: entry.exposedName }));
  const tools = visible(entries.tools);
  const prompts = visible(entries.prompts);
  const resources = visible(entries.resources);
  const resourceTemplates = visible(entries.resourceTemplates);
  if (allowList !== undefined && tools.length + prompts.length + resources.length + resourceTemplates.length === 0) return undefined;
  return { name: service.record.name, status: service.connection.status, tools, prompts, resources, resourceTemplates };
}

/** Whether the caller sees the admin's view of `/services`. */
export function seesEverything(identity: GatewayIdentity): boolean {
  return identity.roles.has('admin');
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
