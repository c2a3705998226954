export { startGateway, type Gateway } from './app.js';
export { loadConfig, ConfigError, type GatewayConfig } from './config/load.js';
export { ENV_VARS } from './config/schema.js';
export { Catalog, type CatalogEntry, type NameClash, type ServiceTools } from './federation/catalog.js';
export { qualify, unqualify, isValidServiceName, SERVICE_NAME_PATTERN } from './federation/naming.js';
export { GATEWAY_ERRORS, GatewayError, type GatewayErrorCode } from './errors.js';
export { MemoryStore } from './registry/memory-store.js';
export { SqliteStore, StoreOpenError } from './registry/sqlite/index.js';
export type { RegistryStore, ServiceRecord, CatalogSnapshot, CredentialSpec } from './registry/types.js';
