import pg from 'pg';
import type { ToolPin } from '../../model/pins.js';
import type { CatalogSnapshot, ServiceRecord } from '../../model/service.js';
import { redactUrl } from '../../model/service.js';
import type { VirtualServerRecord } from '../../model/virtual-server.js';
import {
  AUDIT_COLUMNS,
  type AuditRow,
  auditWhere,
  type CatalogRow,
  PIN_COLUMNS,
  type PinRow,
  SERVICE_COLUMNS,
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
import { StoreOpenError } from '../store-error.js';
import type { AuditEntry, AuditPage, AuditQuery, RegistryFeed, RegistryStore, ServiceGuard, StoreLogger } from '../types.js';
import { PostgresFeed } from './feed.js';
import { migratePostgres, POSTGRES_MIGRATIONS } from './migrations.js';

/** Connecting at start-up gives up after this long, so a database that is down fails start-up clearly rather than hanging. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Appends take this lock (transaction-scoped) so that `seq` order is commit order: a reader paging by cursor never skips an entry committed late. */
const AUDIT_LOCK = 'meshgate:audit';
const SETTING = 'MESHGATE_DATABASE_URL';

export interface PostgresStoreOptions {
  /** Seals literal secrets of registrations (registry/secrets.ts), as the SQLite store does. */
  secretKey?: Buffer | undefined;
  /** How often the feed re-reads every service even with no notification (MESHGATE_REGISTRY_RECONCILE_MS); 0 turns it off. */
  reconcileIntervalMs?: number;
  /** Connections in the pool (the feed's listening connection is one more). */
  poolSize?: number;
}

const SERVICE_INSERT = `INSERT INTO services (${SERVICE_COLUMNS.join(', ')}) VALUES (${SERVICE_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;
const SERVICE_UPDATE = SERVICE_COLUMNS.filter((column) => column !== 'name')
  .map((column) => `${column} = excluded.${column}`)
  .join(', ');
const serviceValues = (row: ServiceRow) => SERVICE_COLUMNS.map((column) => row[column]);

/** Why connecting or migrating failed, as a StoreOpenError naming the setting and the (redacted) URL. */
function toOpenError(where: string, error: unknown): StoreOpenError {
  if (error instanceof StoreOpenError) return error;
  const why = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '28P01' || code === '28000') {
    return new StoreOpenError(where, 'unavailable', `the database refused the credentials (${why})`, `check the user and password in ${SETTING}`, {
      cause: error,
    });
  }
  if (code === '3D000') return new StoreOpenError(where, 'unavailable', why, `create the database, or point ${SETTING} at one that exists`, { cause: error });
  return new StoreOpenError(where, 'unavailable', `cannot connect or set up its tables (${why})`, `check ${SETTING} and that the database server is up`, {
    cause: error,
  });
}

/**
 * The `RegistryStore` several gateway replicas share: Postgres through a `pg` pool. Same rows
 * as the SQLite store (rows.ts), secrets sealed the same way; compare-and-set writes
 * (`putService` with a guard, `putCatalog` newest-wins) so replicas writing together never
 * lose each other's changes; and a change feed (feed.ts) over LISTEN/NOTIFY.
 */
export class PostgresRegistryStore implements RegistryStore {
  readonly feed: RegistryFeed;
  #closed = false;

  /**
   * Connects, migrates (POSTGRES_MIGRATIONS, scope `registry`) and returns the store. A
   * database that is down, refuses the credentials or is newer than this build throws a
   * StoreOpenError naming MESHGATE_DATABASE_URL, with the URL's password redacted.
   */
  static async open(url: string, logger?: StoreLogger, options: PostgresStoreOptions = {}): Promise<PostgresRegistryStore> {
    const where = redactUrl(url);
    // application_name tells a replica's connections apart in pg_stat_activity.
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: `meshgate:${process.pid}`,
    });
    // An idle connection the server ends (restart, pg_terminate_backend) is an error event on
    // the pool; unheard it would end the process. The next query gets a fresh connection.
    pool.on('error', (error) => logger?.warn?.({ database: where, err: error.message }, 'a registry database connection was lost'));
    try {
      const client = await pool.connect();
      try {
        const migrated = await migratePostgres(client, 'registry', POSTGRES_MIGRATIONS);
        if (!migrated.ok) {
          throw new StoreOpenError(
            where,
            'schema-too-new',
            `database schema version ${migrated.found} is newer than this Meshgate (${migrated.known})`,
            `upgrade Meshgate or point ${SETTING} at another database`,
          );
        }
        logger?.info({ database: where, schemaVersion: migrated.to, migratedFrom: migrated.from }, 'registry store opened');
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw toOpenError(where, error);
    }
    return new PostgresRegistryStore(pool, url, options, logger);
  }

  readonly #secretKey: Buffer | undefined;
  readonly #warn: (message: string) => void;

  private constructor(
    readonly pool: pg.Pool,
    readonly url: string,
    options: PostgresStoreOptions,
    logger: StoreLogger | undefined,
  ) {
    this.#secretKey = options.secretKey;
    this.#warn = (message) => logger?.warn?.({ database: redactUrl(url) }, message);
    this.feed = new PostgresFeed(url, { reconcileIntervalMs: options.reconcileIntervalMs ?? 30_000, logger });
  }

  async listServices(): Promise<ServiceRecord[]> {
    const { rows } = await this.pool.query<ServiceRow>(`SELECT ${SERVICE_COLUMNS.join(', ')} FROM services ORDER BY created_at, id`);
    return rows.map((row) => toServiceRecord(row, this.#secretKey, this.#warn));
  }

  async putService(record: ServiceRecord, guard?: ServiceGuard): Promise<boolean> {
    const values = serviceValues(toServiceRow(record, this.#secretKey));
    if (guard === undefined) {
      await this.pool.query(`${SERVICE_INSERT} ON CONFLICT (name) DO UPDATE SET ${SERVICE_UPDATE}`, values);
      return true;
    }
    // One statement each, so the check and the write are atomic without an explicit transaction.
    const result =
      'absent' in guard
        ? await this.pool.query(`${SERVICE_INSERT} ON CONFLICT (name) DO NOTHING`, values)
        : await this.pool.query(
            `UPDATE services SET ${SERVICE_COLUMNS.filter((c) => c !== 'name')
              .map((column, i) => `${column} = $${i + 2}`)
              .join(', ')} WHERE name = $1 AND updated_at = $${SERVICE_COLUMNS.length + 1}`,
            [...values, guard.updatedAt],
          );
    return (result.rowCount ?? 0) > 0;
  }

  async deleteService(name: string): Promise<boolean> {
    // No foreign key (configured services' catalogs are stored too), so both go in one statement.
    const { rows } = await this.pool.query<{ n: string }>(
      `WITH gone_catalog AS (DELETE FROM catalogs WHERE service = $1), gone AS (DELETE FROM services WHERE name = $1 RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [name],
    );
    return Number(rows[0]?.n ?? 0) > 0;
  }

  async listCatalogs(): Promise<CatalogSnapshot[]> {
    const { rows } = await this.pool.query<CatalogRow>('SELECT service, tools, other_listings, seen_at FROM catalogs ORDER BY id');
    return rows.map(toCatalogSnapshot);
  }

  async putCatalog(snapshot: CatalogSnapshot): Promise<void> {
    const row = toCatalogRow(snapshot);
    await this.pool.query(
      `INSERT INTO catalogs (service, tools, other_listings, seen_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (service) DO UPDATE SET tools = excluded.tools, other_listings = excluded.other_listings, seen_at = excluded.seen_at
       WHERE excluded.seen_at >= catalogs.seen_at`,
      [row.service, row.tools, row.other_listings, row.seen_at],
    );
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map(toAuditRow);
    const placeholders = rows.map((_, r) => `(${AUDIT_COLUMNS.map((_, c) => `$${r * AUDIT_COLUMNS.length + c + 1}`).join(', ')})`).join(', ');
    await this.#transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [AUDIT_LOCK]);
      await client.query(
        `INSERT INTO audit (${AUDIT_COLUMNS.join(', ')}) VALUES ${placeholders}`,
        rows.flatMap((row) => AUDIT_COLUMNS.map((column) => row[column])),
      );
    });
  }

  async queryAudit(query: AuditQuery): Promise<AuditPage> {
    const { clauses, values } = auditWhere(query, (_, index) => `$${index + 1}`);
    const params = Object.values(values);
    const sql = `SELECT * FROM audit${clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length + 1}`;
    const { rows } = await this.pool.query<AuditRow>(sql, [...params, query.limit + 1]);
    const entries = rows.slice(0, query.limit).map(toAuditEntry);
    return rows.length > query.limit ? { entries, nextCursor: entries.at(-1)?.seq ?? 0 } : { entries };
  }

  async listVirtualServers(): Promise<VirtualServerRecord[]> {
    const { rows } = await this.pool.query<VirtualServerRow>('SELECT name, definition, created_at, updated_at FROM virtual_servers ORDER BY created_at, id');
    return rows.map(toVirtualServer);
  }

  async putVirtualServer(record: VirtualServerRecord): Promise<void> {
    const row = toVirtualServerRow(record);
    await this.pool.query(
      `INSERT INTO virtual_servers (name, definition, created_at, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
      [row.name, row.definition, row.created_at, row.updated_at],
    );
  }

  async deleteVirtualServer(name: string): Promise<void> {
    await this.pool.query('DELETE FROM virtual_servers WHERE name = $1', [name]);
  }

  async listPins(): Promise<ToolPin[]> {
    const { rows } = await this.pool.query<PinRow>(`SELECT ${PIN_COLUMNS.join(', ')} FROM tool_pins`);
    return rows.map(toPin);
  }

  async putPins(pins: readonly ToolPin[]): Promise<void> {
    if (pins.length === 0) return;
    const rows = pins.map(toPinRow);
    const placeholders = rows.map((_, r) => `(${PIN_COLUMNS.map((_, c) => `$${r * PIN_COLUMNS.length + c + 1}`).join(', ')})`).join(', ');
    // One statement: all or none.
    await this.pool.query(
      `INSERT INTO tool_pins (${PIN_COLUMNS.join(', ')}) VALUES ${placeholders}
       ON CONFLICT (service, tool) DO UPDATE SET digest = excluded.digest, definition = excluded.definition,
         approved_at = excluded.approved_at, approved_by = excluded.approved_by`,
      rows.flatMap((row) => PIN_COLUMNS.map((column) => row[column])),
    );
  }

  async pruneAudit(policy: { olderThan: string; keep: number }): Promise<number> {
    // Two steps, as the SQLite store does: the newest `keep` are counted among the young ones.
    return this.#transaction(async (client) => {
      const old = await client.query('DELETE FROM audit WHERE at < $1', [policy.olderThan]);
      const extra = await client.query('DELETE FROM audit WHERE seq <= (SELECT seq FROM audit ORDER BY seq DESC LIMIT 1 OFFSET $1)', [policy.keep]);
      return (old.rowCount ?? 0) + (extra.rowCount ?? 0);
    });
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Stops the feed and closes the pool. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await (this.feed as PostgresFeed).close();
    await this.pool.end();
  }
}
