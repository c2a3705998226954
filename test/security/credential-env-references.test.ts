/**
 * docs/security.md, finding 2: a registration may read only the environment variables the
 * operator lent to registrations (MESHGATE_CREDENTIAL_ENV), never the gateway's own
 * settings nor anything else of its environment; a refused reference is 400 before the
 * gateway connects anywhere, so the value never leaves the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { expectAlive, type RecordingBackend, startGatewayFor, startRecordingBackend } from './harness.js';

const CLOUD_SECRET = 'cloud-secret-never-leaves';
let backend: RecordingBackend;
let target: RecordingBackend;
let gateway: StartedProcess;

beforeAll(async () => {
  [backend, target] = await Promise.all([startRecordingBackend(), startRecordingBackend('target')]);
  gateway = await startGatewayFor(backend, {
    CLOUD_ACCESS_KEY: CLOUD_SECRET,
    UPSTREAM_TARGET_TOKEN: 'mcp-token-123',
    MESHGATE_CREDENTIAL_ENV: 'UPSTREAM_*, MESHGATE_*',
  });
});
afterAll(async () => {
  await stopAll();
  await Promise.all([backend?.close(), target?.close()]);
});

const heardFromGateway = () => target.seen.filter((entry) => entry.path.startsWith('/mcp')).length;

describe('finding 2: environment references in registrations', () => {
  it.each([
    ['a variable not lent to registrations', { bearerEnv: 'CLOUD_ACCESS_KEY' }, /CLOUD_ACCESS_KEY is not one registrations may reference/],
    ["the gateway's own token", { bearerEnv: 'MCP_BEARER_TOKEN' }, /MCP_BEARER_TOKEN is one of the gateway's own settings/],
    [
      'a MESHGATE_ setting, even when a wildcard seems to lend it',
      { header: 'X-Key', valueEnv: 'MESHGATE_SECRET_KEY' },
      /MESHGATE_SECRET_KEY is one of the gateway's own settings/,
    ],
    ['PATH', { bearerEnv: 'PATH' }, /PATH is not one registrations may reference/],
  ])('POST /register with %s is 400 invalid_credential and connects nowhere', async (_case, credential, reason) => {
    const before = heardFromGateway();
    const { status, body } = await api(gateway.url, 'POST', '/register', { name: 'thief', url: target.url, credential });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_credential');
    expect(body.message).toMatch(reason);
    expect(JSON.stringify(body)).not.toContain(CLOUD_SECRET);
    expect(heardFromGateway()).toBe(before);
    expect((await api(gateway.url, 'GET', '/services/thief')).status).toBe(404);
  });

  it('PUT /services/{name} is held to the same rule', async () => {
    const registered = await api(gateway.url, 'POST', '/register', { name: 'lent', url: target.url, credential: { bearerEnv: 'UPSTREAM_TARGET_TOKEN' } });
    expect(registered.status).toBe(201);
    expect(registered.body.credential).toEqual({ type: 'bearer', tokenEnv: 'UPSTREAM_TARGET_TOKEN' });
    const before = target.seen.length;
    const { status, body } = await api(gateway.url, 'PUT', '/services/lent', { credential: { bearerEnv: 'CLOUD_ACCESS_KEY' } });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_credential');
    expect(target.seen.slice(before).some((entry) => JSON.stringify(entry.headers).includes(CLOUD_SECRET))).toBe(false);
    expect((await api(gateway.url, 'GET', '/services/lent')).body.credential).toEqual({ type: 'bearer', tokenEnv: 'UPSTREAM_TARGET_TOKEN' });
  });

  it('a lent variable works and is what the service receives', async () => {
    const headers = target.seen.filter((entry) => entry.method === 'POST').map((entry) => entry.headers.authorization);
    expect(headers.length).toBeGreaterThan(0);
    expect(new Set(headers)).toEqual(new Set(['Bearer mcp-token-123']));
    expect(target.seen.some((entry) => JSON.stringify(entry.headers).includes(CLOUD_SECRET))).toBe(false);
    await expectAlive(gateway);
  });
});
