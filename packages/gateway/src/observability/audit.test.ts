import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../registry/memory-store.js';
import { SqliteStore } from '../registry/sqlite/index.js';
import type { RegistryStore } from '../registry/types.js';
import { AuditLog, digestOf, type PendingAuditEntry } from './audit.js';

const logger = pino({ level: 'silent' });
const DAY = 86_400_000;

function entry(at: number, overrides: Partial<PendingAuditEntry> = {}): PendingAuditEntry {
  return {
    at: new Date(at).toISOString(),
    kind: 'tools/call',
    identity: 'alice',
    service: 'svc',
    target: 'lookup',
    outcome: 'ok',
    code: null,
    durationMs: 1.5,
    requestId: 'r1',
    ...overrides,
  };
}

const stores: [string, () => RegistryStore][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'meshgate-audit-')), 'a.db'))],
];

describe.each(stores)('AuditLog on the %s store', (_name, open) => {
  it('writes entries in order, numbered, and pages through them with filters', async () => {
    const store = open();
    const log = new AuditLog(store, { arguments: 'digest', retentionMs: DAY, maxEntries: 100 }, logger);
    const now = Date.now();
    for (let i = 0; i < 5; i += 1) log.record(entry(now + i, { identity: i % 2 === 0 ? 'alice' : 'bob', requestId: `r${i}` }));
    const page = await log.query({ limit: 2 });
    expect(page.entries.map((e) => e.requestId)).toEqual(['r0', 'r1']);
    expect(page.nextCursor).toBe(page.entries[1]?.seq);
    const rest = await log.query({ limit: 10, after: page.nextCursor as number });
    expect(rest.entries.map((e) => e.requestId)).toEqual(['r2', 'r3', 'r4']);
    expect(rest.nextCursor).toBeUndefined();
    expect((await log.query({ limit: 10, identity: 'bob' })).entries.map((e) => e.requestId)).toEqual(['r1', 'r3']);
    expect((await log.query({ limit: 10, since: new Date(now + 3).toISOString() })).entries).toHaveLength(2);
    await log.close();
    await store.close();
  });

  it('keeps arguments as a digest, in full, or not at all, as configured', async () => {
    const store = open();
    const args = { id: 'secret-ish', n: 1 };
    for (const mode of ['digest', 'full', 'none'] as const) {
      const log = new AuditLog(store, { arguments: mode, retentionMs: DAY, maxEntries: 100 }, logger);
      log.record({ ...entry(Date.now(), { requestId: mode }), args });
      await log.close();
    }
    const { entries } = await store.queryAudit({ limit: 10 });
    expect(entries.map((e) => e.detail)).toEqual([{ argumentsDigest: digestOf(args) }, { arguments: args }, null]);
    await store.close();
  });

  it('deletes entries by age and keeps at most the newest maxEntries', async () => {
    const store = open();
    const log = new AuditLog(store, { arguments: 'none', retentionMs: 10 * DAY, maxEntries: 3 }, logger);
    const now = Date.now();
    log.record(entry(now - 20 * DAY, { requestId: 'old' }));
    for (let i = 0; i < 5; i += 1) log.record(entry(now - i, { requestId: `new${i}` }));
    await log.flush();
    await log.prune();
    const { entries } = await store.queryAudit({ limit: 10 });
    expect(entries.map((e) => e.requestId)).toEqual(['new2', 'new3', 'new4']);
    await log.close();
    await store.close();
  });

  it('writes everything still queued on close, and nothing after', async () => {
    const store = open();
    const log = new AuditLog(store, { arguments: 'none', retentionMs: DAY, maxEntries: 100 }, logger);
    for (let i = 0; i < 300; i += 1) log.record(entry(Date.now(), { requestId: `q${i}` }));
    await log.close();
    log.record(entry(Date.now(), { requestId: 'late' }));
    const { entries } = await store.queryAudit({ limit: 1000 });
    expect(entries).toHaveLength(300);
    expect(entries.at(-1)?.requestId).toBe('q299');
    await store.close();
  });
});
