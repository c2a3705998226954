/**
 * A real PostgreSQL server for tests: Debian's PostgreSQL 15, started by the test itself in a
 * temp folder on an ephemeral port of 127.0.0.1 and removed after it. One server per test
 * file, a fresh database per test:
 *
 *   const pg = await startPostgres();       // beforeAll
 *   const url = await pg.createDatabase();  // each test: postgres://meshgate@127.0.0.1:<port>/t_<n>
 *   await pg.stop();                        // afterAll: stops the server, deletes its folder
 *
 * The implementation is shared with the benchmark: scripts/lib/postgres.mjs (how it runs,
 * and as whom when the tests run as root).
 */
export { type PostgresServer, postgresAvailable, startPostgres } from '../../scripts/lib/postgres.mjs';
