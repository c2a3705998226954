/**
 * Shared pieces of the hostile-input suite: a gateway federating one recording backend
 * (a counting proxy in front of a fixture MCP service, so a test can say exactly what
 * reached the backend), raw-socket requests for what fetch cannot send, and the liveness
 * check every case ends with.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningService } from '@meshgate/service-kit';
import { afterAll, beforeAll, expect } from 'vitest';
import { startFixtureService, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

export interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RecordingBackend {
  readonly url: string;
  readonly seen: Seen[];
  /**
   * What the gateway sent other than its own periodic health probes (`GET /health`, MCP
   * `ping`): what a test's input can have caused. Use this to check "the backend heard nothing".
   */
  caused(): Seen[];
  /** JSON-RPC methods of the POSTs received, e.g. `tools/call`. */
  methods(): string[];
  toolCalls(): number;
  close(): Promise<void>;
}

/** A fixture MCP service with tool `lookup`, behind a proxy that records every request. */
export async function startRecordingBackend(name = 'recorder', tools = ['lookup']): Promise<RecordingBackend> {
  const fixture: RunningService = await startFixtureService(name, tools);
  return startRecordingProxy(fixture.url, () => fixture.close());
}

/** A proxy in front of the MCP server at `targetUrl` that records every request; `closeTarget` runs on close. */
export async function startRecordingProxy(targetUrl: string, closeTarget: () => Promise<void> = async () => undefined): Promise<RecordingBackend> {
  const target = new URL(targetUrl);
  const seen: Seen[] = [];
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const methods = () =>
    seen.flatMap((entry) => {
      try {
        const parsed = JSON.parse(entry.body) as { method?: unknown };
        return typeof parsed.method === 'string' ? [parsed.method] : [];
      } catch {
        return [];
      }
    });
  const isProbe = (entry: Seen) => (entry.method === 'GET' && entry.path === '/health') || /"method"\s*:\s*"ping"/.test(entry.body);
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    caused: () => seen.filter((entry) => !isProbe(entry)),
    methods,
    toolCalls: () => methods().filter((method) => method === 'tools/call').length,
    close: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await closeTarget();
    },
  };
}

/** A gateway whose only service is `backend` (as service `recorder`), with extra env. */
export async function startGatewayFor(backend: RecordingBackend, env: Record<string, string> = {}): Promise<StartedProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'meshgate-security-'));
  const config = join(dir, 'meshgate.json');
  writeFileSync(config, JSON.stringify({ services: [{ name: 'recorder', url: `${backend.url}/mcp` }] }));
  const gateway = await startGateway({ MESHGATE_CONFIG: config, ...env });
  await expectServiceUp(gateway.url, 'recorder');
  return gateway;
}

async function expectServiceUp(url: string, service: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${url}/health`)).json()) as { services: Record<string, { status: string }> };
    if (health.services[service]?.status === 'up') return;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  throw new Error(`${service} never came up`);
}

/** Every case ends here: the gateway still answers /health. */
export async function expectAlive(gateway: StartedProcess): Promise<void> {
  const response = await fetch(`${gateway.url}/health`, { signal: AbortSignal.timeout(5_000) });
  expect(response.status).toBe(200);
  expect(((await response.json()) as { status: string }).status).toBe('ok');
}

/** POSTs a raw body to /mcp with the seed's headers; parses a JSON answer. */
export async function postMcp(gateway: StartedProcess, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: '*/*', authorization: `Bearer ${TOKEN}`, ...headers },
    body,
  });
  const text = await response.text();
  let json: any;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: json };
}

/** Sends raw bytes over TCP and resolves with everything received until the server closes or `timeoutMs` passes. */
export function rawExchange(port: number, chunks: Array<string | Buffer>, timeoutMs = 5_000): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (data: Buffer) => (text += data.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      for (const chunk of chunks) if (!socket.destroyed) socket.write(chunk);
    });
  });
}

/** The status code of the first response in raw HTTP text. */
export function statusOf(raw: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(raw);
  return match === null ? undefined : Number(match[1]);
}

/** A JSON-RPC `tools/call` body. */
export function callBody(name: unknown, args: unknown = { id: '1' }, id: unknown = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
}

/** Starts a recording backend and a gateway for it around the calling test file, and stops both after. */
export function recordingGateway(env: Record<string, string> = {}): { backend: RecordingBackend; gateway: StartedProcess } {
  const context = {} as { backend: RecordingBackend; gateway: StartedProcess };
  beforeAll(async () => {
    context.backend = await startRecordingBackend();
    context.gateway = await startGatewayFor(context.backend, env);
  });
  afterAll(async () => {
    await stopAll();
    await context.backend?.close();
  });
  return context;
}
