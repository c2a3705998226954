export { SqliteStore, StoreOpenError, type StoreOpenFailure } from './sqlite-store.js';
