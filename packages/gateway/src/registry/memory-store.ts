import type { CatalogSnapshot, ServiceRecord } from '../model/service.js';
import type { RegistryStore } from './types.js';

/** A store that lives as long as the process: for tests and for `MESHGATE_DB_PATH=:memory:`-like use. */
export class MemoryStore implements RegistryStore {
  readonly #services = new Map<string, ServiceRecord>();
  readonly #catalogs = new Map<string, CatalogSnapshot>();

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

  async close(): Promise<void> {}
}
