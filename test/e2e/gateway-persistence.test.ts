/**
 * The registry survives the gateway: registrations and last-seen catalogs are back after a
 * graceful restart and after SIGKILL, and a restarted gateway lists the same tools as
 * before even while a backend is away. A bad database stops start-up loudly.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, FIXTURE_CREDENTIAL, GATEWAY_ENTRY, rpc, SHOPPING_ENTRY, startGateway, tempDbPath, waitUntilUp } from '../helpers/mesh.js';
import { REPO_ROOT, type StartedProcess, startProcess, stopAll } from '../helpers/process.js';

let shopping: StartedProcess;
let extra: StartedProcess;
const dbPath = tempDbPath();

const toolNames = async (gateway: StartedProcess) => (await rpc(gateway.url, 'tools/list')).body.result.tools.map((tool: { name: string }) => tool.name);

beforeAll(async () => {
  shopping = await startProcess({ entry: SHOPPING_ENTRY, name: 'shopping-service' });
  extra = await startProcess({ entry: SHOPPING_ENTRY, name: 'extra-shop' });
});
afterAll(stopAll);

function gatewayEnv(): Record<string, string> {
  return { SHOPPING_SERVICE_URL: `${shopping.url}/mcp`, USER_SERVICE_URL: 'http://127.0.0.1:9/mcp', MESHGATE_DB_PATH: dbPath };
}

describe('registrations and catalogs across gateway restarts', () => {
  let before: string[];

  it('a registration is stored', async () => {
    const gateway = await startGateway(gatewayEnv());
    await waitUntilUp(gateway.url, ['shopping-service']);
    expect((await api(gateway.url, 'POST', '/register', { name: 'extra-shop', url: extra.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
    before = await toolNames(gateway);
    expect(before).toEqual(['getProductById', 'getUserById', 'extra-shop__getProductById']);
    expect(await gateway.stop('SIGTERM')).toBe(0);
  });

  it('is back after a graceful restart, with the same tools', async () => {
    const gateway = await startGateway(gatewayEnv());
    await waitUntilUp(gateway.url, ['shopping-service', 'extra-shop']);
    const { body } = await api(gateway.url, 'GET', '/services/extra-shop');
    expect(body).toMatchObject({ source: 'registered', status: 'up', url: `${extra.url}/mcp` });
    expect(await toolNames(gateway)).toEqual(before);
    const call = await rpc(gateway.url, 'tools/call', { name: 'extra-shop__getProductById', arguments: { id: '123' } });
    expect(call.body.result.structuredContent.id).toBe('123');
    await gateway.kill(); // SIGKILL: no shutdown code runs
  });

  it('is back after SIGKILL, and lists the last catalog while the backend is away', async () => {
    await extra.kill();
    const gateway = await startGateway(gatewayEnv());
    await waitUntilUp(gateway.url, ['shopping-service']);
    expect(await toolNames(gateway)).toEqual(before);
    const { body } = await api(gateway.url, 'GET', '/services/extra-shop');
    expect(body).toMatchObject({ source: 'registered', status: 'down', toolsFrom: 'fallback' });
    const call = await rpc(gateway.url, 'tools/call', { name: 'extra-shop__getProductById', arguments: { id: '123' } });
    expect(call.body.error).toMatchObject({ code: -32010, data: { service: 'extra-shop' } });
    // The live definition was stored, not the seed's fallback: it carries the outputSchema.
    const listed = (await rpc(gateway.url, 'tools/list')).body.result.tools;
    expect(listed.find((tool: { name: string }) => tool.name === 'extra-shop__getProductById').outputSchema).toBeDefined();
    await gateway.stop();
  });

  it('a deregistration is stored too', async () => {
    const gateway = await startGateway(gatewayEnv());
    expect((await api(gateway.url, 'DELETE', '/services/extra-shop')).status).toBe(204);
    await gateway.stop();
    const again = await startGateway(gatewayEnv());
    expect((await api(again.url, 'GET', '/services/extra-shop')).status).toBe(404);
    await again.stop();
  });
});

describe('a database that cannot be used at start-up', () => {
  const run = (path: string) =>
    spawnSync(process.execPath, [GATEWAY_ENTRY], {
      cwd: REPO_ROOT,
      env: { ...process.env, MESHGATE_DB_PATH: path, PORT: '0', LOG_FORMAT: 'json' },
      encoding: 'utf8',
      timeout: 15_000,
    });

  it('a corrupt file: clear error naming the file, non-zero exit, no silent empty registry', () => {
    const path = tempDbPath();
    writeFileSync(path, randomBytes(8192));
    const result = run(path);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(path);
    expect(result.stdout).toMatch(/not a database or is corrupt/);
  });

  it('a path that cannot be created: clear error, non-zero exit', () => {
    const blocker = tempDbPath();
    writeFileSync(blocker, 'a file where a directory should be');
    const result = run(`${blocker}/sub/meshgate.db`);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/cannot open the registry database/);
  });

  it('a directory given as the database path: clear error, non-zero exit', () => {
    const dir = tempDbPath();
    mkdirSync(dir);
    expect(run(dir).status).toBe(1);
  });
});
