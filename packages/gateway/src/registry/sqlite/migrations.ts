import type Database from 'better-sqlite3';
import { type MigrateResult, type Migration, planMigrations } from '../migrations.js';

export type { MigrateResult, Migration } from '../migrations.js';

/**
 * The schema history, oldest first. Never edit a released entry: a database that already
 * ran it would not run it again. Append a new entry instead.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'services and catalogs',
    // Timestamps are ISO-8601 UTC strings, so text order is time order. Both tables keep
    // their implicit rowid (no WITHOUT ROWID): it breaks created_at ties in insertion order.
    // `catalogs` has no foreign key to `services` on purpose: configured services live in
    // configuration, not in this table, and their last-seen catalogs are stored too.
    // JSON columns carry no json_valid() CHECK: `PRAGMA quick_check` at open verifies CHECKs,
    // so a hand-edited bad row would fail start-up without naming its key; the reader names it.
    up: `
      CREATE TABLE services (
        name           TEXT PRIMARY KEY NOT NULL,
        url            TEXT NOT NULL,
        source         TEXT NOT NULL CHECK (source IN ('config', 'registered')),
        credential     TEXT NOT NULL,
        fallback_tools TEXT,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL
      );
      CREATE TABLE catalogs (
        service TEXT PRIMARY KEY NOT NULL,
        tools   TEXT NOT NULL,
        seen_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'prompts and resources in catalogs',
    // One JSON object { prompts, resources, resourceTemplates }; NULL for rows written by
    // version 1, which read back as empty lists.
    up: `ALTER TABLE catalogs ADD COLUMN other_listings TEXT;`,
  },
  {
    version: 3,
    name: 'command services',
    // A service is a URL or a command (JSON: command, args, env, cwd, stdio policy), never
    // both. SQLite cannot drop NOT NULL from `url`, so the table is rebuilt, rowids kept (they
    // break created_at ties). The CHECK is a plain NULL test, cheap for `quick_check`.
    up: `
      CREATE TABLE services_v3 (
        name           TEXT PRIMARY KEY NOT NULL,
        url            TEXT,
        command        TEXT,
        source         TEXT NOT NULL CHECK (source IN ('config', 'registered')),
        credential     TEXT NOT NULL,
        fallback_tools TEXT,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        CHECK ((url IS NULL) <> (command IS NULL))
      );
      INSERT INTO services_v3 (rowid, name, url, command, source, credential, fallback_tools, created_at, updated_at)
        SELECT rowid, name, url, NULL, source, credential, fallback_tools, created_at, updated_at FROM services;
      DROP TABLE services;
      ALTER TABLE services_v3 RENAME TO services;
    `,
  },
  {
    version: 4,
    name: 'transport of URL services',
    // 'auto', 'streamable-http' or 'sse'; NULL for rows written before and for command services, which read back as auto.
    up: `ALTER TABLE services ADD COLUMN transport TEXT CHECK (transport IN ('auto', 'streamable-http', 'sse'));`,
  },
  {
    version: 5,
    name: 'audit log',
    // AUTOINCREMENT: a seq is never reused after pruning, so a paging cursor stays valid.
    // `detail` is JSON (arguments or their digest, before/after of admin changes).
    up: `
      CREATE TABLE audit (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        at          TEXT NOT NULL,
        kind        TEXT NOT NULL,
        identity    TEXT NOT NULL,
        service     TEXT,
        target      TEXT,
        outcome     TEXT NOT NULL,
        code        TEXT,
        duration_ms REAL,
        request_id  TEXT,
        detail      TEXT
      );
      CREATE INDEX audit_at ON audit (at);
    `,
  },
  {
    version: 6,
    name: 'virtual servers',
    // Those made through the admin API (configured ones live in the config file). `definition`
    // is JSON: tools, prompts and resources selectors, mode, description.
    up: `
      CREATE TABLE virtual_servers (
        name       TEXT PRIMARY KEY NOT NULL,
        definition TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'tool surfaces: pinned definitions, per-service overrides',
    // `tool_pins`: one approved definition per service and upstream tool name (model/pins.ts);
    // kept when a service is deregistered, so a service registered again under that name is
    // held to what was approved. `services.surface`: JSON { overrides, pin, hygiene } of a
    // registered service; NULL reads back as none (the gateway's defaults).
    up: `
      CREATE TABLE tool_pins (
        service     TEXT NOT NULL,
        tool        TEXT NOT NULL,
        digest      TEXT NOT NULL,
        definition  TEXT NOT NULL,
        approved_at TEXT NOT NULL,
        approved_by TEXT NOT NULL,
        PRIMARY KEY (service, tool)
      );
      ALTER TABLE services ADD COLUMN surface TEXT;
    `,
  },
];

/** The schema version this build of Meshgate writes and understands. */
export const SCHEMA_VERSION: number = MIGRATIONS.at(-1)?.version ?? 0;

/**
 * Brings the database up to the newest migration in `migrations`, all pending steps in one
 * transaction, recording progress in `PRAGMA user_version` (stored in the file header, so
 * it commits or rolls back with the schema change itself).
 *
 * The transaction doubles as the start-up write probe, which is why it runs even when
 * nothing is pending: `BEGIN IMMEDIATE` takes the write lock, so a database held by another
 * process fails here within the busy timeout; and writing `user_version` touches the file,
 * so a read-only file fails here too (SQLite opens such a file read-only without complaint,
 * and `BEGIN IMMEDIATE` alone succeeds on it in WAL mode). Nothing changed means rollback.
 *
 * Throws SQLite's own error for lock, permission or corruption problems; the caller
 * classifies them.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): MigrateResult {
  db.exec('BEGIN IMMEDIATE');
  try {
    // Read inside the transaction: another process may have migrated while we waited.
    const from = db.pragma('user_version', { simple: true }) as number;
    const plan = planMigrations(migrations, from);
    if (!plan.ok) {
      db.exec('ROLLBACK');
      return plan;
    }
    const { pending, known } = plan;
    for (const migration of pending) db.exec(migration.up);
    // An integer from our own list, never user input, so interpolation is safe here
    // (PRAGMA does not take bound parameters).
    db.exec(`PRAGMA user_version = ${Math.trunc(known)}`);
    db.exec(pending.length > 0 ? 'COMMIT' : 'ROLLBACK');
    return { ok: true, from, to: known };
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
