// Types of postgres.mjs, for test/helpers/postgres.ts.

export interface PostgresServer {
  readonly port: number;
  /** The URL of database `database` (default `postgres`) as the superuser, over TCP on 127.0.0.1. */
  url(database?: string): string;
  /** Creates an empty database with a fresh name and returns its URL. */
  createDatabase(): Promise<string>;
  /** Runs one statement as the superuser on `database` (default `postgres`); for tests that poke the server (pg_terminate_backend, say). */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<R[]>;
  /** Stops the server (fast shutdown: open connections are cut) and deletes its folder. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server without deleting anything, and `restart()` starts it again on the same port (a database outage). */
  pause(): Promise<void>;
  restart(): Promise<void>;
  /** What the server wrote to its log so far. */
  output(): string;
}

/** Whether this machine can run the helper: the server binaries are installed. */
export function postgresAvailable(): boolean;
/** Starts a fresh server; call `stop()` when done. */
export function startPostgres(): Promise<PostgresServer>;
