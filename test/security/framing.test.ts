/**
 * docs/security.md, "HTTP and JSON-RPC framing", cases 6-13: each hostile request gets
 * its one correct status and JSON-RPC code, the backend sees nothing, /health still answers.
 */
import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, TOKEN } from '../helpers/mesh.js';
import type { StartedProcess } from '../helpers/process.js';
import { callBody, expectAlive, postMcp, type RecordingBackend, rawExchange, recordingGateway, statusOf } from './harness.js';

const context = recordingGateway();
let backend: RecordingBackend;
let gateway: StartedProcess;
beforeAll(() => ({ backend, gateway } = context));

/** Runs `attack` and checks that no tools/call reached the backend meanwhile. */
async function backendUntouched(attack: () => Promise<void>): Promise<void> {
  const before = backend.toolCalls();
  await attack();
  expect(backend.toolCalls()).toBe(before);
  await expectAlive(gateway);
}

/** A request with a Host header fetch would not let us set. */
function withHost(host: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${gateway.url}/mcp`,
      { method: 'POST', headers: { host, 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(callBody('lookup'));
  });
}

describe('HTTP and JSON-RPC framing', () => {
  it('case 6: a foreign Origin gets 403 on /mcp and the admin API; no Origin and a loopback page are allowed; a rebinding Host gets 403', async () => {
    await backendUntouched(async () => {
      const foreign = await postMcp(gateway, callBody('lookup'), { origin: 'http://evil.example' });
      expect(foreign.status).toBe(403);
      expect(foreign.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001 } });
      expect(foreign.body.error.message).toMatch(/Origin "http:\/\/evil\.example" is not allowed/);
      const admin = await fetch(`${gateway.url}/services`, { headers: { authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' } });
      expect(admin.status).toBe(403);
      expect(await admin.json()).toMatchObject({ error: 'forbidden' });
      // Checked before authentication: a rebinding page learns nothing about tokens.
      expect((await postMcp(gateway, callBody('lookup'), { origin: 'http://evil.example', authorization: 'Bearer wrong' })).status).toBe(403);
      const rebound = await withHost('evil.example:3001');
      expect(rebound.status).toBe(403);
      expect(rebound.body.error.message).toMatch(/Host "evil\.example:3001" is not allowed/);
    });
    const before = backend.toolCalls();
    expect((await postMcp(gateway, callBody('lookup'))).body.result.structuredContent).toMatchObject({ from: 'recorder' });
    expect((await postMcp(gateway, callBody('lookup'), { origin: 'http://localhost:5173' })).status).toBe(200);
    expect(backend.toolCalls()).toBe(before + 2);
  });

  it('case 7: a body that is not JSON gets 400, -32700, id null', async () => {
    await backendUntouched(async () => {
      const answer = await postMcp(gateway, '{x');
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    });
  });

  it.each([
    ['{}', null],
    ['"x"', null],
    ['{"jsonrpc":"1.0","id":1,"method":"tools/call"}', 1],
    ['{"jsonrpc":"2.0","id":1}', 1],
    ['{"jsonrpc":"2.0","id":{"a":1},"method":"tools/call"}', null],
  ])('case 8: %s gets 400 / -32600', async (body, id) => {
    await backendUntouched(async () => {
      const answer = await postMcp(gateway, body);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32600 } });
    });
  });

  it('case 9: a batch gets 400 / -32600 and none of its calls runs', async () => {
    await backendUntouched(async () => {
      const answer = await postMcp(gateway, `[${callBody('lookup')},${callBody('lookup', { id: '2' }, 2)}]`);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ id: null, error: { code: -32600 } });
    });
  });

  it('case 10: an unknown method gets -32601; tools/call with an unknown, missing or non-string name gets -32602', async () => {
    await backendUntouched(async () => {
      const unknown = await postMcp(gateway, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/explode' }));
      expect(unknown.body).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32601 } });
      for (const params of [{ name: 'noSuchTool', arguments: {} }, { arguments: {} }, { name: 42 }, { name: { toString: 'x' } }]) {
        const answer = await postMcp(gateway, JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/call', params }));
        expect(answer.body).toMatchObject({ jsonrpc: '2.0', id: 8, error: { code: -32602 } });
      }
    });
  });

  it('case 11: Content-Type text/plain gets 415; an Accept allowing neither JSON nor SSE gets 406', async () => {
    await backendUntouched(async () => {
      const plain = await postMcp(gateway, callBody('lookup'), { 'content-type': 'text/plain' });
      expect(plain.status).toBe(415);
      expect(plain.body).toMatchObject({ error: { code: -32600 } });
      const html = await postMcp(gateway, callBody('lookup'), { accept: 'text/html' });
      expect(html.status).toBe(406);
      expect(html.body).toMatchObject({ error: { code: -32600 } });
    });
  });

  it('case 12: a declared body over 4 MiB gets 413 before it is sent; a chunked one is cut off at the limit', async () => {
    await backendUntouched(async () => {
      const head = (extra: string) =>
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n${extra}\r\n`;
      // Only the headers are sent: the answer must come without the body.
      const declared = await rawExchange(gateway.port, [head('Content-Length: 10485760\r\n')], 5_000);
      expect(statusOf(declared.text)).toBe(413);
      expect(declared.text).toContain('-32600');

      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const chunks: Array<string | Buffer> = [head('Transfer-Encoding: chunked\r\n')];
      for (let i = 0; i < 24; i += 1) chunks.push(`${chunk.length.toString(16)}\r\n`, chunk, '\r\n'); // 6 MiB, never terminated
      const chunked = await rawExchange(gateway.port, chunks, 10_000);
      expect(statusOf(chunked.text)).toBe(413);
    });
  });

  it('case 13: a million levels of nesting is refused fast while other requests keep being served', async () => {
    const depth = 1_000_000;
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"lookup","arguments":{"id":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;
    expect(body.length).toBeLessThan(4 * 1024 * 1024);
    await backendUntouched(async () => {
      let deep: Awaited<ReturnType<typeof postMcp>> | undefined;
      const attack = postMcp(gateway, body).then((answer) => (deep = answer));
      // Meanwhile, other clients are answered promptly, again and again.
      const latencies: number[] = [];
      while (deep === undefined || latencies.length < 10) {
        const started = performance.now();
        await expectAlive(gateway);
        latencies.push(performance.now() - started);
      }
      await attack;
      expect(deep?.status).toBe(400);
      expect(deep?.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
      expect(deep?.body.error.message).toMatch(/deeper than 128 levels/);
      expect(Math.max(...latencies)).toBeLessThan(250);
      // Many in parallel do not stall the gateway either.
      const started = performance.now();
      const answers = await Promise.all(Array.from({ length: 8 }, () => postMcp(gateway, body)));
      expect(answers.every((answer) => answer.status === 400)).toBe(true);
      expect(performance.now() - started).toBeLessThan(5_000);
    });
  });
});

describe('admin API framing', () => {
  it('refuses a deeply nested registration body with 400', async () => {
    const { status, body } = await api(gateway.url, 'POST', '/register', `{"name":"x","url":${'['.repeat(100_000)}${']'.repeat(100_000)}}`.slice(0, 60_000));
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_body');
    await expectAlive(gateway);
  });
});
