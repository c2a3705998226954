import type { LoggingLevel } from '@modelcontextprotocol/server';
import type pg from 'pg';
import { migratePostgres } from '../registry/postgres/migrations.js';
import { CLUSTER_MIGRATIONS } from './postgres-schema.js';
import type { SessionLookup, SessionStateStore, SessionSubscription } from './types.js';

/** Creates (or checks) the cluster tables; cheap when they are current. Throws for a database newer than this build. */
export async function migrateCluster(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    const result = await migratePostgres(client, 'cluster', CLUSTER_MIGRATIONS);
    if (!result.ok) throw new Error(`the cluster tables are at version ${result.found}, newer than this Meshgate (${result.known}); upgrade Meshgate`);
  } finally {
    client.release();
  }
}

/**
 * `SessionStateStore` on Postgres: one row per session (`session_state`), its subscriptions
 * in `session_subscriptions`, ended ones in `session_tombstones`. Every write takes a
 * per-key advisory lock in its transaction, so `end` and a write racing it on another
 * replica are ordered: a write never brings back state after its session ended.
 */
export class PostgresSessionStateStore implements SessionStateStore {
  private constructor(readonly pool: pg.Pool) {}

  /** A store on `pool` (the registry store's, say), its tables made if missing. */
  static async create(pool: pg.Pool): Promise<PostgresSessionStateStore> {
    await migrateCluster(pool);
    return new PostgresSessionStateStore(pool);
  }

  async lookup(key: string): Promise<SessionLookup> {
    const { rows } = await this.pool.query<{ ended: boolean; live: boolean; log_level: string | null; subs: SessionSubscription[] | null }>(
      `SELECT EXISTS (SELECT 1 FROM session_tombstones WHERE key = $1) AS ended,
              EXISTS (SELECT 1 FROM session_state WHERE key = $1) AS live,
              (SELECT log_level FROM session_state WHERE key = $1) AS log_level,
              (SELECT json_agg(json_build_object('uri', uri, 'service', service, 'upstreamUri', upstream_uri) ORDER BY id)
                 FROM session_subscriptions WHERE key = $1) AS subs`,
      [key],
    );
    const row = rows[0];
    if (row?.ended === true) return { kind: 'ended' };
    if (row?.live !== true) return { kind: 'unknown' };
    return { kind: 'live', state: { logLevel: (row.log_level ?? undefined) as LoggingLevel | undefined, subscriptions: row.subs ?? [] } };
  }

  /** Runs `work` in a transaction holding `key`'s lock, unless the session has ended. */
  async #write(key: string, expiresAt: number | undefined, work: (client: pg.PoolClient) => Promise<unknown>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`meshgate:session:${key}`]);
      const ended = await client.query('SELECT 1 FROM session_tombstones WHERE key = $1', [key]);
      if ((ended.rowCount ?? 0) === 0) {
        if (expiresAt !== undefined) {
          await client.query(
            `INSERT INTO session_state (key, expires_at) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET expires_at = greatest(session_state.expires_at, excluded.expires_at)`,
            [key, expiresAt],
          );
        }
        await work(client);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async setLogLevel(key: string, level: LoggingLevel | undefined, expiresAt: number): Promise<void> {
    await this.#write(key, expiresAt, (client) => client.query('UPDATE session_state SET log_level = $2 WHERE key = $1', [key, level ?? null]));
  }

  async subscribe(key: string, subscription: SessionSubscription, expiresAt: number): Promise<void> {
    await this.#write(key, expiresAt, (client) =>
      client.query(
        `INSERT INTO session_subscriptions (key, uri, service, upstream_uri) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key, uri) DO UPDATE SET service = excluded.service, upstream_uri = excluded.upstream_uri`,
        [key, subscription.uri, subscription.service, subscription.upstreamUri],
      ),
    );
  }

  async unsubscribe(key: string, uri: string): Promise<void> {
    await this.pool.query('DELETE FROM session_subscriptions WHERE key = $1 AND uri = $2', [key, uri]);
  }

  async touch(key: string, expiresAt: number): Promise<void> {
    await this.pool.query('UPDATE session_state SET expires_at = greatest(expires_at, $2) WHERE key = $1', [key, expiresAt]);
  }

  async end(key: string, tombstoneUntil: number): Promise<void> {
    await this.#write(key, undefined, async (client) => {
      await client.query('DELETE FROM session_state WHERE key = $1', [key]);
      await client.query('INSERT INTO session_tombstones (key, until) VALUES ($1, $2)', [key, tombstoneUntil]);
    });
    // Already ended: the tombstone may only grow.
    await this.pool.query('UPDATE session_tombstones SET until = greatest(until, $2) WHERE key = $1', [key, tombstoneUntil]);
  }

  async sweep(now: number): Promise<number> {
    const state = await this.pool.query('DELETE FROM session_state WHERE expires_at <= $1', [now]);
    const tombstones = await this.pool.query('DELETE FROM session_tombstones WHERE until <= $1', [now]);
    return (state.rowCount ?? 0) + (tombstones.rowCount ?? 0);
  }

  /** The pool is its owner's (the registry store closes it). */
  async close(): Promise<void> {}
}
