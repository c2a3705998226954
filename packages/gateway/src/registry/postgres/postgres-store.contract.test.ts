import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../../../../../test/helpers/postgres.js';
import { describeRegistryStore } from '../../../../../test/helpers/store-contract.js';
import { StoreOpenError } from '../store-error.js';
import type { RegistryStore } from '../types.js';
import { POSTGRES_MIGRATIONS, PostgresRegistryStore } from './index.js';

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

describe('PostgresRegistryStore migrations', () => {
  it('records each step once in schema_migrations however often it opens, replicas opening together included', async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => PostgresRegistryStore.open(url, undefined, { reconcileIntervalMs: 0 })));
    stores.push(await PostgresRegistryStore.open(url, undefined, { reconcileIntervalMs: 0 }));
    await Promise.all(stores.map((store) => store.close()));
    const rows = await server.query<{ version: number; name: string }>(
      "SELECT version, name FROM schema_migrations WHERE scope = 'registry' ORDER BY version",
      [],
      new URL(url).pathname.slice(1),
    );
    expect(rows).toEqual(POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })));
  });

  it('refuses a database whose schema is newer than this build, naming the setting and hiding the password', async () => {
    const url = await server.createDatabase();
    await (await PostgresRegistryStore.open(url, undefined, { reconcileIntervalMs: 0 })).close();
    await server.query("INSERT INTO schema_migrations (scope, version, name) VALUES ('registry', 99, 'from the future')", [], new URL(url).pathname.slice(1));
    const withPassword = url.replace('meshgate@', 'meshgate:pw-hidden@');
    const error = await PostgresRegistryStore.open(withPassword, undefined, { reconcileIntervalMs: 0 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreOpenError);
    expect(error).toMatchObject({ reason: 'schema-too-new' });
    expect((error as Error).message).toContain(
      `schema version 99 is newer than this Meshgate (${POSTGRES_MIGRATIONS.at(-1)?.version}); upgrade Meshgate or point MESHGATE_DATABASE_URL`,
    );
    expect((error as Error).message).not.toContain('pw-hidden');
  });
});
