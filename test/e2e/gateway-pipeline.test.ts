/**
 * Sessionless POSTs through the one /mcp pipeline. How a body is framed on the wire
 * must not be told apart from outside: each request here is sent with a declared
 * Content-Length and again chunked, and the answers (refusals included) must match byte
 * for byte, with one rate budget per token whichever way requests arrive.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN } from '../helpers/mesh.js';
import type { StartedProcess } from '../helpers/process.js';
import { callBody, expectAlive, type RecordingBackend, rawExchange, recordingGateway, startGatewayFor } from '../security/harness.js';

const context = recordingGateway();
let backend: RecordingBackend;
let gateway: StartedProcess;
beforeAll(() => ({ backend, gateway } = context));

interface Answer {
  status: number;
  type: string | undefined;
  challenge: string | undefined;
  session: boolean;
  body: string;
}

/** POSTs `body` to /mcp, with a declared Content-Length or in two chunks without one. */
function post(port: number, body: string, headers: Record<string, string>, way: 'declared' | 'chunked'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/mcp',
        headers: way === 'declared' ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            type: response.headers['content-type'],
            challenge: response.headers['www-authenticate'],
            session: response.headers['mcp-session-id'] !== undefined,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    sent.on('error', reject);
    if (way === 'declared') return sent.end(body);
    const half = Math.floor(body.length / 2);
    sent.write(body.slice(0, half));
    sent.end(body.slice(half));
  });
}

const seed = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKEN}` };

/** Sends the request both ways and checks the answers are the same; returns the answer. */
async function bothWays(body: string, headers: Record<string, string> = seed): Promise<Answer> {
  const declared = await post(gateway.port, body, headers, 'declared');
  const chunked = await post(gateway.port, body, headers, 'chunked');
  expect(declared).toEqual(chunked);
  return declared;
}

const rpc = (method: string, params?: unknown) => JSON.stringify({ jsonrpc: '2.0', id: 7, method, ...(params === undefined ? {} : { params }) });

describe('a declared and a chunked body are answered alike', () => {
  it('a tool call reaches the backend once per request and comes back unchanged', async () => {
    const before = backend.toolCalls();
    const answer = await bothWays(callBody('lookup', { id: 'declared' }));
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('application/json');
    expect(JSON.parse(answer.body)).toMatchObject({ jsonrpc: '2.0', id: 1, result: { content: expect.any(Array) } });
    expect(backend.toolCalls()).toBe(before + 2);
  });

  it('lists, ping and JSON-RPC errors (unknown tool, unknown method) match', async () => {
    expect(JSON.parse((await bothWays(rpc('tools/list'))).body).result.tools.map((tool: { name: string }) => tool.name)).toEqual(['lookup']);
    expect(JSON.parse((await bothWays(rpc('ping'))).body)).toEqual({ jsonrpc: '2.0', id: 7, result: {} });
    expect(JSON.parse((await bothWays(callBody('nope'))).body).error.code).toBe(-32602);
    expect(JSON.parse((await bothWays(rpc('no/such/method'))).body).error.code).toBe(-32601);
  });

  it('refusals match: no token, a wrong token, a disallowed Origin, a bad Accept or Content-Type, an unknown version', async () => {
    const { authorization: _dropped, ...anonymous } = seed;
    const cases: Array<[Record<string, string>, number]> = [
      [anonymous, 401],
      [{ ...seed, authorization: 'Bearer wrong' }, 401],
      [{ ...seed, origin: 'http://evil.example' }, 403],
      [{ ...seed, accept: 'text/html' }, 406],
      [{ ...seed, 'content-type': 'text/plain' }, 415],
      [{ ...seed, 'mcp-protocol-version': '1999-01-01' }, 400],
    ];
    const before = backend.caused().length;
    for (const [headers, status] of cases) expect((await bothWays(callBody('lookup'), headers)).status).toBe(status);
    expect((await bothWays(callBody('lookup'), anonymous)).challenge).toMatch(/^Bearer /);
    expect(backend.caused().length).toBe(before);
  });

  it('bad JSON, a notification and initialize are answered alike', async () => {
    expect((await bothWays('{"jsonrpc":')).status).toBe(400);
    expect((await bothWays(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }))).status).toBe(202);
    const init = rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pipeline-test', version: '1' } });
    const declared = await post(gateway.port, init, seed, 'declared');
    expect(declared.status).toBe(200);
    expect(declared.session).toBe(true);
    expect(declared.body).toContain('"serverInfo"');
  });

  it('a client that hangs up before its body is complete causes no call, and the gateway carries on', async () => {
    const before = backend.caused().length;
    const body = callBody('lookup');
    await rawExchange(
      gateway.port,
      [
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 50}\r\n\r\n${body}`,
      ],
      300,
    );
    expect(backend.caused().length).toBe(before);
    await expectAlive(gateway);
  });
});

describe('one rate budget per token', () => {
  let limited: StartedProcess;
  beforeAll(async () => {
    limited = await startGatewayFor(backend, { MESHGATE_RATE_LIMIT_PER_MINUTE: '4' });
  });
  afterAll(() => limited.stop());

  it('four requests pass, declared and chunked; the fifth is 429 either way', async () => {
    const statuses: number[] = [];
    for (const way of ['declared', 'chunked', 'declared', 'chunked', 'declared', 'chunked'] as const)
      statuses.push((await post(limited.port, rpc('ping'), seed, way)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });
});
