/**
 * Several gateway processes on one PostgreSQL registry (MESHGATE_DATABASE_URL): a
 * registration, update or deregistration through one is live on the other within a
 * second (LISTEN/NOTIFY), a replica whose listening connection was cut reconciles from the
 * table, a rate limit is one budget across them, and a database that is down stops
 * start-up with a clear error that names the setting and never the password.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, FIXTURE_CREDENTIAL, freePort, GATEWAY_ENTRY, rpc, SHOPPING_ENTRY, startGateway, waitUntilUp } from '../helpers/mesh.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';
import { REPO_ROOT, type StartedProcess, startProcess, stopAll } from '../helpers/process.js';

let pg: PostgresServer;
let shopping: StartedProcess;
let first: StartedProcess;
let second: StartedProcess;
let third: StartedProcess;
let databaseUrl: string;

const toolNames = async (gateway: StartedProcess): Promise<string[]> =>
  (await rpc(gateway.url, 'tools/list')).body.result.tools.map((tool: { name: string }) => tool.name);

/** A replica: the seed's shopping service configured, user-service away, the shared database, no periodic reconcile (so only the feed or a reconnect can bring changes). */
const replica = (env: Record<string, string> = {}) =>
  startGateway({
    SHOPPING_SERVICE_URL: `${shopping.url}/mcp`,
    USER_SERVICE_URL: 'http://127.0.0.1:9/mcp',
    MESHGATE_DATABASE_URL: databaseUrl,
    MESHGATE_REGISTRY_RECONCILE_MS: '0',
    ...env,
  });

/**
 * Waits (polling every 10 ms, 5 s at most) until `check` holds, and returns how long it took
 * from `since`: the latency is printed, not asserted (speed is the bench's business).
 */
async function liveAfter(what: string, since: number, check: () => Promise<boolean>): Promise<number> {
  const deadline = since + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 10));
  }
  return Date.now() - since;
}

beforeAll(async () => {
  pg = await startPostgres();
  databaseUrl = await pg.createDatabase();
  const [shop, extra, other] = await Promise.all([
    startProcess({ entry: SHOPPING_ENTRY, name: 'shopping-service' }),
    startProcess({ entry: SHOPPING_ENTRY, name: 'extra-shop' }),
    startProcess({ entry: SHOPPING_ENTRY, name: 'moved-shop' }),
  ]);
  shopping = shop;
  third = other;
  [first, second] = await Promise.all([replica(), replica()]);
  await Promise.all([waitUntilUp(first.url, ['shopping-service']), waitUntilUp(second.url, ['shopping-service'])]);
  extraUrl = extra.url;
});
afterAll(async () => {
  await stopAll();
  await pg?.stop();
});
let extraUrl: string;

describe('two gateways on one Postgres registry', () => {
  it('a registration through one is callable through the other within a second', async () => {
    const start = Date.now();
    expect((await api(first.url, 'POST', '/register', { name: 'extra-shop', url: extraUrl, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
    const registered = Date.now();
    const latency = await liveAfter('extra-shop on the second gateway', registered, async () =>
      (await toolNames(second)).includes('extra-shop__getProductById'),
    );
    console.log(`registration via one replica live on the other: ${latency} ms after the 201 (${registered - start} ms to register)`);
    const call = await rpc(second.url, 'tools/call', { name: 'extra-shop__getProductById', arguments: { id: '123' } });
    expect(call.body.result.structuredContent.id).toBe('123');
    // Both hold the same record, and the name is taken on both.
    const again = await api(second.url, 'POST', '/register', { name: 'extra-shop', url: extraUrl, credential: FIXTURE_CREDENTIAL });
    expect(again.status).toBe(409);
    // Without session keys, each says its sessions stay its own.
    for (const gateway of [first, second])
      expect(gateway.output()).toContain('MESHGATE_SESSION_KEYS is not set: a session is known only to the replica that opened it');
  });

  it('an update through the other is live on the first, and a deregistration too', async () => {
    const updated = await api(second.url, 'PUT', '/services/extra-shop', { url: third.url });
    expect(updated.status).toBe(200);
    const since = Date.now();
    const latency = await liveAfter('the new URL on the first gateway', since, async () => {
      const { body } = await api(first.url, 'GET', '/services/extra-shop');
      return body?.url === `${third.url}/mcp` && body?.status === 'up';
    });
    console.log(`update via one replica live on the other: ${latency} ms`);

    expect((await api(second.url, 'DELETE', '/services/extra-shop')).status).toBe(204);
    const gone = Date.now();
    const dropped = await liveAfter(
      'extra-shop gone from the first gateway',
      gone,
      async () => !(await toolNames(first)).includes('extra-shop__getProductById'),
    );
    console.log(`deregistration via one replica live on the other: ${dropped} ms`);
    expect((await api(first.url, 'GET', '/services/extra-shop')).status).toBe(404);
  });

  it('a virtual server made through one is served by the other, replaced and deleted there too', async () => {
    expect((await api(first.url, 'POST', '/virtual-servers', { name: 'shop-desk', tools: ['getProductById'] })).status).toBe(201);
    const made = Date.now();
    const latency = await liveAfter('shop-desk on the second gateway', made, async () => {
      const listed = await rpc(`${second.url}/servers/shop-desk`, 'tools/list', {});
      return JSON.stringify(listed.body?.result?.tools?.map((tool: { name: string }) => tool.name)) === '["getProductById"]';
    });
    console.log(`virtual server via one replica live on the other: ${latency} ms`);
    expect((await api(second.url, 'PUT', '/virtual-servers/shop-desk', { tools: [] })).status).toBe(200);
    await liveAfter('the replaced definition on the first gateway', Date.now(), async () => {
      const { body } = await api(first.url, 'GET', '/virtual-servers/shop-desk');
      return body?.serves?.tools?.length === 0;
    });
    expect((await api(second.url, 'DELETE', '/virtual-servers/shop-desk')).status).toBe(204);
    await liveAfter(
      'shop-desk gone from the first gateway',
      Date.now(),
      async () => (await api(first.url, 'GET', '/virtual-servers/shop-desk')).status === 404,
    );
  });

  it('a gateway whose listening connection was cut reconciles from the table when it reconnects', async () => {
    expect((await api(first.url, 'POST', '/register', { name: 'extra-shop', url: third.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
    await liveAfter('extra-shop on the second gateway', Date.now(), async () => (await toolNames(second)).includes('extra-shop__getProductById'));
    const database = new URL(databaseUrl).pathname.slice(1);
    const feed = `meshgate-feed:${second.child.pid}`;
    // Cut the second gateway's LISTEN connection and, before it can be back (its first retry
    // waits 100 ms), delete the row by hand: the notification goes to nobody listening there.
    const [cut] = await pg.query<{ cut: boolean; at: number }>(
      `SELECT bool_or(pg_terminate_backend(pid)) AS cut FROM pg_stat_activity WHERE application_name = $1 AND datname = $2`,
      [feed, database],
      database,
    );
    expect(cut?.cut).toBe(true);
    await pg.query('DELETE FROM services WHERE name = $1', ['extra-shop'], database);
    const deletedAt = Date.now();
    await eventually('the second gateway to drop extra-shop', async () => !(await toolNames(second)).includes('extra-shop__getProductById'), 10_000);
    const lines = second
      .output()
      .split('\n')
      .filter((line) => line.includes('change feed'));
    const back = lines.map((line) => JSON.parse(line) as { msg: string; time: number }).find((line) => line.msg.includes('listening again'));
    expect(lines.some((line) => line.includes('lost its connection'))).toBe(true);
    // The feed was back only after the delete: what it missed came from reconciling.
    expect(back?.time).toBeGreaterThanOrEqual(deletedAt - 5);
    const [listener] = await pg.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [feed], database);
    expect(Number(listener?.n)).toBe(1);
  });

  it('a token budget is one budget across gateways on the same database', async () => {
    const limitedUrl = await pg.createDatabase();
    const [a, b] = await Promise.all([
      replica({ MESHGATE_DATABASE_URL: limitedUrl, MESHGATE_RATE_LIMIT_PER_MINUTE: '4' }),
      replica({ MESHGATE_DATABASE_URL: limitedUrl, MESHGATE_RATE_LIMIT_PER_MINUTE: '4' }),
    ]);
    const statuses: number[] = [];
    for (const gateway of [a, b, a, b, a, b]) statuses.push((await rpc(gateway.url, 'ping')).status);
    // Four in all pass, whichever gateway took them; each alone would have let four through.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    await Promise.all([a.stop(), b.stop()]);
  });
});

describe('start-up with the database down', () => {
  it('exits 1 with an error naming MESHGATE_DATABASE_URL, and the password in no line', async () => {
    const password = 'hunter2-do-not-log';
    const port = await freePort(); // nothing listens there
    const result = spawnSync(process.execPath, [GATEWAY_ENTRY], {
      cwd: REPO_ROOT,
      env: { ...process.env, MESHGATE_DATABASE_URL: `postgres://meshgate:${password}@127.0.0.1:${port}/registry`, PORT: '0', LOG_FORMAT: 'json' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toMatch(/cannot open the registry database postgres:\/\/meshgate:\[redacted\]@127\.0\.0\.1:\d+\/registry/);
    expect(output).toMatch(/check MESHGATE_DATABASE_URL and that the database server is up/);
    expect(output).not.toContain(password);
  });

  it('refuses a URL that is not postgres:// without echoing it', () => {
    const result = spawnSync(process.execPath, [GATEWAY_ENTRY], {
      cwd: REPO_ROOT,
      env: { ...process.env, MESHGATE_DATABASE_URL: 'mysql://root:s3cret-value@db/x', PORT: '0', LOG_FORMAT: 'json' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/MESHGATE_DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(`${result.stdout}${result.stderr}`).not.toContain('s3cret-value');
  });
});

describe('the database going away while the gateways run', () => {
  it('keeps answering (rate limits counted in memory meanwhile), refuses registrations clearly, and follows the feed again once it is back', async () => {
    const gateway = await replica({ MESHGATE_RATE_LIMIT_PER_MINUTE: '100' });
    await waitUntilUp(gateway.url, ['shopping-service']);
    await pg.pause();
    expect((await rpc(gateway.url, 'ping')).status).toBe(200);
    const call = await rpc(gateway.url, 'tools/call', { name: 'getProductById', arguments: { id: '123' } });
    expect(call.body.result.structuredContent.id).toBe('123');
    const refused = await api(gateway.url, 'POST', '/register', { name: 'late-shop', url: third.url, credential: FIXTURE_CREDENTIAL });
    expect(refused.status).toBe(500);
    expect(refused.body).toMatchObject({ error: 'store_error' });
    expect(refused.body.message).toMatch(/Registry store failed: could not save service "late-shop"/);
    expect(JSON.stringify(refused.body)).not.toContain(databaseUrl);
    await pg.restart();
    await eventually('the feed to listen again', async () => gateway.output().includes('the registry change feed is listening again'), 15_000);
    // Back in step: a registration through another replica reaches it.
    expect((await api(first.url, 'POST', '/register', { name: 'late-shop', url: third.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
    await eventually('late-shop on the gateway', async () => (await toolNames(gateway)).includes('late-shop__getProductById'), 5_000);
    await gateway.stop();
  });
});
