import type { ToolPin } from '../model/pins.js';
import type { CatalogSnapshot, ServiceRecord } from '../model/service.js';
import type { VirtualServerRecord } from '../model/virtual-server.js';
import { type AuditEntry, type AuditPage, type AuditQuery, guardHolds, matchesAudit, type RegistryStore, type ServiceGuard } from './types.js';

/** A store that lives as long as the process: for tests and for `MESHGATE_DB_PATH=:memory:`-like use. */
export class MemoryStore implements RegistryStore {
  readonly #services = new Map<string, ServiceRecord>();
  readonly #catalogs = new Map<string, CatalogSnapshot>();
  readonly #virtualServers = new Map<string, VirtualServerRecord>();
  /** Oldest first, numbered from 1. */
  #audit: AuditEntry[] = [];
  #seq = 0;
  readonly #pins = new Map<string, ToolPin>();

  async listServices(): Promise<ServiceRecord[]> {
    // Oldest first like the SQL stores; the sort is stable, so ties stay in insertion order (a Map keeps it on replace).
    return [...this.#services.values()]
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))
      .map((record) => structuredClone(record));
  }

  async putService(record: ServiceRecord, guard?: ServiceGuard): Promise<boolean> {
    if (!guardHolds(this.#services.get(record.name), guard)) return false;
    this.#services.set(record.name, structuredClone(record));
    return true;
  }

  async deleteService(name: string): Promise<boolean> {
    this.#catalogs.delete(name);
    return this.#services.delete(name);
  }

  async listCatalogs(): Promise<CatalogSnapshot[]> {
    return [...this.#catalogs.values()].map((snapshot) => structuredClone(snapshot));
  }

  async putCatalog(snapshot: CatalogSnapshot): Promise<void> {
    const stored = this.#catalogs.get(snapshot.service);
    if (stored !== undefined && stored.seenAt > snapshot.seenAt) return;
    this.#catalogs.set(snapshot.service, structuredClone(snapshot));
  }

  async listVirtualServers(): Promise<VirtualServerRecord[]> {
    // Oldest first, ties in insertion order, as the SQL stores list them.
    return [...this.#virtualServers.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((record) => structuredClone(record));
  }

  async putVirtualServer(record: VirtualServerRecord): Promise<void> {
    // Replacing keeps the first creation time, as the SQL stores' upsert does.
    const createdAt = this.#virtualServers.get(record.name)?.createdAt ?? record.createdAt;
    this.#virtualServers.set(record.name, structuredClone({ ...record, createdAt }));
  }

  async deleteVirtualServer(name: string): Promise<void> {
    this.#virtualServers.delete(name);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    for (const entry of entries) {
      this.#seq += 1;
      this.#audit.push({ ...structuredClone(entry), seq: this.#seq });
    }
  }

  async queryAudit(query: AuditQuery): Promise<AuditPage> {
    const matched: AuditEntry[] = [];
    for (const entry of this.#audit) {
      if (!matchesAudit(entry, query)) continue;
      if (matched.length === query.limit) return { entries: matched, nextCursor: matched.at(-1)?.seq ?? 0 };
      matched.push(structuredClone(entry));
    }
    return { entries: matched };
  }

  async pruneAudit(policy: { olderThan: string; keep: number }): Promise<number> {
    const before = this.#audit.length;
    const young = this.#audit.filter((entry) => entry.at >= policy.olderThan);
    this.#audit = young.slice(Math.max(0, young.length - policy.keep));
    return before - this.#audit.length;
  }

  async listPins(): Promise<ToolPin[]> {
    return [...this.#pins.values()].map((pin) => structuredClone(pin));
  }

  async putPins(pins: readonly ToolPin[]): Promise<void> {
    for (const pin of pins) this.#pins.set(JSON.stringify([pin.service, pin.tool]), structuredClone(pin));
  }

  async close(): Promise<void> {}
}
