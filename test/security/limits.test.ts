/**
 * docs/security.md, "HTTP and JSON-RPC framing", cases 15-19: header size and framing
 * conflicts, slow and idle connections, sessions, protocol versions, rate limits.
 */

import { connect, type Socket } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN } from '../helpers/mesh.js';
import type { StartedProcess } from '../helpers/process.js';
import { callBody, expectAlive, postMcp, type RecordingBackend, rawExchange, recordingGateway, startGatewayFor, statusOf } from './harness.js';

const context = recordingGateway();
let backend: RecordingBackend;
let gateway: StartedProcess;
beforeAll(() => ({ backend, gateway } = context));

const head = (extra: string) => `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n${extra}`;

describe('limits', () => {
  it('case 15: headers over 16 KiB get 431; conflicting Content-Length and Transfer-Encoding get 400', async () => {
    const before = backend.caused().length;
    const big = await rawExchange(gateway.port, [`${head(`X-Padding: ${'a'.repeat(17 * 1024)}\r\n`)}Content-Length: 2\r\n\r\n{}`]);
    expect(statusOf(big.text)).toBe(431);
    const body = callBody('lookup');
    const smuggled = await rawExchange(gateway.port, [`${head(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`)}\r\n${body}`]);
    expect(statusOf(smuggled.text)).toBe(400);
    expect(backend.caused().length).toBe(before);
    await expectAlive(gateway);
  });

  it('case 16: a client sending headers one byte at a time is cut off within 10 s', async () => {
    const request = `${head('Content-Length: 2\r\n')}\r\n{}`;
    let sent = 0;
    const started = Date.now();
    const cut = await new Promise<{ ms: number; text: string }>((resolve) => {
      const socket = connect(gateway.port, '127.0.0.1');
      let text = '';
      const drip = setInterval(() => {
        if (sent < request.length && !socket.destroyed) socket.write(request[sent++] ?? '');
      }, 100); // 10 bytes a second: the full header block would take ~15 s
      socket.on('data', (data: Buffer) => (text += data.toString('latin1')));
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ ms: Date.now() - started, text });
      });
      socket.on('error', () => undefined);
    });
    expect(cut.ms).toBeLessThanOrEqual(10_000);
    expect(sent).toBeLessThan(request.length);
    expect(statusOf(cut.text)).toBe(408);
    await expectAlive(gateway);
  }, 20_000);

  it('case 16: thousands of idle connections are capped, cut by the headers deadline, and /health answers again', async () => {
    const CAP = 500;
    const TOTAL = 2_000;
    const DEADLINE_MS = 3_000;
    const capped = await startGatewayFor(backend, { MESHGATE_MAX_CONNECTIONS: String(CAP), MESHGATE_HEADERS_TIMEOUT_MS: String(DEADLINE_MS) });
    // What each client saw. The gateway ends an idle connection in one of two ways, and
    // which one wins is a race on its timers: it closes it silently, or node's own headers
    // deadline answers `408 Request Timeout` first and then closes it. So every socket
    // reads what arrives: an unread 408 would stay in the socket's buffer, its stream would
    // never end, and the client would never see a connection the gateway did close.
    const seen: Array<{ socket: Socket; connectedAt?: number; closedAt?: number; bytes: string }> = [];
    // In batches: 2,000 SYNs at once overflow the kernel's accept queue (511). A connection
    // the kernel then holds back reaches the gateway only when the kernel retries it, seconds
    // later, which would say nothing about the gateway.
    for (let batch = 0; batch < TOTAL / 200; batch += 1) {
      await Promise.all(
        Array.from(
          { length: 200 },
          () =>
            new Promise<void>((resolve) => {
              const entry: (typeof seen)[number] = { socket: connect(capped.port, '127.0.0.1'), bytes: '' };
              entry.socket.on('connect', () => {
                entry.connectedAt = performance.now();
                resolve();
              });
              entry.socket.on('data', (data: Buffer) => (entry.bytes += data.toString('latin1')));
              entry.socket.on('error', () => resolve());
              entry.socket.on('close', () => (entry.closedAt = performance.now()));
              seen.push(entry);
            }),
        ),
      );
    }
    const closed = () => seen.filter((entry) => entry.closedAt !== undefined).length;
    // Once the held connections are cut, a new client gets an answer again.
    const started = Date.now();
    for (;;) {
      const ok = await fetch(`${capped.url}/health`, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      expect(Date.now() - started).toBeLessThan(DEADLINE_MS + 5_000);
      await new Promise((wake) => setTimeout(wake, 100));
    }
    // Every connection ends: those beyond the cap at once, the held ones at the headers
    // deadline. The wait is generous: on a loaded 2-core machine node accepts a burst slowly.
    const cutBy = Date.now() + 10_000;
    while (closed() < TOTAL && Date.now() < cutBy) await new Promise((wake) => setTimeout(wake, 100));
    expect(closed()).toBe(TOTAL);
    // Nothing but the deadline's 408 ever reached a client that sent no request.
    expect(seen.filter((entry) => entry.bytes !== '' && statusOf(entry.bytes) !== 408).map((entry) => entry.bytes)).toEqual([]);
    // The gateway accepts a connection only after the client sees it connected, so one that
    // closed sooner than the headers deadline after that was refused at accept, not cut
    // (however late this process noticed the close). The gateway holds at most CAP at once,
    // so every connection beyond the cap was refused: at least TOTAL - CAP (one more if the
    // keep-alive connection of the start-up health check still held a place).
    const refused = seen.filter((entry) => entry.connectedAt !== undefined && entry.closedAt! - entry.connectedAt < DEADLINE_MS);
    expect(refused.length).toBeGreaterThanOrEqual(TOTAL - CAP);
    // Only a held connection can be answered by the deadline's 408, and at most CAP (one more:
    // the start-up health check's) are held: no connection refused at accept got one. Counted,
    // not told by timestamps, which a busy test process reads late.
    expect(seen.filter((entry) => statusOf(entry.bytes) === 408).length).toBeLessThanOrEqual(CAP + 1);
    for (const entry of seen) entry.socket.destroy();
    await expectAlive(capped);
    await capped.stop();
  }, 40_000);

  it('case 17: GET or DELETE without Mcp-Session-Id gets 400; a random or deleted session id gets 404', async () => {
    const before = backend.toolCalls();
    const base = { authorization: `Bearer ${TOKEN}`, accept: 'application/json, text/event-stream' };
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(`${gateway.url}/mcp`, { method, headers: base });
      expect(response.status, method).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: -32600 } });
    }
    const random = await postMcp(gateway, callBody('lookup'), { 'mcp-session-id': crypto.randomUUID() });
    expect(random.status).toBe(404);

    const init = await postMcp(
      gateway,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } },
      }),
      { accept: 'application/json, text/event-stream' },
    );
    const session = init.headers.get('mcp-session-id');
    expect(session).toBeTruthy();
    const deleted = await fetch(`${gateway.url}/mcp`, { method: 'DELETE', headers: { ...base, 'mcp-session-id': session! } });
    expect(deleted.status).toBe(200);
    const reused = await postMcp(gateway, callBody('lookup'), { 'mcp-session-id': session! });
    expect(reused.status).toBe(404);
    expect(reused.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
    expect(backend.toolCalls()).toBe(before);
    await expectAlive(gateway);
  });

  it('case 18: MCP-Protocol-Version 1999-01-01 gets 400', async () => {
    const before = backend.toolCalls();
    const answer = await postMcp(gateway, callBody('lookup'), { 'mcp-protocol-version': '1999-01-01' });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
    expect(answer.body.error.message).toMatch(/1999-01-01/);
    expect(backend.toolCalls()).toBe(before);
    await expectAlive(gateway);
  });

  it('case 19: a token over its per-minute budget gets 429 with Retry-After; the backend sees only the allowed calls', async () => {
    const limited = await startGatewayFor(backend, { MESHGATE_RATE_LIMIT_PER_MINUTE: '5' });
    const before = backend.toolCalls();
    const answers = [];
    for (let i = 0; i < 8; i += 1) answers.push(await postMcp(limited, callBody('lookup', { id: String(i) })));
    expect(answers.slice(0, 5).map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    for (const answer of answers.slice(5)) {
      expect(answer.status).toBe(429);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(answer.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32014 } });
    }
    const admin = await fetch(`${limited.url}/services`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(admin.status).toBe(429);
    expect(await admin.json()).toMatchObject({ error: 'rate_limited' });
    expect(backend.toolCalls()).toBe(before + 5);
    await expectAlive(limited); // /health is not rate limited
    await limited.stop();
  });
});
