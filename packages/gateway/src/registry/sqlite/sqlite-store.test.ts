import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { at, service, snap, tool } from '../../../../../test/helpers/store-contract.js';
import type { ServiceRecord } from '../../model/service.js';
import { MemoryStore } from '../memory-store.js';
import { SqliteStore, StoreOpenError } from './index.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from './migrations.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshgate-'));
  path = join(dir, 'registry.sqlite');
});
afterEach(() => {
  chmodSync(dir, 0o755); // a test may have made it read-only; a non-root user could not remove it otherwise
  rmSync(dir, { recursive: true, force: true });
});

/** Creates an empty, migrated database at `path` (close is synchronous underneath). */
const createDatabase = () => void SqliteStore.open(path).close();

/** Expects `open` to fail with a StoreOpenError of this reason whose message names the path. */
function expectOpenError(reason: string, text: RegExp): StoreOpenError {
  try {
    createDatabase();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreOpenError);
    const openError = error as StoreOpenError;
    expect(openError).toMatchObject({ reason, path });
    expect(openError.message).toContain(path);
    expect(openError.message).toMatch(text);
    return openError;
  }
  throw new Error('open succeeded');
}

// What every store does (round trips, order, replace, delete, guards, audit) is the contract
// suite's (sqlite-store.contract.test.ts); these are the SQLite file's own behaviours.
describe('SqliteStore data', () => {
  it('finds everything again after closing and reopening the file, migrating only once', async () => {
    const logs: object[] = [];
    const logger = { info: (obj: object) => void logs.push(obj) };
    const first = SqliteStore.open(join(dir, 'nested', 'deeper', 'registry.sqlite'), logger);
    await first.putService(service('a', 1, { fallbackTools: [tool] }));
    await first.putCatalog(snap('a', [tool], at(2)));
    await first.close();
    await first.close(); // idempotent
    const second = SqliteStore.open(join(dir, 'nested', 'deeper', 'registry.sqlite'), logger);
    expect(await second.listServices()).toStrictEqual([service('a', 1, { fallbackTools: [tool] })]);
    expect(await second.listCatalogs()).toStrictEqual([snap('a', [tool], at(2))]);
    await second.close();
    expect(logs).toMatchObject([
      { migratedFrom: 0, schemaVersion: SCHEMA_VERSION },
      { migratedFrom: SCHEMA_VERSION, schemaVersion: SCHEMA_VERSION },
    ]);
  });

  it('seals literal secrets an older gateway stored in plain text once a key is set, and warns while none is', async () => {
    createDatabase();
    const raw = new Database(path);
    raw
      .prepare(
        "INSERT INTO services (name, url, source, credential, fallback_tools, created_at, updated_at) VALUES ('old', 'http://x', 'registered', '{\"type\":\"bearer\",\"token\":\"plain-old-secret\"}', NULL, 'a', 'a')",
      )
      .run();
    raw.close();
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (_: object, message: string) => void warnings.push(message) };
    await SqliteStore.open(path, logger).close();
    expect(warnings).toEqual([expect.stringMatching(/1 registered services have a literal secret stored in plain text/)]);
    const key = Buffer.alloc(32, 9);
    const store = SqliteStore.open(path, logger, { secretKey: key });
    expect((await store.listServices())[0]?.credential).toEqual({ type: 'bearer', token: 'plain-old-secret' });
    await store.close();
    expect(readFileSync(path).toString('latin1')).not.toContain('plain-old-secret');
  });

  it('round-trips virtual servers, oldest first, replaced in place, deleted alone; the memory store alike', async () => {
    const support = {
      name: 'support',
      tools: ['getUserById', 'crm__*'],
      mode: 'search' as const,
      description: 'd',
      source: 'registered' as const,
      createdAt: at(1),
      updatedAt: at(1),
    };
    const ops = {
      name: 'ops',
      tools: ['@destructiveHint'],
      prompts: ['p'],
      resources: ['file:///*'],
      source: 'registered' as const,
      createdAt: at(2),
      updatedAt: at(2),
    };
    const path = join(dir, 'virtual.sqlite');
    for (const store of [SqliteStore.open(path), new MemoryStore()]) {
      await store.putVirtualServer(ops);
      await store.putVirtualServer(support);
      await store.putVirtualServer({ ...support, tools: ['x'], updatedAt: at(3) });
      expect((await store.listVirtualServers()).map((record) => record.name).sort()).toEqual(['ops', 'support']);
      expect((await store.listVirtualServers()).find((record) => record.name === 'support')).toStrictEqual({ ...support, tools: ['x'], updatedAt: at(3) });
      await store.deleteVirtualServer('support');
      expect(await store.listVirtualServers()).toStrictEqual([ops]);
      await store.close();
    }
    // Kept in the file: a restart finds it.
    const reopened = SqliteStore.open(path);
    expect(await reopened.listVirtualServers()).toStrictEqual([ops]);
    await reopened.close();
  });

  it('works in memory for :memory:', async () => {
    const store = SqliteStore.open(':memory:');
    await store.putService(service('a', 1));
    expect(await store.listServices()).toHaveLength(1);
    await store.close();
  });

  it('round-trips a command service (command, args, env, cwd, policy) beside URL services', async () => {
    const store = SqliteStore.open(path);
    const command: ServiceRecord = {
      name: 'files',
      command: { command: 'npx', args: ['-y', 'server-filesystem', '/srv'], env: { API_KEY: 'k' }, cwd: '/srv', stdio: 'per-session' },
      source: 'registered',
      credential: { type: 'none' },
      createdAt: at(2),
      updatedAt: at(2),
    };
    await store.putService(service('web', 1));
    await store.putService(command);
    expect(await store.listServices()).toStrictEqual([service('web', 1), command]);
    await store.close();
  });

  it('migrates version 2 service rows to version 3 unchanged, in the same order', async () => {
    const raw = new Database(path);
    migrate(raw, MIGRATIONS.slice(0, 2));
    const insert = raw.prepare(
      'INSERT INTO services (name, url, source, credential, fallback_tools, created_at, updated_at) VALUES (?, ?, \'registered\', \'{"type":"none"}\', NULL, ?, ?)',
    );
    insert.run('b', 'http://b.test/mcp', at(1), at(1));
    insert.run('a', 'http://a.test/mcp', at(1), at(1)); // same time: insertion order decides
    raw.close();
    const store = SqliteStore.open(path);
    expect((await store.listServices()).map((record) => [record.name, record.url, record.command])).toStrictEqual([
      ['b', 'http://b.test/mcp', undefined],
      ['a', 'http://a.test/mcp', undefined],
    ]);
    await store.close();
  });

  it('reads a catalog row written before prompts and resources were stored as empty lists of them', async () => {
    const raw = new Database(path);
    migrate(raw, MIGRATIONS.slice(0, 1));
    raw.prepare("INSERT INTO catalogs (service, tools, seen_at) VALUES ('old', '[]', 'a')").run();
    raw.close();
    const store = SqliteStore.open(path);
    expect(await store.listCatalogs()).toStrictEqual([snap('old', [], 'a')]);
    await store.close();
  });

  it("keeps a service's transport setting, and reads a row written before it existed as none (auto)", async () => {
    const store = SqliteStore.open(path);
    await store.putService(service('legacy', 1, { transport: 'sse' }));
    await store.putService(service('plain', 2));
    const [legacy, plain] = await store.listServices();
    expect(legacy?.transport).toBe('sse');
    expect(plain).not.toHaveProperty('transport');
    await store.close();
  });

  it("keeps a service's surface settings and pinned tool definitions across a reopen, a pin put again replacing the old", async () => {
    let store = SqliteStore.open(path);
    const surface = { overrides: { echo: { name: 'say', annotations: { readOnlyHint: null } } }, pin: 'withhold' as const, hygiene: { strip: true } };
    await store.putService({ ...service('surfaced', 1), surface });
    const pin = (tool: string, digest: string, approvedBy: string) => ({
      service: 'surfaced',
      tool,
      digest,
      definition: { name: tool, description: digest, inputSchema: { type: 'object' as const } },
      approvedAt: '2026-01-01T00:00:00.000Z',
      approvedBy,
    });
    await store.putPins([pin('echo', 'sha256:a', 'first-seen'), pin('slow', 'sha256:b', 'first-seen')]);
    await store.putPins([pin('echo', 'sha256:c', 'root')]);
    await store.close();
    store = SqliteStore.open(path);
    expect((await store.listServices())[0]?.surface).toEqual(surface);
    const pins = (await store.listPins()).sort((a, b) => a.tool.localeCompare(b.tool));
    expect(pins).toEqual([pin('echo', 'sha256:c', 'root'), pin('slow', 'sha256:b', 'first-seen')]);
    await store.close();
  });

  it('fails loudly, naming table and key, on a row whose JSON does not parse', async () => {
    createDatabase();
    const raw = new Database(path);
    raw
      .prepare(
        "INSERT INTO services (name, url, source, credential, fallback_tools, created_at, updated_at) VALUES ('broken', 'http://x', 'registered', '{nope', NULL, 'a', 'a')",
      )
      .run();
    raw.prepare("INSERT INTO catalogs (service, tools, seen_at) VALUES ('torn', '[{', 'a')").run();
    raw.close();
    const store = SqliteStore.open(path);
    await expect(store.listServices()).rejects.toThrow(/services row 'broken': column credential is not valid JSON/);
    await expect(store.listCatalogs()).rejects.toThrow(/catalogs row 'torn': column tools is not valid JSON/);
    await store.close();
  });
});

describe('migrations', () => {
  it('numbers migrations 1, 2, 3... with no gaps', () => {
    const versions = MIGRATIONS.map((migration) => migration.version);
    expect(versions).toEqual(versions.map((_, index) => index + 1));
  });

  it('applies pending migrations all or nothing', () => {
    const db = new Database(path);
    const broken = [
      { version: 1, name: 'ok', up: 'CREATE TABLE t (x)' },
      { version: 2, name: 'bad', up: 'CREATE TABLE oops (' },
    ];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 't'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a database whose schema is newer than this build', () => {
    createDatabase();
    const raw = new Database(path);
    raw.pragma('user_version = 999');
    raw.close();
    expectOpenError(
      'schema-too-new',
      new RegExp(`database schema version 999 is newer than this Meshgate \\(${SCHEMA_VERSION}\\); upgrade Meshgate or use another MESHGATE_DB_PATH`),
    );
  });
});

describe('SqliteStore start-up checks', () => {
  it('refuses a file of random bytes as not a database', () => {
    writeFileSync(path, randomBytes(4096));
    expectOpenError('corrupt', /not a database|corrupt/);
  });

  it('refuses a database truncated inside its header as corrupt', () => {
    createDatabase();
    writeFileSync(path, readFileSync(path).subarray(0, 50));
    expectOpenError('corrupt', /not a database|corrupt/);
  });

  it('refuses, within a few seconds, a database another connection holds exclusively', async () => {
    createDatabase();
    const holder = new Database(path);
    holder.exec('BEGIN EXCLUSIVE');
    const started = Date.now();
    try {
      expectOpenError('locked', /locked by another process/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await SqliteStore.open(path).close(); // usable again once released
  });
});

// These run the compiled store in a child process: as root (as in CI containers) file modes
// do not stop writes, so the child drops to `nobody`; and only a separate process can be SIGKILLed.
describe('SqliteStore in a child process', () => {
  const dist = new URL('../../../dist/registry/sqlite/index.js', import.meta.url);
  const isRoot = process.getuid?.() === 0;
  const NOBODY = 65534;
  beforeAll(() => {
    if (!existsSync(fileURLToPath(dist))) throw new Error('build first: npx tsc -b packages/gateway');
  });
  beforeEach(() => chmodSync(dir, 0o755)); // mkdtemp gives 0o700, closed to `nobody`

  function openInChild(target: string): { ok: boolean; reason?: string; message?: string } {
    const script = `const { SqliteStore } = await import(process.argv[1]);
      try { await SqliteStore.open(process.argv[2]).close(); console.log(JSON.stringify({ ok: true })); }
      catch (e) { console.log(JSON.stringify({ ok: false, reason: e.reason, message: e.message })); }`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, dist.href, target], {
      encoding: 'utf8',
      timeout: 20_000,
      ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
    return JSON.parse(child.stdout) as { ok: boolean };
  }

  it('refuses a read-only file in a read-only directory at open', () => {
    createDatabase();
    chmodSync(path, 0o444);
    chmodSync(dir, 0o555);
    expect(openInChild(path)).toMatchObject({ ok: false, reason: 'read-only', message: expect.stringContaining(path) });
  });

  it('refuses a read-only file at open even when its directory is writable', () => {
    createDatabase();
    chmodSync(path, 0o444);
    if (isRoot) chownSync(dir, NOBODY, NOBODY);
    expect(openInChild(path)).toMatchObject({ ok: false, reason: 'read-only', message: expect.stringMatching(/read-only/) });
  });

  it('refuses to create a database in a read-only directory', () => {
    chmodSync(dir, 0o555);
    expect(openInChild(path)).toMatchObject({ ok: false, reason: 'read-only' });
    expect(openInChild(join(dir, 'sub', 'registry.sqlite'))).toMatchObject({ ok: false, reason: 'read-only' });
  });

  it('keeps the file intact and a prefix of the writes when killed mid-way', async () => {
    const script = `const { SqliteStore } = await import(process.argv[1]);
      const store = SqliteStore.open(process.argv[2]);
      for (let i = 0; i < 200; i++) {
        const name = 'svc' + String(i).padStart(3, '0');
        await store.putService({ name, url: 'http://x/' + i, source: 'registered', credential: { type: 'bearer', tokenEnv: name },
          fallbackTools: [{ name: 't', description: 'd'.repeat(32768), inputSchema: { type: 'object' } }], createdAt: String(i).padStart(3, '0'), updatedAt: 'u' });
        process.stdout.write(i + '\\n');
        await new Promise((resolve) => setTimeout(resolve, 2)); // leave the parent time to kill before the end
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dist.href, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acknowledged = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      acknowledged += chunk.split('\n').length - 1;
      if (acknowledged >= 30) child.kill('SIGKILL');
    });
    const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');

    const raw = new Database(path);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    const store = SqliteStore.open(path);
    const names = (await store.listServices()).map((record) => record.name);
    await store.close();
    expect(names.length).toBeGreaterThanOrEqual(acknowledged); // acknowledged commits survive a crash
    expect(names.length).toBeLessThan(200);
    expect(names).toEqual(names.map((_, i) => 'svc' + String(i).padStart(3, '0')));
  });
});
