/**
 * The contract every `RegistryStore` keeps (memory, SQLite, Postgres): one suite, run by a
 * test file per store with a harness that opens that store. What only one store has
 * (files and locks for SQLite, the change feed for Postgres) stays in that store's tests.
 *
 *   describeRegistryStore('sqlite', { open: async () => ({ store, another, dump, cleanup }) });
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CatalogSnapshot, ServiceRecord, UrlServiceRecord } from '../../packages/gateway/src/model/service.js';
import type { AuditEntry, RegistryStore } from '../../packages/gateway/src/registry/types.js';

export interface OpenedStore {
  store: RegistryStore;
  /**
   * Another store on the same data, as another process would open it (a second connection
   * to the file, a second pool): it runs the migrations again, and writes beside `store`.
   * The memory store, which no other process can see, returns itself.
   */
  another(): Promise<RegistryStore>;
  /** Everything the store persisted, as text (every row of every table), to look for secrets in clear. Absent for memory. */
  dump?(): Promise<string>;
  /** Closes what `open` and `another` opened and deletes the data. */
  cleanup(): Promise<void>;
}

export interface StoreHarness {
  /** A fresh, empty store (its own file or database); `secretKey` as MESHGATE_SECRET_KEY would give it. */
  open(options?: { secretKey?: Buffer }): Promise<OpenedStore>;
  /** Whether the store writes its data somewhere (then `dump` is given, and secrets are looked for in it). */
  persists: boolean;
}

export const at = (second: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toISOString();
export const service = (name: string, second: number, extra: Partial<UrlServiceRecord> = {}): ServiceRecord => ({
  name,
  url: `http://${name}.test/mcp`,
  source: 'registered',
  credential: { type: 'none' },
  createdAt: at(second),
  updatedAt: at(second),
  ...extra,
});
export const tool = {
  name: 'search',
  description: 'finds things',
  inputSchema: { type: 'object' as const, properties: { q: { type: 'string' } }, required: ['q'] },
};
export const snap = (name: string, tools: CatalogSnapshot['tools'], seenAt: string, other: Partial<CatalogSnapshot> = {}): CatalogSnapshot => ({
  service: name,
  tools,
  prompts: [],
  resources: [],
  resourceTemplates: [],
  seenAt,
  ...other,
});
const entry = (second: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  at: at(second),
  kind: 'tools/call',
  identity: 'alice',
  service: 'a',
  target: 'search',
  outcome: 'ok',
  code: null,
  durationMs: 1.5,
  requestId: `r${second}`,
  detail: { argumentsDigest: `d${second}` },
  ...extra,
});

const KEY = Buffer.alloc(32, 7);
const SECRET = 'sk-live-contract-5ecret';

export function describeRegistryStore(name: string, harness: StoreHarness): void {
  describe(`RegistryStore contract: ${name}`, () => {
    let opened: OpenedStore[] = [];
    const open = async (options?: { secretKey?: Buffer }) => {
      const result = await harness.open(options);
      opened.push(result);
      return result;
    };
    afterEach(async () => {
      await Promise.all(opened.map((one) => one.cleanup()));
      opened = [];
    });

    it('round-trips services and catalogs, credentials and JSON fields included', async () => {
      const { store } = await open({ secretKey: KEY });
      const records = [
        service('plain', 1),
        service('bearer', 2, { source: 'config', credential: { type: 'bearer', tokenEnv: 'TOKEN' }, fallbackTools: [tool], transport: 'sse' }),
        service('header', 3, { credential: { type: 'header', header: 'X-Api-Key', value: 'sécret "quoted"' }, fallbackTools: [] }),
        service('surfaced', 3, {
          surface: { overrides: { search: { name: 'find', annotations: { readOnlyHint: true } } }, pin: 'withhold', hygiene: { strip: true } },
        }),
        {
          name: 'cmd',
          source: 'registered',
          credential: { type: 'none' },
          command: { command: 'node', args: ['server.js'], env: { A: 'b' }, cwd: '/tmp', stdio: 'shared' },
          createdAt: at(4),
          updatedAt: at(4),
        } as ServiceRecord,
      ];
      for (const record of records) expect(await store.putService(record)).toBe(true);
      const snapshots = [
        snap('bearer', [tool], at(9), {
          prompts: [{ name: 'greet', arguments: [{ name: 'who', required: true }] }],
          resources: [{ uri: 'test://a', name: 'a', mimeType: 'text/plain' }],
          resourceTemplates: [{ uriTemplate: 'test://{id}', name: 'by id' }],
        }),
        snap('configured-only', [], at(8)),
      ];
      for (const snapshot of snapshots) await store.putCatalog(snapshot);
      expect(await store.listServices()).toStrictEqual(records);
      expect(await store.listCatalogs()).toStrictEqual(snapshots);
    });

    it('keeps pinned tool definitions, one per service and tool, all of a batch or none, after the service is gone', async () => {
      const { store } = await open();
      const pin = (service: string, toolName: string, digest: string, approvedBy = 'first-seen') => ({
        service,
        tool: toolName,
        digest,
        definition: { ...tool, name: toolName, description: `version ${digest}` },
        approvedAt: at(1),
        approvedBy,
      });
      await store.putPins([]);
      expect(await store.listPins()).toEqual([]);
      await store.putService(service('a', 1));
      await store.putPins([pin('a', 'search', 'd1'), pin('a', 'fetch', 'd2'), pin('b', 'search', 'd3')]);
      await store.putPins([pin('a', 'search', 'd4', 'admin')]);
      await store.deleteService('a');
      const byKey = (p: { service: string; tool: string }) => `${p.service}/${p.tool}`;
      const listed = (await store.listPins()).sort((x, y) => byKey(x).localeCompare(byKey(y)));
      expect(listed).toStrictEqual([pin('a', 'fetch', 'd2'), pin('a', 'search', 'd4', 'admin'), pin('b', 'search', 'd3')]);
    });

    it('keeps virtual servers made through the admin API, oldest first, replaced in place and deleted by name', async () => {
      const { store } = await open();
      const server = (name: string, second: number, extra: object = {}) => ({
        name,
        tools: ['getUserById', 'crm__*', '@readOnlyHint'],
        source: 'registered' as const,
        createdAt: at(second),
        updatedAt: at(second),
        ...extra,
      });
      expect(await store.listVirtualServers()).toEqual([]);
      await store.putVirtualServer(server('support', 2, { mode: 'search', description: 'Support "tools"' }));
      await store.putVirtualServer(server('billing', 1, { prompts: ['*'], resources: ['meshgate://crm/*'] }));
      await store.putVirtualServer(server('support', 2, { tools: [], updatedAt: at(5) }));
      expect(await store.listVirtualServers()).toStrictEqual([
        server('billing', 1, { prompts: ['*'], resources: ['meshgate://crm/*'] }),
        server('support', 2, { tools: [], updatedAt: at(5) }),
      ]);
      await store.deleteVirtualServer('billing');
      await store.deleteVirtualServer('absent');
      expect((await store.listVirtualServers()).map((one) => one.name)).toEqual(['support']);
    });

    it('lists services oldest first, ties in insertion order, and replaces one put again without moving it', async () => {
      const { store } = await open();
      for (const record of [service('c', 3), service('a', 1), service('tie2', 2), service('tie1', 2)]) await store.putService(record);
      await store.putService(service('tie2', 2, { url: 'http://moved.test/mcp', updatedAt: at(5) }));
      const listed = await store.listServices();
      expect(listed.map((record) => record.name)).toEqual(['a', 'tie2', 'tie1', 'c']);
      expect(listed[1]).toStrictEqual(service('tie2', 2, { url: 'http://moved.test/mcp', updatedAt: at(5) }));
    });

    it('deletes a service with its catalog, says whether there was one, and leaves the others', async () => {
      const { store } = await open();
      for (const each of ['a', 'b']) {
        await store.putService(service(each, 1));
        await store.putCatalog(snap(each, [tool], at(1)));
      }
      expect(await store.deleteService('a')).toBe(true);
      expect(await store.deleteService('never-existed')).toBe(false);
      expect((await store.listServices()).map((record) => record.name)).toEqual(['b']);
      expect((await store.listCatalogs()).map((snapshot) => snapshot.service)).toEqual(['b']);
    });

    it('writes a service under a guard only when the stored row is as the guard says', async () => {
      const { store } = await open();
      expect(await store.putService(service('a', 1), { absent: true })).toBe(true);
      expect(await store.putService(service('a', 1, { url: 'http://other.test/mcp' }), { absent: true })).toBe(false);
      expect(await store.putService(service('a', 1, { updatedAt: at(2) }), { updatedAt: at(9) })).toBe(false);
      expect(await store.putService(service('a', 1, { updatedAt: at(2) }), { updatedAt: at(1) })).toBe(true);
      expect(await store.putService(service('b', 1), { updatedAt: at(1) })).toBe(false);
      expect(await store.listServices()).toStrictEqual([service('a', 1, { updatedAt: at(2) })]);
    });

    it('keeps the catalog seen last: an older snapshot written late does not replace it', async () => {
      const { store } = await open();
      await store.putCatalog(snap('a', [tool], at(5)));
      await store.putCatalog(snap('a', [], at(3)));
      expect(await store.listCatalogs()).toStrictEqual([snap('a', [tool], at(5))]);
      await store.putCatalog(snap('a', [], at(6)));
      expect(await store.listCatalogs()).toStrictEqual([snap('a', [], at(6))]);
    });

    it('appends audit entries numbered in order, and pages through a filtered query by cursor', async () => {
      const { store } = await open();
      await store.appendAudit([]);
      await store.appendAudit([entry(1), entry(2, { identity: 'bob', outcome: 'error', code: '-32603' }), entry(3)]);
      await store.appendAudit([entry(4, { kind: 'service.register', service: 'b', target: null, durationMs: null, detail: null })]);
      const all = await store.queryAudit({ limit: 10 });
      expect(all.nextCursor).toBeUndefined();
      expect(all.entries.map((e) => e.requestId)).toEqual(['r1', 'r2', 'r3', 'r4']);
      const seqs = all.entries.map((e) => e.seq ?? 0);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(4);
      expect(all.entries[1]).toStrictEqual({ ...entry(2, { identity: 'bob', outcome: 'error', code: '-32603' }), seq: seqs[1] });
      expect(all.entries[3]?.detail).toBeNull();

      const first = await store.queryAudit({ identity: 'alice', kind: 'tools/call', limit: 1 });
      expect(first.entries.map((e) => e.requestId)).toEqual(['r1']);
      const second = await store.queryAudit({ identity: 'alice', kind: 'tools/call', limit: 1, after: first.nextCursor ?? 0 });
      expect(second.entries.map((e) => e.requestId)).toEqual(['r3']);
      expect(second.nextCursor).toBeUndefined();
      expect((await store.queryAudit({ since: at(2), until: at(4), limit: 10 })).entries.map((e) => e.requestId)).toEqual(['r2', 'r3']);
      expect((await store.queryAudit({ outcome: 'error', limit: 10 })).entries.map((e) => e.requestId)).toEqual(['r2']);
      expect((await store.queryAudit({ service: 'b', limit: 10 })).entries.map((e) => e.requestId)).toEqual(['r4']);
      expect((await store.queryAudit({ target: 'search', limit: 10 })).entries).toHaveLength(3);
    });

    it('prunes audit entries older than the bound and all but the newest few, never reusing a seq', async () => {
      const { store } = await open();
      await store.appendAudit([1, 2, 3, 4, 5, 6].map((second) => entry(second)));
      expect(await store.pruneAudit({ olderThan: at(3), keep: 100 })).toBe(2);
      expect(await store.pruneAudit({ olderThan: at(0), keep: 2 })).toBe(2);
      const left = await store.queryAudit({ limit: 10 });
      expect(left.entries.map((e) => e.requestId)).toEqual(['r5', 'r6']);
      await store.appendAudit([entry(7)]);
      const after = await store.queryAudit({ limit: 10 });
      expect(after.entries.at(-1)?.seq).toBeGreaterThan(left.entries.at(-1)?.seq ?? 0);
      expect(await store.pruneAudit({ olderThan: at(0), keep: 100 })).toBe(0);
    });

    it('finds everything again from another store on the same data, whose migrations change nothing', async () => {
      const { store, another } = await open({ secretKey: KEY });
      const record = service('a', 1, { credential: { type: 'bearer', token: SECRET }, fallbackTools: [tool] });
      await store.putService(record);
      await store.putCatalog(snap('a', [tool], at(2)));
      await store.appendAudit([entry(1)]);
      const second = await another();
      const third = await another();
      for (const other of [second, third]) {
        expect(await other.listServices()).toStrictEqual([record]);
        expect(await other.listCatalogs()).toStrictEqual([snap('a', [tool], at(2))]);
        expect((await other.queryAudit({ limit: 10 })).entries.map((e) => e.requestId)).toEqual(['r1']);
      }
      await second.putService(service('b', 2));
      expect((await store.listServices()).map((r) => r.name)).toEqual(['a', 'b']);
    });

    it('lets concurrent writers on the same data never lose a write: one registration wins, the newest catalog stays, every audit entry is kept', async () => {
      const { store, another } = await open();
      const other = await another();
      const writers = [store, other];
      const registrations = await Promise.all(
        Array.from({ length: 10 }, (_, i) => writers[i % 2]!.putService(service('race', 1, { url: `http://w${i}.test/mcp` }), { absent: true })),
      );
      expect(registrations.filter(Boolean)).toHaveLength(1);
      const winner = registrations.indexOf(true);
      expect((await other.listServices()).map((r) => r.url)).toEqual([`http://w${winner}.test/mcp`]);

      // Newest first, so each write races the ones that should beat it.
      const order = Array.from({ length: 20 }, (_, i) => 19 - i);
      await Promise.all(order.map((i) => writers[i % 2]!.putCatalog(snap('race', i === 19 ? [tool] : [], at(i)))));
      expect(await store.listCatalogs()).toStrictEqual([snap('race', [tool], at(19))]);

      const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 5 }, (_, i) => entry(b * 5 + i, { requestId: `b${b}-${i}` })));
      await Promise.all(batches.map((batch, b) => writers[b % 2]!.appendAudit(batch)));
      const seen: AuditEntry[] = [];
      let cursor: number | undefined;
      do {
        const page = await other.queryAudit({ limit: 7, ...(cursor === undefined ? {} : { after: cursor }) });
        seen.push(...page.entries);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toHaveLength(40);
      expect(new Set(seen.map((e) => e.seq)).size).toBe(40);
      // Each batch is all or none and contiguous: its entries are neighbours, in order.
      for (const batch of batches.map((b) => b.map((e) => e.requestId))) {
        const start = seen.findIndex((e) => e.requestId === batch[0]);
        expect(seen.slice(start, start + 5).map((e) => e.requestId)).toEqual(batch);
      }
    });

    // The memory store persists nothing, so it has nothing to look at or refuse.
    if (harness.persists) {
      it('refuses to store a literal secret without a key', async () => {
        const { store } = await open();
        await expect(store.putService(service('a', 1, { credential: { type: 'bearer', token: SECRET } }))).rejects.toThrow(/MESHGATE_SECRET_KEY/);
        expect(await store.listServices()).toEqual([]);
      });

      it('never writes a literal secret in clear, and reads it back with the key', async () => {
        const { store, dump } = await open({ secretKey: KEY });
        if (dump === undefined) throw new Error(`the ${name} harness persists but has no dump`);
        await store.putService(service('bearer', 1, { credential: { type: 'bearer', token: SECRET } }));
        await store.putService(service('header', 2, { credential: { type: 'header', header: 'X-Key', value: `${SECRET}-h` } }));
        const text = await dump();
        expect(text).toMatch(/sealed/);
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(Buffer.from(SECRET).toString('base64'));
        expect((await store.listServices()).map((r) => r.credential)).toEqual([
          { type: 'bearer', token: SECRET },
          { type: 'header', header: 'X-Key', value: `${SECRET}-h` },
        ]);
      });
    }
  });
}
