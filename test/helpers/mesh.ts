/**
 * The seed's mesh for end-to-end tests: real shopping-service, user-service and gateway
 * processes on 127.0.0.1 ephemeral ports, plus helpers to speak to the gateway the way
 * the seed's curls do, and in-process fixture MCP services for registration and clashes.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, defineTool, type RunningService, startMcpService, ToolServerFactory } from '@meshgate/service-kit';
import { z } from 'zod';
import { freePort, type StartedProcess, startProcess } from './process.js';

export const TOKEN = 'mcp-token-123';
/**
 * How tests register a fixture service: fixtures check the seed's token, and a registered
 * service gets no credential unless one is given (docs/security.md, finding 3).
 */
export const FIXTURE_CREDENTIAL = { bearer: TOKEN } as const;
/** The key test gateways seal literal secrets with (MESHGATE_SECRET_KEY; docs/security.md, finding 10). */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');
export const SHOPPING_ENTRY = 'packages/shopping-service/dist/main.js';
export const USER_ENTRY = 'packages/user-service/dist/main.js';
export const GATEWAY_ENTRY = 'packages/gateway/dist/main.js';

/** A JSON-RPC call the way the seed's curl sends it: one POST, no session, `Accept: *\/*`. */
export async function rpc(
  baseUrl: string,
  method: string,
  params?: unknown,
  init: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const token = init.token === undefined ? TOKEN : init.token;
  const response = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: '*/*',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...init.headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** How a raw 2026-07-28 POST is made: its `Mcp-Name`, the capabilities its envelope declares, its Accept header. */
export interface ModernPostOptions {
  name?: string;
  capabilities?: Record<string, unknown>;
  /** `application/json` unless given (`application/json, text/event-stream` takes a streamed answer). */
  accept?: string;
}

/**
 * One raw POST of the stateless 2026-07-28 revision: the standard headers (`Mcp-Name` when
 * given) and the `_meta` envelope declaring `capabilities` (a `_meta` in `params` adds to it);
 * resolves with the response as it came.
 */
export function modernPost(baseUrl: string, method: string, params: Record<string, unknown>, options: ModernPostOptions = {}): Promise<Response> {
  const envelope = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': options.capabilities ?? {},
  };
  return fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: options.accept ?? 'application/json',
      authorization: `Bearer ${TOKEN}`,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(options.name === undefined ? {} : { 'mcp-name': options.name }),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: { ...envelope, ...(params['_meta'] as object | undefined) } } }),
  });
}

/** `modernPost`, resolving with the HTTP status and the JSON answer. */
export async function modernRpc(
  baseUrl: string,
  method: string,
  params: Record<string, unknown>,
  options: ModernPostOptions = {},
): Promise<{ status: number; body: any }> {
  const response = await modernPost(baseUrl, method, params, options);
  return { status: response.status, body: await response.json() };
}

/** A REST call to the gateway's admin API. */
export async function api(baseUrl: string, method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** Polls until `check` returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

/** Waits until the gateway's /health reports every named service up. */
export async function waitUntilUp(gatewayUrl: string, services: string[], timeoutMs = 15_000): Promise<void> {
  await eventually(
    `${services.join(', ')} up`,
    async () => {
      const health = (await (await fetch(`${gatewayUrl}/health`)).json()) as { services: Record<string, { status: string }> };
      return services.every((name) => health.services[name]?.status === 'up');
    },
    timeoutMs,
  );
}

export interface Mesh {
  shopping: StartedProcess;
  user: StartedProcess;
  gateway: StartedProcess;
}

/** Starts the two services and a gateway federating them, and waits until both are up. */
export async function startMesh(gatewayEnv: Record<string, string> = {}): Promise<Mesh> {
  const [shopping, user] = await Promise.all([
    startProcess({ entry: SHOPPING_ENTRY, name: 'shopping-service' }),
    startProcess({ entry: USER_ENTRY, name: 'user-service' }),
  ]);
  const gateway = await startGateway({ SHOPPING_SERVICE_URL: `${shopping.url}/mcp`, USER_SERVICE_URL: `${user.url}/mcp`, ...gatewayEnv });
  await waitUntilUp(gateway.url, ['shopping-service', 'user-service']);
  return { shopping, user, gateway };
}

/** A fresh SQLite path in its own temporary directory. */
export function tempDbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'meshgate-db-')), 'meshgate.db');
}

/**
 * Starts a gateway process with its own database (unless `MESHGATE_DB_PATH` is given), a
 * secret key, and fast probes and retries, so tests see recovery quickly.
 */
export function startGateway(env: Record<string, string>): Promise<StartedProcess> {
  return startProcess({
    entry: GATEWAY_ENTRY,
    name: 'mcp-gateway',
    env: { MESHGATE_PROBE_INTERVAL_MS: '500', MESHGATE_RETRY_MAX_MS: '500', MESHGATE_DB_PATH: tempDbPath(), MESHGATE_SECRET_KEY: TEST_SECRET_KEY, ...env },
  });
}

/**
 * A small MCP service run in the test process, over real HTTP: each tool answers with a
 * `from` marker naming the fixture, so a test can tell which service served a call.
 */
export async function startFixtureService(
  name: string,
  tools: string[],
  token = TOKEN,
  health: () => { ok: boolean } = () => ({ ok: true }),
  port = 0,
): Promise<RunningService> {
  const factory = new ToolServerFactory(
    { name, version: '0.0.0' },
    tools.map((tool) =>
      defineTool({
        name: tool,
        description: `${tool} served by ${name}`,
        input: z.object({ id: z.string() }),
        output: z.object({ from: z.string(), tool: z.string(), id: z.string() }),
        handler: ({ id }) => ({ ok: true, value: { from: name, tool, id } }),
      }),
    ),
  );
  return startMcpService({
    name,
    config: { port, host: '127.0.0.1', token },
    logger: createLogger({ name, level: 'silent', format: 'json' }),
    createServer: factory.create,
    health,
  });
}

export { freePort };
