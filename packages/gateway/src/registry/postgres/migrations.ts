import type pg from 'pg';
import { type MigrateResult, type Migration, planMigrations } from '../migrations.js';

/** The channel the `services` trigger notifies with a service's name on every write (the change feed, feed.ts). */
export const REGISTRY_CHANNEL = 'meshgate_registry';
/** Notifications of the registry channel other than a service's name (service names have no ':'). */
export const PIN_PREFIX = 'pin:';
export const VIRTUAL_SERVER_PREFIX = 'virtual-server:';

/**
 * The registry's schema history on Postgres, step for step the SQLite one
 * (../sqlite/migrations.ts), so a version number means the same tables in both stores.
 * Never edit a released entry; append. Versions 6 and 7 are taken by SQLite work in flight
 * (virtual servers, tool pins): the next Postgres step must mirror those.
 *
 * Columns are SQLite's: timestamps as ISO-8601 UTC text (text order is time order), JSON as
 * text checked by the reader (rows.ts), so both stores share one row format. `id`
 * plays SQLite's rowid: it breaks created_at ties in insertion order.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'services and catalogs',
    // The trigger is the change feed (Postgres only: a store several processes share). It
    // runs in the writer's transaction, so the notification goes out on commit, never for a
    // write that rolled back, and a hand edit of the table is heard as well.
    up: `
      CREATE TABLE services (
        id             bigint GENERATED ALWAYS AS IDENTITY,
        name           text PRIMARY KEY,
        url            text NOT NULL,
        source         text NOT NULL CHECK (source IN ('config', 'registered')),
        credential     text NOT NULL,
        fallback_tools text,
        created_at     text NOT NULL,
        updated_at     text NOT NULL
      );
      CREATE TABLE catalogs (
        id      bigint GENERATED ALWAYS AS IDENTITY,
        service text PRIMARY KEY,
        tools   text NOT NULL,
        seen_at text NOT NULL
      );
      CREATE FUNCTION meshgate_service_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${REGISTRY_CHANNEL}', CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END);
        RETURN NULL;
      END $$;
      CREATE TRIGGER services_changed AFTER INSERT OR UPDATE OR DELETE ON services
        FOR EACH ROW EXECUTE FUNCTION meshgate_service_changed();
    `,
  },
  {
    version: 2,
    name: 'prompts and resources in catalogs',
    up: 'ALTER TABLE catalogs ADD COLUMN other_listings text;',
  },
  {
    version: 3,
    name: 'command services',
    up: `
      ALTER TABLE services ALTER COLUMN url DROP NOT NULL;
      ALTER TABLE services ADD COLUMN command text;
      ALTER TABLE services ADD CONSTRAINT services_url_or_command CHECK ((url IS NULL) <> (command IS NULL));
    `,
  },
  {
    version: 4,
    name: 'transport of URL services',
    up: `ALTER TABLE services ADD COLUMN transport text CHECK (transport IN ('auto', 'streamable-http', 'sse'));`,
  },
  {
    version: 5,
    name: 'audit log',
    // An identity never reuses a value after pruning, so a paging cursor stays valid.
    up: `
      CREATE TABLE audit (
        seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at          text NOT NULL,
        kind        text NOT NULL,
        identity    text NOT NULL,
        service     text,
        target      text,
        outcome     text NOT NULL,
        code        text,
        duration_ms double precision,
        request_id  text,
        detail      text
      );
      CREATE INDEX audit_at ON audit (at);
    `,
  },
  {
    version: 6,
    name: 'virtual servers',
    // As SQLite's migration 6: those made through the admin API; `definition` is JSON.
    up: `
      CREATE TABLE virtual_servers (
        id         bigint GENERATED ALWAYS AS IDENTITY,
        name       text PRIMARY KEY,
        definition text NOT NULL,
        created_at text NOT NULL,
        updated_at text NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'tool surfaces: pinned definitions, per-service overrides',
    // As SQLite's migration 7: pins outlive a deregistration on purpose (model/pins.ts).
    up: `
      CREATE TABLE tool_pins (
        service     text NOT NULL,
        tool        text NOT NULL,
        digest      text NOT NULL,
        definition  text NOT NULL,
        approved_at text NOT NULL,
        approved_by text NOT NULL,
        PRIMARY KEY (service, tool)
      );
      ALTER TABLE services ADD COLUMN surface text;
    `,
  },
  {
    version: 8,
    name: 'change feed of pins and virtual servers',
    // Postgres only (SQLite has one writer and no feed): another replica's approval or new
    // virtual server is live on every replica, as a registration is.
    up: `
      CREATE FUNCTION meshgate_pins_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${REGISTRY_CHANNEL}', '${PIN_PREFIX}' || CASE WHEN TG_OP = 'DELETE' THEN OLD.service ELSE NEW.service END);
        RETURN NULL;
      END $$;
      CREATE TRIGGER tool_pins_changed AFTER INSERT OR UPDATE OR DELETE ON tool_pins
        FOR EACH ROW EXECUTE FUNCTION meshgate_pins_changed();
      CREATE FUNCTION meshgate_virtual_server_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${REGISTRY_CHANNEL}', '${VIRTUAL_SERVER_PREFIX}' || CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END);
        RETURN NULL;
      END $$;
      CREATE TRIGGER virtual_servers_changed AFTER INSERT OR UPDATE OR DELETE ON virtual_servers
        FOR EACH ROW EXECUTE FUNCTION meshgate_virtual_server_changed();
    `,
  },
];

/** Taken (transaction-scoped) by every migration run, so replicas starting together migrate one at a time. */
const MIGRATION_LOCK = 'meshgate:schema_migrations';

/**
 * Brings `scope`'s tables up to the newest of `migrations`: all pending steps in one
 * transaction with a row per step in `schema_migrations` (scope, version, name, applied_at).
 * Several schemas share the table by scope: `registry` (POSTGRES_MIGRATIONS) and `cluster`
 * (../../cluster/postgres-schema.ts). Refuses a database whose scope is newer than the code.
 * Throws Postgres's own error for anything else; the caller classifies it.
 */
export async function migratePostgres(client: pg.ClientBase, scope: string, migrations: readonly Migration[]): Promise<MigrateResult> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      scope      text NOT NULL,
      version    integer NOT NULL,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (scope, version)
    )`);
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations WHERE scope = $1', [scope]);
    const from = rows[0]?.version ?? 0;
    const plan = planMigrations(migrations, from);
    if (!plan.ok) {
      await client.query('ROLLBACK');
      return plan;
    }
    for (const migration of plan.pending) {
      if (migration.up.trim() !== '') await client.query(migration.up);
      await client.query('INSERT INTO schema_migrations (scope, version, name) VALUES ($1, $2, $3)', [scope, migration.version, migration.name]);
    }
    await client.query('COMMIT');
    return { ok: true, from, to: plan.known };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
