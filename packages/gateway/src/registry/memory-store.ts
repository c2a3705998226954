import type { CatalogSnapshot, ServiceRecord } from '../model/service.js';
import type { VirtualServerRecord } from '../model/virtual-server.js';
import { type AuditEntry, type AuditPage, type AuditQuery, matchesAudit, type RegistryStore } from './types.js';

/** A store that lives as long as the process: for tests and for `MESHGATE_DB_PATH=:memory:`-like use. */
export class MemoryStore implements RegistryStore {
  readonly #services = new Map<string, ServiceRecord>();
  readonly #catalogs = new Map<string, CatalogSnapshot>();
  readonly #virtualServers = new Map<string, VirtualServerRecord>();
  /** Oldest first, numbered from 1. */
  #audit: AuditEntry[] = [];
  #seq = 0;

  async listServices(): Promise<ServiceRecord[]> {
    return [...this.#services.values()].map((record) => structuredClone(record));
  }

  async putService(record: ServiceRecord): Promise<void> {
    this.#services.set(record.name, structuredClone(record));
  }

  async deleteService(name: string): Promise<void> {
    this.#services.delete(name);
    this.#catalogs.delete(name);
  }

  async listCatalogs(): Promise<CatalogSnapshot[]> {
    return [...this.#catalogs.values()].map((snapshot) => structuredClone(snapshot));
  }

  async putCatalog(snapshot: CatalogSnapshot): Promise<void> {
    this.#catalogs.set(snapshot.service, structuredClone(snapshot));
  }

  async listVirtualServers(): Promise<VirtualServerRecord[]> {
    return [...this.#virtualServers.values()].map((record) => structuredClone(record));
  }

  async putVirtualServer(record: VirtualServerRecord): Promise<void> {
    this.#virtualServers.set(record.name, structuredClone(record));
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

  async close(): Promise<void> {}
}
