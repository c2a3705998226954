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

/** Whether `identity` may see `service` in `catalog`. */
export function maySee(catalog: Catalog, identity: GatewayIdentity, service: string): boolean {
  return servicesVisibleTo(catalog, identity)?.has(service) ?? true;
}
