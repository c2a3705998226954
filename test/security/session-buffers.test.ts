/**
 * Finding 7 of the second hostile-input round (docs/security.md, "Round two"): a session
 * that never read its stream had every message for it buffered without bound (a log
 * flood from one service grew the gateway by hundreds of MiB). A backend here floods
 * ~200 MiB of log messages, during a call whose client never reads the POST's event
 * stream (with the per-answer size cap raised, so that it does not end the call first), and outside calls, to a session with no GET stream and to one whose GET stream
 * is never read. The gateway's resident memory (/proc/<pid>/status VmRSS) stays far
 * below the flood, and the log says once what was dropped.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostileBackend, startHostileBackend } from '../fixtures/hostile-backend.js';
import { eventually, startGateway, TOKEN, tempDbPath, waitUntilUp } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { expectAlive, postMcp } from './harness.js';

/** Log messages of 1 KiB per flood: about 200 MiB on the wire. */
const FLOOD = 200_000;
/** Growth allowed while the flood passes: generous, and still half of one flood. */
const BOUND_MIB = 100;

let backend: HostileBackend;
let gateway: StartedProcess;
const sockets: Socket[] = [];

beforeAll(async () => {
  backend = await startHostileBackend();
  const dbPath = tempDbPath();
  const config = join(dbPath, '..', 'meshgate.json');
  writeFileSync(config, JSON.stringify({ services: [{ name: 'hostile', url: `${backend.url}/mcp` }] }));
  // The answer cap (16 MiB) would end the call's flood early: raised, so the reply's own bound is what is tested.
  gateway = await startGateway({ MESHGATE_CONFIG: config, MESHGATE_DB_PATH: dbPath, MESHGATE_MAX_RESPONSE_BYTES: String(1024 ** 3) });
  await waitUntilUp(gateway.url, ['hostile']);
  await eventually('the gateway holds its GET stream to the backend', async () => backend.streams() > 0);
}, 30_000);
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await stopAll();
  await backend?.close();
});

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(line?.[1] ?? Number.NaN) / 1024;
}

async function openSession(): Promise<string> {
  const init = await postMcp(
    gateway,
    JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flood', version: '1' } },
    }),
  );
  const session = init.headers.get('mcp-session-id') ?? '';
  expect(session).not.toBe('');
  const level = await postMcp(gateway, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'info' } }), {
    'mcp-session-id': session,
  });
  expect(level.status).toBe(200);
  return session;
}

/**
 * Sends one request over a raw socket and stops reading: a POST at once, a GET after the
 * head of its stream (so the gateway holds the stream when the promise resolves).
 */
function sendAndNeverRead(method: 'GET' | 'POST', headers: Record<string, string>, body = ''): Promise<Socket> {
  const socket = connect(gateway.port, '127.0.0.1');
  sockets.push(socket);
  const head = Object.entries({
    host: `127.0.0.1:${gateway.port}`,
    authorization: `Bearer ${TOKEN}`,
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    socket.on('connect', () => {
      socket.write(`${method} /mcp HTTP/1.1\r\n${head}\r\n${body}`);
      if (method === 'POST') {
        socket.pause();
        resolve(socket);
      }
    });
    if (method === 'GET') {
      socket.once('data', () => {
        socket.pause();
        resolve(socket);
      });
    }
  });
}

const occurrences = (text: string, what: string) => text.split(what).length - 1;

describe('per-session buffers under a log flood', () => {
  it('a call whose client never reads its event stream: notifications past the bound are dropped, said once', async () => {
    const session = await openSession();
    const before = rssMiB(gateway.child.pid ?? 0);
    const floods = backend.flooded().done;
    const call = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'flood', arguments: { count: FLOOD } } });
    await sendAndNeverRead('POST', { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session }, call);
    await eventually('the backend wrote its whole flood', async () => backend.flooded().done > floods, 60_000);
    const grown = rssMiB(gateway.child.pid ?? 0) - before;
    expect(grown).toBeLessThan(BOUND_MIB);
    await eventually('the drop is logged', async () => gateway.output().includes('dropping notifications of a call whose client does not read'));
    expect(occurrences(gateway.output(), 'dropping notifications of a call whose client does not read')).toBe(1);
    await expectAlive(gateway);
  }, 90_000);

  it('outside calls, to a session without a GET stream and to one whose GET stream is never read: bounded, and the closed stream is logged', async () => {
    await openSession(); // opens no GET stream: nothing may wait for it
    const unread = await openSession();
    await sendAndNeverRead('GET', { accept: 'text/event-stream', 'mcp-session-id': unread });
    const before = rssMiB(gateway.child.pid ?? 0);
    await backend.floodStream(FLOOD);
    const grown = rssMiB(gateway.child.pid ?? 0) - before;
    expect(grown).toBeLessThan(BOUND_MIB);
    await eventually('the closed stream is logged', async () => gateway.output().includes('closing a GET stream whose client does not read it'));
    expect(occurrences(gateway.output(), 'closing a GET stream whose client does not read it')).toBe(1);
    await expectAlive(gateway);
  }, 90_000);

  it('a 2026-07-28 call whose client never reads its response stream: the stream is closed past the bound, said once', async () => {
    const before = rssMiB(gateway.child.pid ?? 0);
    const floods = backend.flooded().done;
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'flood', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
      // A 2026-07-28 request hears log messages only when it names a level.
      'io.modelcontextprotocol/logLevel': 'debug',
    };
    const call = JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'flood', arguments: { count: FLOOD }, _meta: meta } });
    await sendAndNeverRead(
      'POST',
      {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'flood',
      },
      call,
    );
    await eventually(
      'the 2026 stream is closed',
      async () => gateway.output().includes('closing a 2026-07-28 response stream whose client does not read it'),
      60_000,
    );
    await eventually('the backend is done with its flood', async () => backend.flooded().done > floods, 60_000);
    expect(rssMiB(gateway.child.pid ?? 0) - before).toBeLessThan(BOUND_MIB);
    expect(occurrences(gateway.output(), 'closing a 2026-07-28 response stream whose client does not read it')).toBe(1);
    await expectAlive(gateway);
  }, 90_000);
});
