import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ToolPin } from '../../model/pins.js';
import type { CatalogSnapshot, CredentialSpec, ServiceRecord } from '../../model/service.js';
import type { VirtualServerRecord } from '../../model/virtual-server.js';
import {
  type AuditRow,
  auditWhere,
  type CatalogRow,
  type PinRow,
  type ServiceRow,
  toAuditEntry,
  toAuditRow,
  toCatalogRow,
  toCatalogSnapshot,
  toPin,
  toPinRow,
  toServiceRecord,
  toServiceRow,
  toVirtualServer,
  toVirtualServerRow,
  type VirtualServerRow,
} from '../rows.js';
import { sealCredential } from '../secrets.js';
import { StoreOpenError } from '../store-error.js';
import { type AuditEntry, type AuditPage, type AuditQuery, guardHolds, type RegistryStore, type ServiceGuard, type StoreLogger } from '../types.js';
import { migrate } from './migrations.js';

export { StoreOpenError, type StoreOpenFailure } from '../store-error.js';

/** Short, so that a database held by another process fails start-up quickly. */
const OPEN_BUSY_TIMEOUT_MS = 2_000;
/** Longer once running: a brief overlap with a checkpoint or a backup tool should just wait. */
const RUN_BUSY_TIMEOUT_MS = 5_000;

const ELSEWHERE = 'or set MESHGATE_DB_PATH to another file';
const CORRUPT_HINT = `restore it from a backup, move it aside to start with an empty registry, ${ELSEWHERE}`;

/** Turns whatever opening threw (SQLite codes, fs errno codes) into one clear error. */
function toOpenError(path: string, error: unknown): StoreOpenError {
  if (error instanceof StoreOpenError) return error;
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' ? raw : '';
  const why = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreOpenError(path, 'corrupt', `the file is not a database or is corrupt (${why})`, CORRUPT_HINT, { cause: error });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreOpenError(
      path,
      'locked',
      `the database is locked by another process (${why})`,
      `stop the other process using it (another Meshgate on the same file?) ${ELSEWHERE}`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || ['EACCES', 'EPERM', 'EROFS'].includes(code)) {
    const user = process.getuid === undefined ? 'the Meshgate user' : `uid ${process.getuid()}`;
    return new StoreOpenError(
      path,
      'read-only',
      `the file or its directory is read-only or cannot be created (${why})`,
      `make both writable by ${user}, ${ELSEWHERE}`,
      { cause: error },
    );
  }
  return new StoreOpenError(path, 'unavailable', why, `check the path, ${ELSEWHERE}`, { cause: error });
}

export type { StoreLogger } from '../types.js';

export interface SqliteStoreOptions {
  /** Seals literal secrets of registrations (AES-256-GCM, registry/secrets.ts); without it they cannot be stored. */
  secretKey?: Buffer | undefined;
}

/** Files only the gateway's user may read: the registry holds URLs, credential references and sealed secrets. */
const OWNER_ONLY_FILE = 0o600;
const OWNER_ONLY_DIR = 0o700;

/**
 * Creates the database's folder (0700) and the file itself (0600) before SQLite opens it:
 * SQLite gives the -wal and -shm files the mode of the database file, so all three stay
 * the owner's. An existing file keeps its mode (it is the operator's), with a warning when
 * others may read it.
 */
function createOwnerOnly(path: string, logger: StoreLogger | undefined): void {
  const folder = dirname(path);
  if (!existsSync(folder)) mkdirSync(folder, { recursive: true, mode: OWNER_ONLY_DIR });
  if (!existsSync(path)) {
    closeSync(openSync(path, 'a', OWNER_ONLY_FILE));
    return;
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    logger?.warn?.({ path, mode: mode.toString(8) }, `the registry database ${path} can be read by other users (mode ${mode.toString(8)}); chmod 600 it`);
  }
}

/**
 * The embedded default `RegistryStore`: one SQLite file in WAL mode. better-sqlite3 is
 * synchronous; the methods are async only to fit the interface shared with networked stores.
 */
export class SqliteStore implements RegistryStore {
  readonly #db: Database.Database;
  readonly #listServices: Database.Statement<[], ServiceRow>;
  readonly #putService: Database.Statement<ServiceRow, unknown>;
  readonly #deleteService: (name: string) => boolean;
  readonly #putGuarded: (row: ServiceRow, guard: ServiceGuard) => boolean;
  readonly #listCatalogs: Database.Statement<[], CatalogRow>;
  readonly #putCatalog: Database.Statement<CatalogRow, unknown>;
  readonly #listVirtualServers: Database.Statement<[], VirtualServerRow>;
  readonly #putVirtualServer: Database.Statement<VirtualServerRow, unknown>;
  readonly #deleteVirtualServer: Database.Statement<[string], unknown>;
  readonly #appendAudit: (entries: readonly AuditEntry[]) => void;
  readonly #pruneAudit: (olderThan: string, keep: number) => number;
  readonly #listPins: Database.Statement<[], PinRow>;
  readonly #putPins: (pins: readonly ToolPin[]) => void;

  /**
   * Opens (creating if needed) the database at `path`, applies pending migrations and checks
   * that it is usable now rather than at the first write: a corrupt file, a read-only file or
   * directory, a lock held by another process and a schema newer than this build each throw
   * a `StoreOpenError`. `':memory:'` gives a private in-memory database.
   */
  static open(path: string, logger?: StoreLogger, options: SqliteStoreOptions = {}): SqliteStore {
    let db: Database.Database | undefined;
    try {
      if (path !== ':memory:') createOwnerOnly(path, logger);
      db = new Database(path, { timeout: OPEN_BUSY_TIMEOUT_MS });
      // The first statement reads the header, so a file that is not a database fails here.
      // WAL lets readers go on during a write; NORMAL skips the per-commit fsync, which in
      // WAL mode can lose the last commits on power loss but never corrupts the file.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // Overwrite what an update or delete frees, so a replaced secret or credential does not
      // linger in free pages of the file. The registry is small: the cost is nothing.
      db.pragma('secure_delete = ON');
      // A valid header does not mean valid pages (or rows that pass their CHECKs); the registry
      // is small, so check it all.
      const problems = (db.pragma('quick_check') as { quick_check: string }[]).map((row) => row.quick_check);
      if (problems.length !== 1 || problems[0] !== 'ok') {
        throw new StoreOpenError(path, 'corrupt', `the database fails its integrity check (${problems.slice(0, 3).join('; ')})`, CORRUPT_HINT);
      }
      const migrated = migrate(db);
      if (!migrated.ok) {
        throw new StoreOpenError(
          path,
          'schema-too-new',
          `database schema version ${migrated.found} is newer than this Meshgate (${migrated.known})`,
          'upgrade Meshgate or use another MESHGATE_DB_PATH',
        );
      }
      db.pragma(`busy_timeout = ${RUN_BUSY_TIMEOUT_MS}`);
      const store = new SqliteStore(db, options.secretKey, (message) => logger?.warn?.({ path }, message));
      store.#sealPlaintext();
      logger?.info({ path, schemaVersion: migrated.to, migratedFrom: migrated.from }, 'registry store opened');
      return store;
    } catch (error) {
      try {
        db?.close();
      } catch {
        // The failure that stopped the open is the one worth reporting.
      }
      throw toOpenError(path, error);
    }
  }

  readonly #secretKey: Buffer | undefined;
  readonly #warn: (message: string) => void;

  private constructor(db: Database.Database, secretKey: Buffer | undefined, warn: (message: string) => void) {
    this.#db = db;
    this.#secretKey = secretKey;
    this.#warn = warn;
    // Prepared once: the tables exist now that migrations have run.
    this.#listServices = db.prepare<[], ServiceRow>(
      'SELECT name, url, command, source, credential, transport, fallback_tools, surface, created_at, updated_at FROM services ORDER BY created_at, rowid',
    );
    this.#putService = db.prepare<ServiceRow, unknown>(
      `INSERT INTO services (name, url, command, source, credential, transport, fallback_tools, surface, created_at, updated_at)
       VALUES (@name, @url, @command, @source, @credential, @transport, @fallback_tools, @surface, @created_at, @updated_at)
       ON CONFLICT (name) DO UPDATE SET url = excluded.url, command = excluded.command, source = excluded.source, credential = excluded.credential,
         transport = excluded.transport, surface = excluded.surface,
         fallback_tools = excluded.fallback_tools, created_at = excluded.created_at, updated_at = excluded.updated_at`,
    );
    const deleteCatalog = db.prepare<[string], unknown>('DELETE FROM catalogs WHERE service = ?');
    const deleteService = db.prepare<[string], unknown>('DELETE FROM services WHERE name = ?');
    // No foreign key cascades (see the migration), so both deletes share one transaction.
    this.#deleteService = db.transaction((name: string) => {
      deleteCatalog.run(name);
      return deleteService.run(name).changes > 0;
    });
    const storedAt = db.prepare<[string], { updated_at: string }>('SELECT updated_at FROM services WHERE name = ?');
    // One process writes this file, but read and write share a transaction all the same, so
    // the guard means what it says whoever else opens the file.
    this.#putGuarded = db.transaction((row: ServiceRow, guard: ServiceGuard) => {
      const stored = storedAt.get(row.name);
      if (!guardHolds(stored === undefined ? undefined : { updatedAt: stored.updated_at }, guard)) return false;
      this.#putService.run(row);
      return true;
    });
    this.#listCatalogs = db.prepare<[], CatalogRow>('SELECT service, tools, other_listings, seen_at FROM catalogs ORDER BY rowid');
    this.#putCatalog = db.prepare<CatalogRow, unknown>(
      `INSERT INTO catalogs (service, tools, other_listings, seen_at) VALUES (@service, @tools, @other_listings, @seen_at)
       ON CONFLICT (service) DO UPDATE SET tools = excluded.tools, other_listings = excluded.other_listings, seen_at = excluded.seen_at
       WHERE excluded.seen_at >= catalogs.seen_at`,
    );
    this.#listVirtualServers = db.prepare<[], VirtualServerRow>(
      'SELECT name, definition, created_at, updated_at FROM virtual_servers ORDER BY created_at, rowid',
    );
    this.#putVirtualServer = db.prepare<VirtualServerRow, unknown>(
      `INSERT INTO virtual_servers (name, definition, created_at, updated_at) VALUES (@name, @definition, @created_at, @updated_at)
       ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
    );
    this.#deleteVirtualServer = db.prepare<[string], unknown>('DELETE FROM virtual_servers WHERE name = ?');
    const insertAudit = db.prepare<Omit<AuditRow, 'seq'>, unknown>(
      `INSERT INTO audit (at, kind, identity, service, target, outcome, code, duration_ms, request_id, detail)
       VALUES (@at, @kind, @identity, @service, @target, @outcome, @code, @duration_ms, @request_id, @detail)`,
    );
    // One transaction per batch: one commit (one WAL write) for many entries.
    this.#appendAudit = db.transaction((entries: readonly AuditEntry[]) => {
      for (const entry of entries) insertAudit.run(toAuditRow(entry));
    });
    const pruneOld = db.prepare<[string], unknown>('DELETE FROM audit WHERE at < ?');
    const pruneExtra = db.prepare<[number], unknown>('DELETE FROM audit WHERE seq <= (SELECT seq FROM audit ORDER BY seq DESC LIMIT 1 OFFSET ?)');
    this.#pruneAudit = db.transaction((olderThan: string, keep: number) => Number(pruneOld.run(olderThan).changes) + Number(pruneExtra.run(keep).changes));
    this.#listPins = db.prepare<[], PinRow>('SELECT service, tool, digest, definition, approved_at, approved_by FROM tool_pins');
    const putPin = db.prepare<PinRow, unknown>(
      `INSERT INTO tool_pins (service, tool, digest, definition, approved_at, approved_by)
       VALUES (@service, @tool, @digest, @definition, @approved_at, @approved_by)
       ON CONFLICT (service, tool) DO UPDATE SET digest = excluded.digest, definition = excluded.definition,
         approved_at = excluded.approved_at, approved_by = excluded.approved_by`,
    );
    this.#putPins = db.transaction((pins: readonly ToolPin[]) => {
      for (const pin of pins) putPin.run(toPinRow(pin));
    });
  }

  /**
   * Rows written before secrets were sealed hold them in plain text: with a key they are
   * sealed now, in one transaction; without one the operator is told how many there are.
   */
  #sealPlaintext(): void {
    const plain = this.#listServices.all().filter((row) => {
      try {
        const stored = JSON.parse(row.credential) as Record<string, unknown>;
        return typeof stored['token'] === 'string' || typeof stored['value'] === 'string';
      } catch {
        return false; // a torn row: listServices reports it, naming it
      }
    });
    if (plain.length === 0) return;
    const key = this.#secretKey;
    if (key === undefined) {
      this.#warn(`${plain.length} registered services have a literal secret stored in plain text; set MESHGATE_SECRET_KEY to seal them`);
      return;
    }
    const reseal = this.#db.prepare<[string, string], unknown>('UPDATE services SET credential = ? WHERE name = ?');
    this.#db.transaction(() => {
      for (const row of plain) reseal.run(JSON.stringify(sealCredential(JSON.parse(row.credential) as CredentialSpec, key, row.name)), row.name);
    })();
  }

  async listServices(): Promise<ServiceRecord[]> {
    return this.#listServices.all().map((row) => toServiceRecord(row, this.#secretKey, this.#warn));
  }

  async putService(record: ServiceRecord, guard?: ServiceGuard): Promise<boolean> {
    const row = toServiceRow(record, this.#secretKey);
    if (guard !== undefined) return this.#putGuarded(row, guard);
    this.#putService.run(row);
    return true;
  }

  async deleteService(name: string): Promise<boolean> {
    return this.#deleteService(name);
  }

  async listCatalogs(): Promise<CatalogSnapshot[]> {
    return this.#listCatalogs.all().map(toCatalogSnapshot);
  }

  async putCatalog(snapshot: CatalogSnapshot): Promise<void> {
    this.#putCatalog.run(toCatalogRow(snapshot));
  }

  async listVirtualServers(): Promise<VirtualServerRecord[]> {
    return this.#listVirtualServers.all().map(toVirtualServer);
  }

  async putVirtualServer(record: VirtualServerRecord): Promise<void> {
    this.#putVirtualServer.run(toVirtualServerRow(record));
  }

  async deleteVirtualServer(name: string): Promise<void> {
    this.#deleteVirtualServer.run(name);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length > 0) this.#appendAudit(entries);
  }

  async queryAudit(query: AuditQuery): Promise<AuditPage> {
    const { clauses: where, values: params } = auditWhere(query, (key) => `@${key}`);
    // One row more than the page, to know whether there is a next one. The SQL text is made
    // of the fixed clauses above only; values are bound.
    const sql = `SELECT * FROM audit${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT @limit`;
    const rows = this.#db.prepare<Record<string, unknown>, AuditRow>(sql).all({ ...params, limit: query.limit + 1 });
    const entries = rows.slice(0, query.limit).map(toAuditEntry);
    return rows.length > query.limit ? { entries, nextCursor: entries.at(-1)?.seq ?? 0 } : { entries };
  }

  async pruneAudit(policy: { olderThan: string; keep: number }): Promise<number> {
    return this.#pruneAudit(policy.olderThan, policy.keep);
  }

  async listPins(): Promise<ToolPin[]> {
    return this.#listPins.all().map(toPin);
  }

  async putPins(pins: readonly ToolPin[]): Promise<void> {
    if (pins.length > 0) this.#putPins(pins);
  }

  /** Closes the database (checkpointing the WAL into the file). Safe to call twice. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
