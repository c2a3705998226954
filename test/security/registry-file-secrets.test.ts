/**
 * docs/security.md, finding 10: the registry database, its folder, and its -wal and -shm
 * files are the gateway user's alone (0600, folder 0700), and a literal secret of a
 * registration never reaches them in plain text: it is sealed with MESHGATE_SECRET_KEY
 * (AES-256-GCM) and opened again after a restart; without the key such a registration is
 * refused, and a sealed secret without its key is reported, not guessed.
 */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningService } from '@meshgate/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, rpc, startFixtureService, startGateway } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

const SECRET = 'literal-secret-4f1d9c';
const absent = 'http://127.0.0.1:9/mcp';
const seedless = { SHOPPING_SERVICE_URL: absent, USER_SERVICE_URL: absent };
let fixture: RunningService;
let folder: string;
let dbPath: string;
let gateway: StartedProcess;

const mode = (path: string) => statSync(path).mode & 0o777;
const fileBytes = () =>
  ['', '-wal', '-shm']
    .map((suffix) => `${dbPath}${suffix}`)
    .filter(existsSync)
    .map((path) => readFileSync(path).toString('latin1'))
    .join('');

beforeAll(async () => {
  fixture = await startFixtureService('vault', ['unlock'], SECRET);
  folder = join(mkdtempSync(join(tmpdir(), 'meshgate-perm-')), 'created', 'by-gateway');
  dbPath = join(folder, 'registry.db');
  gateway = await startGateway({ ...seedless, MESHGATE_DB_PATH: dbPath });
});
afterAll(async () => {
  await stopAll();
  await fixture?.close();
});

describe('finding 10: the registry file and the secrets in it', () => {
  it('creates the folder 0700 and the database, -wal and -shm 0600', async () => {
    const registered = await api(gateway.url, 'POST', '/register', { name: 'vault', url: fixture.url, credential: { bearer: SECRET } });
    expect(registered.status).toBe(201);
    expect(mode(folder)).toBe(0o700);
    for (const suffix of ['', '-wal', '-shm']) {
      expect(existsSync(`${dbPath}${suffix}`), suffix).toBe(true);
      expect(mode(`${dbPath}${suffix}`).toString(8), suffix).toBe('600');
    }
  });

  it('keeps the literal secret out of the files, and opens it again after a restart', async () => {
    expect(fileBytes()).not.toContain(SECRET);
    await gateway.stop();
    expect(fileBytes()).not.toContain(SECRET); // checkpointed into the main file at close
    gateway = await startGateway({ ...seedless, MESHGATE_DB_PATH: dbPath });
    await eventually('vault up after restart', async () => (await api(gateway.url, 'GET', '/services/vault')).body?.status === 'up');
    const call = await rpc(gateway.url, 'tools/call', { name: 'unlock', arguments: { id: '1' } });
    expect(call.body.result.structuredContent).toMatchObject({ from: 'vault' });
  });

  it('without the key, the sealed secret is reported and not sent; a new literal secret is refused', async () => {
    await gateway.stop();
    gateway = await startGateway({ ...seedless, MESHGATE_DB_PATH: dbPath, MESHGATE_SECRET_KEY: '' });
    const view = await eventually('vault down', async () => {
      const { body } = await api(gateway.url, 'GET', '/services/vault');
      return body?.status === 'down' ? body : undefined;
    });
    expect(view.lastError).toMatch(/bearer credential is empty/);
    expect(gateway.output()).toMatch(/the stored secret of service \\"vault\\" cannot be opened: MESHGATE_SECRET_KEY is not set/);
    const refused = await api(gateway.url, 'POST', '/register', { name: 'vault-two', url: fixture.url, credential: { bearer: SECRET } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_credential');
    expect(refused.body.message).toMatch(/MESHGATE_SECRET_KEY is not set/);
    expect(fileBytes()).not.toContain(SECRET);
  });
});
