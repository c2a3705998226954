/**
 * The legacy HTTP+SSE door (`GET /sse`, `POST /messages`) against the hostile inputs of
 * `/mcp`: a token without the client role, a Host of a rebinding page, a body over the
 * limit, a token over its rate budget, and more streams left waiting for `initialize`
 * than one identity may hold. Each gets the refusal `/mcp` gives, and the gateway keeps
 * answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

const CLIENT = 'carol-token';
const LIMITED = 'erin-token';
const ADMIN_ONLY = 'dave-token';
const TOKENS = [
  { name: 'carol', token: CLIENT, roles: ['client'] },
  { name: 'erin', token: LIMITED, roles: ['client'] },
  { name: 'dave', token: ADMIN_ONLY, roles: ['admin'] },
];
const RATE = 40;
const MAX_BODY = 64 * 1024;

let gateway: StartedProcess;

beforeAll(async () => {
  gateway = await startGateway({
    USER_SERVICE_URL: 'http://127.0.0.1:9/mcp',
    SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp',
    MESHGATE_TOKENS: JSON.stringify(TOKENS),
    MESHGATE_RATE_LIMIT_PER_MINUTE: String(RATE),
    MESHGATE_MAX_BODY_BYTES: String(MAX_BODY),
  });
});
afterAll(stopAll);

/** Opens `GET /sse` and returns the message endpoint its first event names. */
async function open(token: string, streams: AbortController[]): Promise<string> {
  const controller = new AbortController();
  streams.push(controller);
  const response = await fetch(`${gateway.url}/sse`, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' }, signal: controller.signal });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
  return /data: (.*)\n/.exec(text)?.[1] as string;
}

const post = (path: string, token: string, body: string) =>
  fetch(`${gateway.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body });

describe('GET /sse and POST /messages refuse what /mcp refuses', () => {
  it('a token without the client role: 403 insufficient_scope', async () => {
    const response = await fetch(`${gateway.url}/sse`, { headers: { Authorization: `Bearer ${ADMIN_ONLY}`, Accept: 'text/event-stream' } });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
  });

  it('a Host that is not the gateway’s (DNS rebinding): 403', async () => {
    // fetch will not send another Host; node:http will.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      request(
        {
          host: '127.0.0.1',
          port: gateway.port,
          path: '/sse',
          headers: { host: 'evil.example', authorization: `Bearer ${CLIENT}`, accept: 'text/event-stream' },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    expect(status).toBe(403);
  });

  it('a GET without Accept: text/event-stream: 406; a POST to /sse: 405', async () => {
    expect((await fetch(`${gateway.url}/sse`, { headers: { Authorization: `Bearer ${CLIENT}`, Accept: 'application/json' } })).status).toBe(406);
    const wrong = await post('/sse', CLIENT, '{}');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
  });

  it('a body over the limit: 413; a body that is not JSON: 400 -32700', async () => {
    const streams: AbortController[] = [];
    try {
      const endpoint = await open(CLIENT, streams);
      const big = await post(endpoint, CLIENT, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(MAX_BODY) } }));
      expect(big.status).toBe(413);
      const garbage = await post(endpoint, CLIENT, '{x');
      expect(garbage.status).toBe(400);
      expect((await garbage.json()).error.code).toBe(-32700);
    } finally {
      for (const stream of streams) stream.abort();
    }
  });

  it('one identity may leave only so many streams waiting for initialize: 503 with Retry-After', async () => {
    const streams: AbortController[] = [];
    try {
      for (let i = 0; i < 16; i += 1) await open(CLIENT, streams);
      const more = await fetch(`${gateway.url}/sse`, { headers: { Authorization: `Bearer ${CLIENT}`, Accept: 'text/event-stream' } });
      expect(more.status).toBe(503);
      expect(more.headers.get('retry-after')).toBe('5');
    } finally {
      for (const stream of streams) stream.abort();
    }
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });

  it('a token over its per-minute budget: 429 with Retry-After', async () => {
    const streams: AbortController[] = [];
    try {
      const endpoint = await open(LIMITED, streams);
      const statuses: number[] = [];
      for (let i = 0; i < RATE + 5; i += 1)
        statuses.push((await post(endpoint, LIMITED, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }))).status);
      expect(statuses).toContain(429);
      // The budget counts the GET too: everything before it was allowed.
      expect(statuses.indexOf(429)).toBe(RATE - 1);
    } finally {
      for (const stream of streams) stream.abort();
    }
  });
});
