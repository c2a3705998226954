import { afterAll, beforeAll } from 'vitest';
import { type PostgresServer, startPostgres } from '../../../../../test/helpers/postgres.js';
import { describeRegistryStore } from '../../../../../test/helpers/store-contract.js';
import type { RegistryStore } from '../types.js';
import { PostgresRegistryStore } from './index.js';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

describeRegistryStore('postgres', {
  persists: true,
  async open(options = {}) {
    const url = await server.createDatabase();
    const opts = { ...options, reconcileIntervalMs: 0 };
    const stores: RegistryStore[] = [await PostgresRegistryStore.open(url, undefined, opts)];
    return {
      store: stores[0]!,
      async another() {
        const store = await PostgresRegistryStore.open(url, undefined, opts);
        stores.push(store);
        return store;
      },
      async dump() {
        const database = new URL(url).pathname.slice(1);
        const tables = ['services', 'catalogs', 'audit', 'schema_migrations'];
        const rows = await Promise.all(tables.map((table) => server.query(`SELECT * FROM ${table}`, [], database)));
        return rows.map((each) => JSON.stringify(each)).join('\n');
      },
      async cleanup() {
        for (const store of stores) await store.close();
      },
    };
  },
});
