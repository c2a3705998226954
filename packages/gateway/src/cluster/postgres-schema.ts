import type { Migration } from '../registry/migrations.js';

/**
 * The tables of what replicas share besides the registry, in `schema_migrations` under the
 * scope `cluster` (registry/postgres/migrations.ts runs them), so their numbers never
 * collide with the registry's, which mirror SQLite's.
 */
export const CLUSTER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'session state, tombstones, bus payloads, rate limits',
    // Times are epoch milliseconds (bigint), compared with the caller's clock: replicas'
    // clocks are assumed close (NTP), as session expiry already assumes.
    // `rate_limits` is rate-limiter-flexible's RateLimiterPostgres table, made here so that
    // replicas starting together do not race to create it.
    up: `
      CREATE TABLE session_state (
        key        text PRIMARY KEY,
        log_level  text,
        expires_at bigint NOT NULL
      );
      CREATE INDEX session_state_expires ON session_state (expires_at);
      CREATE TABLE session_subscriptions (
        id           bigint GENERATED ALWAYS AS IDENTITY,
        key          text NOT NULL REFERENCES session_state (key) ON DELETE CASCADE,
        uri          text NOT NULL,
        service      text NOT NULL,
        upstream_uri text NOT NULL,
        PRIMARY KEY (key, uri)
      );
      CREATE TABLE session_tombstones (
        key   text PRIMARY KEY,
        until bigint NOT NULL
      );
      CREATE INDEX session_tombstones_until ON session_tombstones (until);
      CREATE TABLE bus_payloads (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        body       text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX bus_payloads_created ON bus_payloads (created_at);
      CREATE TABLE rate_limits (
        key    varchar(255) PRIMARY KEY,
        points integer NOT NULL DEFAULT 0,
        expire bigint
      );
    `,
  },
];
