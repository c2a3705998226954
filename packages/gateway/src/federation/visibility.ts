import type { GatewayIdentity } from '../auth/tokens.js';
import type { Catalog } from '../model/catalog.js';

/**
 * Which services an identity may see: those it may use at least one item of. A token
 * with an allow-list learns nothing of the others (not their log messages, their
 * instructions, or their requests). Worked out once per catalog and allow-list, since the
 * catalog is rebuilt only when something changes.
 */
const cache = new WeakMap<Catalog, WeakMap<object, ReadonlySet<string>>>();

/** The services `identity` may see in `catalog`, or undefined when it may see them all (no allow-list). */
export function servicesVisibleTo(catalog: Catalog, identity: GatewayIdentity): ReadonlySet<string> | undefined {
  const { allowList } = identity;
  if (allowList === undefined) return undefined;
  let perList = cache.get(catalog);
  if (perList === undefined) {
    perList = new WeakMap();
    cache.set(catalog, perList);
  }
  let visible = perList.get(allowList);
  if (visible === undefined) {
    const services = new Set<string>();
    for (const index of [catalog.tools, catalog.prompts, catalog.resources, catalog.resourceTemplates]) {
      for (const entry of index.entries) if (allowList.allows(entry)) services.add(entry.service);
    }
    visible = services;
    perList.set(allowList, visible);
  }
  return visible;
}

const served = new WeakMap<Catalog, ReadonlySet<string>>();

/** The services `catalog` holds anything of (a virtual server's view holds some), worked out once per catalog. */
function servicesIn(catalog: Catalog): ReadonlySet<string> {
  let services = served.get(catalog);
  if (services === undefined) {
    const found = new Set<string>();
    for (const index of [catalog.tools, catalog.prompts, catalog.resources, catalog.resourceTemplates])
      for (const entry of index.entries) found.add(entry.service);
    services = found;
    served.set(catalog, services);
  }
  return services;
}

/**
 * Whether a session may hear of `service` (its log messages, its roots requests): on `/mcp`
 * (`view` is the federated catalog, `inView` false) as `maySee` says; on a virtual server
 * only when its view holds something of the service, and its identity may see it there.
 * `view` undefined (the session's virtual server was deleted): nothing.
 */
export function sessionMaySee(view: Catalog | undefined, inView: boolean, identity: GatewayIdentity, service: string): boolean {
  if (view === undefined) return false;
  if (inView && !servicesIn(view).has(service)) return false;
  return maySee(view, identity, service);
}

/** Whether `identity` may see `service` in `catalog`. */
export function maySee(catalog: Catalog, identity: GatewayIdentity, service: string): boolean {
  return servicesVisibleTo(catalog, identity)?.has(service) ?? true;
}
