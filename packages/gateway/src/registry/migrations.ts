/**
 * What every store's migrations share: the shape of a step, the checks on a list of them,
 * and the decision what to run from a database's recorded version. Each store records the
 * version its own way (SQLite in `PRAGMA user_version`, Postgres in `schema_migrations`)
 * and runs the pending steps in one transaction.
 */

/** One schema step. `version` counts up from 1 with no gaps; `up` is SQL run once. */
export interface Migration {
  version: number;
  name: string;
  up: string;
}

/** What `migrate` did: moved the schema from one version to another, or refused a newer one. */
export type MigrateResult = { ok: true; from: number; to: number } | { ok: false; code: 'schema_too_new'; found: number; known: number };

/** The steps to run on a database at version `from`, or the refusal of one newer than `migrations` know. */
export type MigrationPlan = { ok: true; pending: Migration[]; known: number } | { ok: false; code: 'schema_too_new'; found: number; known: number };

/** Throws for a list a store must never run: versions not 1, 2, 3... in order. A programming error, caught by every store's tests. */
export function checkMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`migration "${migration.name}" has version ${migration.version}, expected ${index + 1}`);
  });
}

export function planMigrations(migrations: readonly Migration[], from: number): MigrationPlan {
  checkMigrations(migrations);
  const known = migrations.at(-1)?.version ?? 0;
  if (from > known) return { ok: false, code: 'schema_too_new', found: from, known };
  return { ok: true, pending: migrations.filter((migration) => migration.version > from), known };
}
