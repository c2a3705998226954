import type { Tool } from '@modelcontextprotocol/server';
import type { Listings } from '../federation/catalog.js';

/**
 * How the gateway authenticates to one service. Secrets can be given literally or as
 * the name of an environment variable holding them (`*Env`), so a stored record need
 * not contain the secret itself. The client's own token never travels upstream.
 */
export type CredentialSpec =
  | { type: 'none' }
  /** The gateway's own upstream token (MESHGATE_UPSTREAM_TOKEN, else MCP_BEARER_TOKEN). */
  | { type: 'gateway' }
  | { type: 'bearer'; token?: string; tokenEnv?: string }
  | { type: 'header'; header: string; value?: string; valueEnv?: string };

/** A service the gateway federates. */
export interface ServiceRecord {
  /** Matches SERVICE_NAME_PATTERN; the namespace prefix of its tools. */
  name: string;
  /** The service's MCP endpoint URL. */
  url: string;
  /** `config` services come from configuration; `registered` ones from `POST /register`. */
  source: 'config' | 'registered';
  credential: CredentialSpec;
  /** Tools to list while the service has never been reached (from configuration). */
  fallbackTools?: Tool[];
  createdAt: string;
  updatedAt: string;
}

/** The last listings seen from a service, kept as its fallback definitions. */
export interface CatalogSnapshot extends Listings {
  service: string;
  seenAt: string;
}

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
