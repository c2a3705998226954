import type { CatalogSnapshot, ServiceRecord } from '../model/service.js';

/**
 * Where registrations and last-seen catalogs live. Async so that a networked store
 * (Postgres, for several replicas) fits behind the same interface as SQLite and memory.
 */
export interface RegistryStore {
  /** Registered services (configured ones live in configuration), oldest first. */
  listServices(): Promise<ServiceRecord[]>;
  putService(record: ServiceRecord): Promise<void>;
  deleteService(name: string): Promise<void>;
  listCatalogs(): Promise<CatalogSnapshot[]>;
  putCatalog(snapshot: CatalogSnapshot): Promise<void>;
  close(): Promise<void>;
}
