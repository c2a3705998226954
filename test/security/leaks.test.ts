/**
 * docs/security.md cases 14 and 28: `__proto__` and `constructor` keys change no
 * prototype anywhere (checked inside a gateway running in this process), and error
 * bodies and logs never carry stack traces, tokens or credentials.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Gateway, loadConfig, MemoryStore, startGateway } from '@meshgate/gateway';
import { createLogger } from '@meshgate/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, TOKEN } from '../helpers/mesh.js';
import { freePort, type StartedProcess, stopAll } from '../helpers/process.js';
import { callBody, expectAlive, type RecordingBackend, startGatewayFor, startRecordingBackend } from './harness.js';

let backend: RecordingBackend;
let gateway: StartedProcess;

beforeAll(async () => {
  backend = await startRecordingBackend();
  gateway = await startGatewayFor(backend, { LOG_LEVEL: 'debug' });
});
afterAll(async () => {
  await stopAll();
  await backend?.close();
});

const prototypeKeys = () => [Object.prototype, Function.prototype, Array.prototype].map((proto) => Object.getOwnPropertyNames(proto).sort().join(','));

describe('case 14: prototype keys are plain data', () => {
  let local: Gateway;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshgate-proto-'));
    const config = join(dir, 'meshgate.json');
    writeFileSync(config, JSON.stringify({ services: [{ name: 'recorder', url: `${backend.url}/mcp` }] }));
    local = await startGateway(
      loadConfig({ PORT: '0', HOST: '127.0.0.1', MESHGATE_CONFIG: config }),
      new MemoryStore(),
      createLogger({ name: 'proto', level: 'silent', format: 'json' }),
    );
  });
  afterAll(() => local?.close());

  async function upstreamUp(): Promise<void> {
    for (let tries = 0; tries < 100; tries += 1) {
      const health = (await (await fetch(`${local.server.url}/health`)).json()) as { services: Record<string, { status: string }> };
      if (health.services['recorder']?.status === 'up') return;
      await new Promise((wake) => setTimeout(wake, 100));
    }
  }

  it('case 14: __proto__ and constructor in params, arguments, ids and registrations change no prototype in the gateway or the backend', async () => {
    await upstreamUp();
    const before = prototypeKeys();
    const calls = backend.toolCalls();
    const url = `${local.server.url}/mcp`;
    const poison = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}';
    const bodies = [
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"lookup","arguments":{"id":"1","__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}},"__proto__":{"polluted":"yes"}}}`,
      `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":${poison},"__proto__":{"method":"tools/call"}}`,
      `{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":${poison},"clientInfo":{"name":"x","version":"1","__proto__":{"polluted":"yes"}}}}`,
      `{"__proto__":{"jsonrpc":"2.0","method":"tools/call","id":4}}`,
    ];
    const statuses = [];
    for (const body of bodies) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKEN}` },
        body,
      });
      statuses.push(response.status);
      await response.text();
    }
    expect(statuses).toEqual([200, 200, 200, 400]);
    const registration = await api(
      local.server.url,
      'POST',
      '/register',
      `{"name":"proto","url":"http://127.0.0.1:1","__proto__":{"polluted":"yes"},"credential":{"bearer":"x","__proto__":{"admin":true}}}`,
    );
    expect(registration.status).toBe(400);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(prototypeKeys()).toEqual(before);
    // The poisoned call itself went through as an ordinary call.
    expect(backend.toolCalls()).toBe(calls + 1);
  });
});

describe('case 28: no stack traces, tokens or credentials in error bodies or logs', () => {
  it('case 28: error answers of every kind are a code and a message, without secrets; the logs hold no secret either', async () => {
    const clientSecret = 'sk-live-client-secret-0001';
    const upstreamSecret = 'upstream-credential-secret-0002';
    const deadPort = await freePort();
    const bodies: string[] = [];
    const keep = async (response: Response) => {
      bodies.push(await response.text());
      return response.status;
    };
    const mcp = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${gateway.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers }, body });

    expect(await keep(await mcp(callBody('lookup'), { authorization: `Bearer ${clientSecret}` }))).toBe(401);
    expect(await keep(await mcp(callBody('lookup'), { authorization: `Basic ${Buffer.from(`u:${clientSecret}`).toString('base64')}` }))).toBe(401);
    expect(await keep(await mcp('{x'))).toBe(400);
    expect(await keep(await mcp(callBody('nope')))).toBe(200);
    expect(await keep(await mcp(callBody('lookup'), { 'mcp-session-id': 'f'.repeat(36) }))).toBe(404);
    expect(await keep(await fetch(`${gateway.url}/nowhere`, { headers: { authorization: `Bearer ${TOKEN}` } }))).toBe(404);
    const register = (body: unknown) =>
      fetch(`${gateway.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(body),
      });
    expect(await keep(await register({ name: 'dead', url: `http://127.0.0.1:${deadPort}`, credential: { bearer: upstreamSecret } }))).toBe(502);
    expect(await keep(await register({ name: 'dead', url: `http://127.0.0.1:${deadPort}`, credential: { header: 'X-Api-Key', value: upstreamSecret } }))).toBe(
      502,
    );
    expect(await keep(await register({ name: 'dead', url: `http://user:${upstreamSecret}@127.0.0.1:${deadPort}` }))).toBe(400);
    expect(await keep(await register({ name: 'Bad Name', url: 'http://x', credential: { bearer: upstreamSecret } }))).toBe(400);
    expect(await keep(await register({ name: 'x', url: 'http://x', credential: { bearer: upstreamSecret, extra: upstreamSecret } }))).toBe(400);

    for (const body of bodies) {
      expect(body).not.toMatch(/\bat .+:\d+:\d+|node:internal|\/work\/|\.ts:\d+/); // no stack frames or paths
      expect(body).not.toContain(clientSecret);
      expect(body).not.toContain(upstreamSecret);
      expect(body).not.toContain(TOKEN);
      expect(() => JSON.parse(body)).not.toThrow();
    }
    await expectAlive(gateway);
    const logs = gateway.output();
    expect(logs).not.toContain(clientSecret);
    expect(logs).not.toContain(upstreamSecret);
    expect(logs).not.toContain(TOKEN);
  });
});
