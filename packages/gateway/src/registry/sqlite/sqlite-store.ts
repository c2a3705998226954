import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Tool } from '@modelcontextprotocol/server';
import Database from 'better-sqlite3';
import { GatewayError } from '../../errors.js';
import type { Listings } from '../../model/catalog.js';
import type { CatalogSnapshot, CommandSpec, CredentialSpec, ServiceRecord } from '../../model/service.js';
import type { VirtualServerRecord } from '../../model/virtual-server.js';
import { type StoredCredential, sealCredential, unsealCredential } from '../secrets.js';
import type { AuditEntry, AuditPage, AuditQuery, RegistryStore } from '../types.js';
import { migrate } from './migrations.js';

/** Short, so that a database held by another process fails start-up quickly. */
const OPEN_BUSY_TIMEOUT_MS = 2_000;
/** Longer once running: a brief overlap with a checkpoint or a backup tool should just wait. */
const RUN_BUSY_TIMEOUT_MS = 5_000;

/** Why the store could not be opened; `main` can pick an exit message or code from it. */
export type StoreOpenFailure = 'corrupt' | 'read-only' | 'locked' | 'schema-too-new' | 'unavailable';

/** Start-up failure of the SQLite store. The message names the path and says how to fix it. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(
    readonly path: string,
    readonly reason: StoreOpenFailure,
    detail: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot open the registry database ${path}: ${detail}; ${hint}`, options);
  }
}

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

interface ServiceRow {
  name: string;
  /** Exactly one of `url` and `command` (JSON) is set. */
  url: string | null;
  command: string | null;
  source: ServiceRecord['source'];
  credential: string;
  transport: string | null;
  fallback_tools: string | null;
  created_at: string;
  updated_at: string;
}

interface VirtualServerRow {
  name: string;
  definition: string;
  created_at: string;
  updated_at: string;
}

interface CatalogRow {
  service: string;
  tools: string;
  other_listings: string | null;
  seen_at: string;
}

interface AuditRow {
  seq: number;
  at: string;
  kind: AuditEntry['kind'];
  identity: string;
  service: string | null;
  target: string | null;
  outcome: AuditEntry['outcome'];
  code: string | null;
  duration_ms: number | null;
  request_id: string | null;
  detail: string | null;
}

/** The filters of an audit query, as SQL over fixed column names with bound values. */
const AUDIT_FILTERS: readonly [keyof AuditQuery, string][] = [
  ['identity', 'identity = @identity'],
  ['service', 'service = @service'],
  ['target', 'target = @target'],
  ['kind', 'kind = @kind'],
  ['outcome', 'outcome = @outcome'],
  ['since', 'at >= @since'],
  ['until', 'at < @until'],
  ['after', 'seq > @after'],
];

function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    kind: row.kind,
    identity: row.identity,
    service: row.service,
    target: row.target,
    outcome: row.outcome,
    code: row.code,
    durationMs: row.duration_ms,
    requestId: row.request_id,
    detail: row.detail === null ? null : parseColumn<Record<string, unknown>>('audit', String(row.seq), 'detail', row.detail, isObject),
  };
}

type OtherListings = Omit<Listings, 'tools'>;
const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses one JSON column; a bad row is a loud error naming where it is, never skipped. */
function parseColumn<T>(table: string, key: string, column: string, text: string, isShape: (value: unknown) => boolean): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new GatewayError('store_error', `${table} row '${key}': column ${column} is not valid JSON (${(error as Error).message})`, { table, key });
  }
  if (!isShape(value)) throw new GatewayError('store_error', `${table} row '${key}': column ${column} has the wrong shape`, { table, key });
  return value as T;
}

const isCredential = (value: unknown): boolean => typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';

const isCommand = (value: unknown): boolean => {
  const spec = value as Partial<CommandSpec> | null;
  return isObject(spec) && typeof spec?.command === 'string' && Array.isArray(spec.args) && isObject(spec.env) && typeof spec.stdio === 'string';
};

const isTransport = (value: string | null): value is NonNullable<ServiceRecord['transport']> =>
  value === 'auto' || value === 'streamable-http' || value === 'sse';

function toServiceRecord(row: ServiceRow, key: Buffer | undefined, warn: (message: string) => void): ServiceRecord {
  const stored = parseColumn<StoredCredential>('services', row.name, 'credential', row.credential, isCredential);
  const { spec, problem } = unsealCredential(stored, key, row.name);
  if (problem !== undefined) warn(problem);
  const common = {
    name: row.name,
    source: row.source,
    credential: spec,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.fallback_tools === null ? {} : { fallbackTools: parseColumn<Tool[]>('services', row.name, 'fallback_tools', row.fallback_tools, Array.isArray) }),
  };
  if (row.command !== null) return { ...common, command: parseColumn<CommandSpec>('services', row.name, 'command', row.command, isCommand) };
  if (row.url === null)
    throw new GatewayError('store_error', `services row '${row.name}': neither url nor command is set`, { table: 'services', key: row.name });
  const transport = isTransport(row.transport) ? { transport: row.transport } : {};
  return { ...common, url: row.url, ...transport };
}

export interface StoreLogger {
  info(obj: object, msg: string): void;
  warn?(obj: object, msg: string): void;
}

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
  readonly #deleteService: (name: string) => void;
  readonly #listCatalogs: Database.Statement<[], CatalogRow>;
  readonly #putCatalog: Database.Statement<CatalogRow, unknown>;
  readonly #listVirtualServers: Database.Statement<[], VirtualServerRow>;
  readonly #putVirtualServer: Database.Statement<VirtualServerRow, unknown>;
  readonly #deleteVirtualServer: Database.Statement<[string], unknown>;
  readonly #appendAudit: (entries: readonly AuditEntry[]) => void;
  readonly #pruneAudit: (olderThan: string, keep: number) => number;

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
      'SELECT name, url, command, source, credential, transport, fallback_tools, created_at, updated_at FROM services ORDER BY created_at, rowid',
    );
    this.#putService = db.prepare<ServiceRow, unknown>(
      `INSERT INTO services (name, url, command, source, credential, transport, fallback_tools, created_at, updated_at)
       VALUES (@name, @url, @command, @source, @credential, @transport, @fallback_tools, @created_at, @updated_at)
       ON CONFLICT (name) DO UPDATE SET url = excluded.url, command = excluded.command, source = excluded.source, credential = excluded.credential,
         transport = excluded.transport,
         fallback_tools = excluded.fallback_tools, created_at = excluded.created_at, updated_at = excluded.updated_at`,
    );
    const deleteCatalog = db.prepare<[string], unknown>('DELETE FROM catalogs WHERE service = ?');
    const deleteService = db.prepare<[string], unknown>('DELETE FROM services WHERE name = ?');
    // No foreign key cascades (see the migration), so both deletes share one transaction.
    this.#deleteService = db.transaction((name: string) => {
      deleteCatalog.run(name);
      deleteService.run(name);
    });
    this.#listCatalogs = db.prepare<[], CatalogRow>('SELECT service, tools, other_listings, seen_at FROM catalogs ORDER BY rowid');
    this.#putCatalog = db.prepare<CatalogRow, unknown>(
      `INSERT INTO catalogs (service, tools, other_listings, seen_at) VALUES (@service, @tools, @other_listings, @seen_at)
       ON CONFLICT (service) DO UPDATE SET tools = excluded.tools, other_listings = excluded.other_listings, seen_at = excluded.seen_at`,
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
      for (const entry of entries) {
        insertAudit.run({
          at: entry.at,
          kind: entry.kind,
          identity: entry.identity,
          service: entry.service,
          target: entry.target,
          outcome: entry.outcome,
          code: entry.code,
          duration_ms: entry.durationMs,
          request_id: entry.requestId,
          detail: entry.detail === null ? null : JSON.stringify(entry.detail),
        });
      }
    });
    const pruneOld = db.prepare<[string], unknown>('DELETE FROM audit WHERE at < ?');
    const pruneExtra = db.prepare<[number], unknown>('DELETE FROM audit WHERE seq <= (SELECT seq FROM audit ORDER BY seq DESC LIMIT 1 OFFSET ?)');
    this.#pruneAudit = db.transaction((olderThan: string, keep: number) => Number(pruneOld.run(olderThan).changes) + Number(pruneExtra.run(keep).changes));
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

  async putService(record: ServiceRecord): Promise<void> {
    this.#putService.run({
      name: record.name,
      url: record.url ?? null,
      command: record.command === undefined ? null : JSON.stringify(record.command),
      source: record.source,
      credential: JSON.stringify(sealCredential(record.credential, this.#secretKey, record.name)),
      transport: record.transport ?? null,
      fallback_tools: record.fallbackTools === undefined ? null : JSON.stringify(record.fallbackTools),
      created_at: record.createdAt,
      updated_at: record.updatedAt,
    });
  }

  async deleteService(name: string): Promise<void> {
    this.#deleteService(name);
  }

  async listCatalogs(): Promise<CatalogSnapshot[]> {
    return this.#listCatalogs.all().map((row) => {
      const other =
        row.other_listings === null ? undefined : parseColumn<Partial<OtherListings>>('catalogs', row.service, 'other_listings', row.other_listings, isObject);
      return {
        service: row.service,
        tools: parseColumn<Tool[]>('catalogs', row.service, 'tools', row.tools, Array.isArray),
        prompts: other?.prompts ?? [],
        resources: other?.resources ?? [],
        resourceTemplates: other?.resourceTemplates ?? [],
        seenAt: row.seen_at,
      };
    });
  }

  async putCatalog(snapshot: CatalogSnapshot): Promise<void> {
    const { prompts, resources, resourceTemplates } = snapshot;
    this.#putCatalog.run({
      service: snapshot.service,
      tools: JSON.stringify(snapshot.tools),
      other_listings: JSON.stringify({ prompts, resources, resourceTemplates } satisfies OtherListings),
      seen_at: snapshot.seenAt,
    });
  }

  async listVirtualServers(): Promise<VirtualServerRecord[]> {
    return this.#listVirtualServers.all().map((row) => ({
      ...parseColumn<Omit<VirtualServerRecord, 'name' | 'source' | 'createdAt' | 'updatedAt'>>(
        'virtual_servers',
        row.name,
        'definition',
        row.definition,
        isObject,
      ),
      name: row.name,
      source: 'registered',
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }));
  }

  async putVirtualServer(record: VirtualServerRecord): Promise<void> {
    const { name, source: _source, createdAt, updatedAt, ...definition } = record;
    this.#putVirtualServer.run({ name, definition: JSON.stringify(definition), created_at: createdAt, updated_at: updatedAt });
  }

  async deleteVirtualServer(name: string): Promise<void> {
    this.#deleteVirtualServer.run(name);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length > 0) this.#appendAudit(entries);
  }

  async queryAudit(query: AuditQuery): Promise<AuditPage> {
    const where = AUDIT_FILTERS.filter(([key]) => query[key] !== undefined).map(([, clause]) => clause);
    const params = Object.fromEntries(AUDIT_FILTERS.filter(([key]) => query[key] !== undefined).map(([key]) => [key, query[key]]));
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

  /** Closes the database (checkpointing the WAL into the file). Safe to call twice. */
  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
