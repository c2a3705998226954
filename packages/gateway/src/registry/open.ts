import type pg from 'pg';
import { migrateCluster } from '../cluster/postgres-session-state.js';
import type { GatewayConfig } from '../config/load.js';
import { redactUrl } from '../model/service.js';
import { PostgresRegistryStore } from './postgres/index.js';
import { SqliteStore } from './sqlite/index.js';
import { StoreOpenError } from './store-error.js';
import type { RegistryStore, StoreLogger } from './types.js';

/** What several replicas share when the registry is on Postgres: its pool and URL, for the cluster stores and rate limits. */
export interface SharedDatabase {
  pool: pg.Pool;
  url: string;
}

/**
 * The registry store the configuration asks for: Postgres (with the cluster tables made,
 * `../cluster/`) when MESHGATE_DATABASE_URL is set, else the SQLite file. Throws a
 * StoreOpenError that names the setting and never holds a password.
 */
export async function openRegistryStore(
  config: Pick<GatewayConfig, 'dbPath' | 'database' | 'credentials'>,
  logger: StoreLogger,
): Promise<{ store: RegistryStore; shared?: SharedDatabase }> {
  const secretKey = config.credentials.secretKey;
  if (config.database === undefined) return { store: SqliteStore.open(config.dbPath, logger, { secretKey }) };
  const { url, reconcileIntervalMs } = config.database;
  const store = await PostgresRegistryStore.open(url, logger, { secretKey, reconcileIntervalMs });
  try {
    await migrateCluster(store.pool);
  } catch (error) {
    await store.close();
    throw new StoreOpenError(redactUrl(url), 'unavailable', (error as Error).message, 'check MESHGATE_DATABASE_URL');
  }
  return { store, shared: { pool: store.pool, url } };
}
