/**
 * A real PostgreSQL server for the tests (test/helpers/postgres.ts) and the benchmark
 * (bench/lib/replicas.mjs): Debian's PostgreSQL 15 (`postgresql-15`, binaries in
 * /usr/lib/postgresql/15/bin, or POSTGRES_BIN_DIR), started by the test itself and removed
 * after it. One server per test file, a fresh database per test:
 *
 *   const pg = await startPostgres();       // beforeAll
 *   const url = await pg.createDatabase();  // each test: postgres://meshgate@127.0.0.1:<port>/t_<n>
 *   await pg.stop();                        // afterAll: stops the server, deletes its folder
 *
 * How: `initdb` into a fresh temp folder (trust authentication, superuser `meshgate`, no
 * fsync), then `postgres` on an ephemeral port of 127.0.0.1 with its unix socket in that
 * folder, so nothing touches the machine's own clusters, /var/run/postgresql or port 5432.
 * PostgreSQL refuses to run as root: when the test runs as root (as in CI containers) the
 * server runs as the `postgres` user Debian's package creates (else `nobody`), through
 * `setpriv` (which execs, so signals reach the server itself), and the folder is chowned to
 * that user. As any other user it runs as that user, no privileges needed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './net.mjs';

const PG_BIN = process.env['POSTGRES_BIN_DIR'] ?? '/usr/lib/postgresql/15/bin';
const SUPERUSER = 'meshgate';
const START_TIMEOUT_MS = 30_000;

/** Whether this machine can run the helper: the server binaries are installed. */
export function postgresAvailable() {
  return existsSync(join(PG_BIN, 'postgres')) && existsSync(join(PG_BIN, 'initdb'));
}

/** Who the server runs as: `[]` (this user) unless this is root, then setpriv to `postgres` (or `nobody`). */
function runAs() {
  if (process.getuid?.() !== 0) return { prefix: [] };
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      return { prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'], uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error('PostgreSQL refuses to run as root and neither a "postgres" nor a "nobody" user exists to run it as');
}

function command(prefix, binary, args) {
  const full = [...prefix, join(PG_BIN, binary), ...args];
  return [full[0], full.slice(1)];
}

/** Starts a fresh server; call `stop()` in afterAll. */
export async function startPostgres() {
  if (!postgresAvailable()) throw new Error(`PostgreSQL 15 server binaries not found in ${PG_BIN}: apt-get install postgresql-15 (or set POSTGRES_BIN_DIR)`);
  const folder = mkdtempSync(join(tmpdir(), 'meshgate-pg-'));
  const data = join(folder, 'data');
  const user = runAs();
  if (user.uid !== undefined && user.gid !== undefined) chownSync(folder, user.uid, user.gid);
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC' };
  const [initdb, initArgs] = command(user.prefix, 'initdb', ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  try {
    execFileSync(initdb, initArgs, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: folder });
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    const stderr = error.stderr?.toString() ?? '';
    throw new Error(`initdb failed: ${stderr || error.message}`);
  }
  const port = await freePort();
  let log = '';
  let child;
  let exited = Promise.resolve();
  let removed = false;

  const url = (database = 'postgres') => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;

  async function launch() {
    const [postgres, args] = command(user.prefix, 'postgres', [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      folder,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ]);
    const started = spawn(postgres, args, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: folder });
    child = started;
    started.stdout?.on('data', (chunk) => {
      log += chunk.toString();
    });
    started.stderr?.on('data', (chunk) => {
      log += chunk.toString();
    });
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`postgres exited at start (code ${started.exitCode}):\n${log}`);
      const client = new pg.Client({ connectionString: url() });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${START_TIMEOUT_MS} ms (${error.message}):\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  async function halt() {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    running.kill('SIGINT'); // fast shutdown: cuts open connections, writes a clean checkpoint
    await exited;
  }

  try {
    await launch();
  } catch (error) {
    await halt();
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }

  let databases = 0;
  const server = {
    port,
    url,
    async query(sql, params, database) {
      const client = new pg.Client({ connectionString: url(database) });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async createDatabase() {
      databases += 1;
      const name = `t_${process.pid}_${databases}`;
      await server.query(`CREATE DATABASE ${name}`);
      return url(name);
    },
    async stop() {
      await halt();
      if (!removed) rmSync(folder, { recursive: true, force: true });
      removed = true;
    },
    pause: halt,
    restart: launch,
    output: () => log,
  };
  return server;
}
