/**
 * docs/security.md, finding 9 and the header low: a credential value that cannot be sent
 * in a header (a multi-line PEM) is refused when it is given, naming the credential and
 * never quoting its value, in the answer and in the log; and a header credential may not
 * name a framing, routing, hop-by-hop or MCP protocol header.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startGateway } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { expectAlive, type RecordingBackend, startGatewayFor, startRecordingBackend } from './harness.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
let backend: RecordingBackend;
let gateway: StartedProcess;

beforeAll(async () => {
  backend = await startRecordingBackend();
  gateway = await startGatewayFor(backend, { PEM_IN_ENV: PEM, MESHGATE_CREDENTIAL_ENV: 'PEM_IN_ENV' });
});
afterAll(async () => {
  await stopAll();
  await backend?.close();
});

const expectNoPem = (text: string) => {
  expect(text).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
  expect(text).not.toContain('BEGIN PRIVATE KEY');
};

describe('finding 9: credential values that are not valid header values', () => {
  it.each([
    ['a literal multi-line header value', { header: 'X-Api-Key', value: PEM }, /value of header X-Api-Key holds a line break/],
    ['a literal bearer token with a line break', { bearer: 'abc\r\nX-Injected: 1' }, /bearer token holds a line break/],
    ['a referenced variable holding a PEM', { header: 'X-Api-Key', valueEnv: 'PEM_IN_ENV' }, /environment variable PEM_IN_ENV holds a line break/],
  ])('%s is 400 invalid_credential naming it, never echoing it', async (_case, credential, reason) => {
    const before = backend.caused().length;
    const { status, body } = await api(gateway.url, 'POST', '/register', { name: 'pem', url: backend.url, credential });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_credential');
    expect(body.message).toMatch(reason);
    expectNoPem(JSON.stringify(body));
    expect(body.message).not.toContain('X-Injected');
    expect(backend.caused().length).toBe(before);
    expectNoPem(gateway.output());
  });

  it('a config file with such a value stops start-up with a message that names the service, not the value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshgate-pem-'));
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({ services: [{ name: 'pem', url: `${backend.url}/mcp`, credential: { header: 'X-Api-Key', value: PEM } }] }),
    );
    const failure = await startGateway({ MESHGATE_CONFIG: join(dir, 'c.json') }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/service \\?"pem\\?": the value of header X-Api-Key holds a line break/);
    expectNoPem(failure ?? '');
  });
});

describe('header credentials may not set framing, routing or protocol headers', () => {
  it.each([
    'Host',
    'Content-Length',
    'Transfer-Encoding',
    'Connection',
    'Keep-Alive',
    'Upgrade',
    'TE',
    'Mcp-Session-Id',
    'MCP-Protocol-Version',
    'Proxy-Authorization',
    'X-Forwarded-For',
  ])('%s is refused with 400 and never sent', async (header) => {
    const before = backend.caused().length;
    const { status, body } = await api(gateway.url, 'POST', '/register', { name: 'smuggle', url: backend.url, credential: { header, value: 'evil.example' } });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_credential');
    expect(body.message).toContain(`header ${header} cannot carry a credential`);
    expect(backend.caused().length).toBe(before);
  });

  it('an ordinary header credential still works', async () => {
    const { status } = await api(gateway.url, 'POST', '/register', {
      name: 'keyed',
      url: backend.url,
      credential: { header: 'X-Api-Key', value: 'plain-key' },
    });
    // The recorder's fixture checks Bearer tokens, so it refuses this one: what matters is that it was sent.
    expect([201, 502]).toContain(status);
    expect(backend.seen.some((entry) => entry.headers['x-api-key'] === 'plain-key')).toBe(true);
    await expectAlive(gateway);
  });
});
