export { PostgresFeed } from './feed.js';
export { migratePostgres, POSTGRES_MIGRATIONS, REGISTRY_CHANNEL } from './migrations.js';
export { PostgresRegistryStore, type PostgresStoreOptions } from './postgres-store.js';
