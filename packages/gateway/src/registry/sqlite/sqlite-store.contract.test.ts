import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describeRegistryStore } from '../../../../../test/helpers/store-contract.js';
import type { RegistryStore } from '../types.js';
import { SqliteStore } from './index.js';

describeRegistryStore('sqlite', {
  persists: true,
  async open(options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'meshgate-contract-'));
    const path = join(dir, 'registry.sqlite');
    const stores: RegistryStore[] = [SqliteStore.open(path, undefined, options)];
    return {
      store: stores[0]!,
      async another() {
        const store = SqliteStore.open(path, undefined, options);
        stores.push(store);
        return store;
      },
      async dump() {
        // Every row, and the raw bytes of the file and its WAL: a secret must be in neither.
        const db = new Database(path, { readonly: true });
        const rows = ['services', 'catalogs', 'audit'].map((table) => JSON.stringify(db.prepare(`SELECT * FROM ${table}`).all()));
        db.close();
        const files = [path, `${path}-wal`].filter(existsSync).map((file) => readFileSync(file).toString('latin1'));
        return [...rows, ...files].join('\n');
      },
      async cleanup() {
        for (const store of stores) await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
