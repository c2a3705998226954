import type { ToolPin } from '../model/pins.js';
import type { CatalogSnapshot, ServiceRecord } from '../model/service.js';
import type { VirtualServerRecord } from '../model/virtual-server.js';

/**
 * Where registrations, last-seen catalogs and the audit log live. Async so that a
 * networked store (Postgres, for several replicas) fits behind the same interface as
 * SQLite and memory.
 */
export interface RegistryStore {
  /** Registered services (configured ones live in configuration), oldest first. */
  listServices(): Promise<ServiceRecord[]>;
  /**
   * Writes a service. With a `guard`, only if the stored row is as the guard says (compare
   * and set): absent for a registration, the `updatedAt` read for an update. Answers whether
   * it was written (false: another writer got there first). Without a guard it always writes.
   */
  putService(record: ServiceRecord, guard?: ServiceGuard): Promise<boolean>;
  /** Deletes a service and its catalog; answers whether there was one. */
  deleteService(name: string): Promise<boolean>;
  listCatalogs(): Promise<CatalogSnapshot[]>;
  /** Writes a catalog unless the stored one was seen later (`seenAt`): a slow writer never replaces newer listings. */
  /** Virtual servers made through the admin API (configured ones live in configuration), oldest first; `source` is `registered`. */
  listVirtualServers(): Promise<VirtualServerRecord[]>;
  /** Inserts or replaces the virtual server of `record.name`. */
  putVirtualServer(record: VirtualServerRecord): Promise<void>;
  deleteVirtualServer(name: string): Promise<void>;
  putCatalog(snapshot: CatalogSnapshot): Promise<void>;
  /** Appends audit entries durably, in order, all or none; the store numbers them (`seq`). */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Audit entries matching `query`, oldest first, from after its cursor. */
  queryAudit(query: AuditQuery): Promise<AuditPage>;
  /** Deletes entries older than `olderThan` and all but the newest `keep`; returns how many went. */
  pruneAudit(policy: { olderThan: string; keep: number }): Promise<number>;
  /** Every pinned tool definition (model/pins.ts), in no set order. */
  listPins(): Promise<ToolPin[]>;
  /** Stores pins durably, all or none, each replacing the one of the same service and tool. */
  putPins(pins: readonly ToolPin[]): Promise<void>;
  close(): Promise<void>;
  /**
   * The changes other processes make to the same store, for a store several gateways share
   * (Postgres). Absent for stores only one process uses (memory, SQLite).
   */
  readonly feed?: RegistryFeed;
}

/** What stores log through (a pino logger fits). */
export interface StoreLogger {
  info(obj: object, msg: string): void;
  warn?(obj: object, msg: string): void;
}

/** The compare-and-set condition of `putService`. */
export type ServiceGuard = { absent: true } | { updatedAt: string };

/** Whether a stored service (or its absence) passes `guard`: the reference every store's compare-and-set agrees with. */
export function guardHolds(stored: { updatedAt: string } | undefined, guard: ServiceGuard | undefined): boolean {
  if (guard === undefined) return true;
  return 'absent' in guard ? stored === undefined : stored?.updatedAt === guard.updatedAt;
}

/** Hears what the feed brings. Called on the feed's own schedule; must not throw. */
export interface FeedListener {
  /** Another process registered, updated or deregistered `service`: read it again. */
  changed(service: string): void;
  /**
   * Changes may have been missed (the listening connection was lost and is back, or the
   * periodic reconcile is due): read every service again.
   */
  resync(): void;
  /** Another process approved or first pinned a definition of `service`'s tools: read its pins again. */
  pinsChanged?(service: string): void;
  /** Another process created, replaced or deleted virtual server `name`: read the stored ones again. */
  virtualServerChanged?(name: string): void;
}

export interface RegistryFeed {
  /** Starts listening (once the promise resolves, changes are heard). Returns an unsubscribe. */
  subscribe(listener: FeedListener): Promise<() => Promise<void>>;
}

/** What an audit entry records: a client's call, a change of the registry through the admin API, an admin approving a changed tool definition, or a change of a virtual server. */
export type AuditKind =
  | 'tools/call'
  | 'prompts/get'
  | 'resources/read'
  | 'service.register'
  | 'service.update'
  | 'service.deregister'
  | 'tool.approve'
  | 'virtual-server.create'
  | 'virtual-server.update'
  | 'virtual-server.delete';
export const AUDIT_KINDS: readonly AuditKind[] = [
  'tools/call',
  'prompts/get',
  'resources/read',
  'service.register',
  'service.update',
  'service.deregister',
  'tool.approve',
  'virtual-server.create',
  'virtual-server.update',
  'virtual-server.delete',
];
export type AuditOutcome = 'ok' | 'tool_error' | 'error' | 'cancelled';
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['ok', 'tool_error', 'error', 'cancelled'];

/** One audit entry. Secrets never reach it: credentials are redacted, arguments are a digest unless configured. */
export interface AuditEntry {
  /** Assigned by the store, increasing; absent on entries not yet stored. */
  seq?: number;
  /** ISO-8601 UTC. */
  at: string;
  kind: AuditKind;
  /** Who: the token's or JWT subject's identity name. */
  identity: string;
  service: string | null;
  /** The tool or prompt as the client named it in the catalog, or the resource URI. */
  target: string | null;
  outcome: AuditOutcome;
  /** The JSON-RPC error code, or the error catalogue's code, when it failed. */
  code: string | null;
  durationMs: number | null;
  /** The request id (X-Request-Id) the access log and the service saw too. */
  requestId: string | null;
  /** Arguments (`argumentsDigest` or `arguments`), and for admin changes `before` and `after`. */
  detail: Record<string, unknown> | null;
}

/** Filters of `GET /audit`; every one optional. `since`/`until` are ISO-8601 bounds on `at` (inclusive, exclusive). */
export interface AuditQuery {
  identity?: string;
  service?: string;
  target?: string;
  kind?: AuditKind;
  outcome?: AuditOutcome;
  since?: string;
  until?: string;
  /** Only entries with a greater `seq` (the previous page's `nextCursor`). */
  after?: number;
  limit: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `after` for the next page; absent on the last page. */
  nextCursor?: number;
}

/** Whether `entry` passes `query`'s filters (cursor and limit aside): the memory store's query, and the reference for others. */
export function matchesAudit(entry: AuditEntry, query: AuditQuery): boolean {
  return (
    (query.identity === undefined || entry.identity === query.identity) &&
    (query.service === undefined || entry.service === query.service) &&
    (query.target === undefined || entry.target === query.target) &&
    (query.kind === undefined || entry.kind === query.kind) &&
    (query.outcome === undefined || entry.outcome === query.outcome) &&
    (query.since === undefined || entry.at >= query.since) &&
    (query.until === undefined || entry.at < query.until) &&
    (query.after === undefined || (entry.seq ?? 0) > query.after)
  );
}
