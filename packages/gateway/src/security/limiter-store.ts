/**
 * Where rate limits count: in this process's memory, or, given the database several
 * replicas share, in its `rate_limits` table (rate-limiter-flexible's RateLimiterPostgres;
 * the table is made by the cluster migrations), so a budget is one budget across replicas.
 * While the database cannot be reached each replica counts in memory instead (the
 * library's insurance limiter): limits stay on, per replica, until it is back.
 */
import type pg from 'pg';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterPostgres } from 'rate-limiter-flexible';

/** The shared counting place: the pool of the database replicas share. */
export interface SharedLimits {
  pool: pg.Pool;
}

/** A fixed-window limiter of `points` per `durationSeconds`, keys prefixed by `name` so several limiters share one table. */
export function fixedWindowLimiter(name: string, points: number, durationSeconds: number, shared: SharedLimits | undefined): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ keyPrefix: name, points, duration: durationSeconds });
  if (shared === undefined) return memory;
  return new RateLimiterPostgres({
    storeClient: shared.pool,
    tableName: 'rate_limits',
    tableCreated: true,
    keyPrefix: name,
    points,
    duration: durationSeconds,
    insuranceLimiter: memory,
    // Expired rows are deleted by the library every five minutes.
    clearExpiredByTimeout: true,
  });
}
