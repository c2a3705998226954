/**
 * Federation loops: a gateway registered as its own service, or two gateways federating
 * each other, would announce `list_changed` to themselves for ever. Every Meshgate process
 * has a random instance id and says in its `initialize` result which instances it is and
 * federates (`_meta["io.meshgate/instances"]`). A connection whose service names this
 * gateway's own id leads back here, and is refused before anything is listed.
 */
import { randomUUID } from 'node:crypto';

/** The `_meta` key of the instance list in an `initialize` result. */
export const INSTANCES_META_KEY = 'io.meshgate/instances';
/** Longest instance list read or sent: enough for any real chain, bounded for a hostile one. */
export const MAX_INSTANCES = 64;
const INSTANCE_ID = /^[A-Za-z0-9-]{1,64}$/;

/** A fresh id for this gateway process. */
export function newInstanceId(): string {
  return randomUUID();
}

/** The instance ids a service's `initialize` `_meta` names, bounded and checked; empty for a service that is no gateway. */
export function instancesOf(meta: unknown): string[] {
  if (typeof meta !== 'object' || meta === null) return [];
  const list = (meta as Record<string, unknown>)[INSTANCES_META_KEY];
  if (!Array.isArray(list)) return [];
  return list.slice(0, MAX_INSTANCES).filter((id): id is string => typeof id === 'string' && INSTANCE_ID.test(id));
}

/** The `_meta` this gateway answers `initialize` with: itself first, then every instance behind its services. */
export function instancesMeta(own: string, behind: Iterable<string>): Record<string, unknown> {
  const all = new Set([own, ...behind]);
  return { [INSTANCES_META_KEY]: [...all].slice(0, MAX_INSTANCES) };
}

/** The service is this gateway, or reaches it through other gateways. */
export class FederationLoopError extends Error {
  override readonly name = 'FederationLoopError';
}
