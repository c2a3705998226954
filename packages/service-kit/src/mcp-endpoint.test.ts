import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JSONRPC_INVALID_REQUEST, JSONRPC_PARSE_ERROR, JSONRPC_SERVER_ERROR } from './jsonrpc.js';
import { createLogger } from './logger.js';
import { McpEndpoint } from './mcp-endpoint.js';
import { type RunningService, startMcpService } from './service.js';
import { defineTool, ToolServerFactory } from './tool-server.js';

const TOKEN = 'endpoint-test-token';
const logger = createLogger({ name: 'mcp-endpoint-test', level: 'silent', format: 'json' });
const factory = new ToolServerFactory({ name: 'echo-service', version: '0.0.1' }, [
  defineTool({
    name: 'echo',
    description: 'Returns its text',
    input: z.object({ text: z.string() }),
    output: z.object({ text: z.string() }),
    handler: ({ text }) => ({ ok: true, value: { text } }),
  }),
]);

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'endpoint-test', version: '1.0.0' } },
};
const TOOLS_LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

/** The JSON-RPC messages of a response, whether the server answered JSON or an SSE stream. */
async function messages(response: Response): Promise<any[]> {
  const text = await response.text();
  if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    return text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5)));
  }
  return [JSON.parse(text)];
}

describe('McpEndpoint over HTTP (startMcpService)', () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await startMcpService({
      name: 'echo-service',
      config: { port: 0, host: '127.0.0.1', token: TOKEN },
      logger,
      createServer: factory.create,
    });
  });
  afterAll(() => service?.close());

  function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${service.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  /** Opens a session the way a client does: initialize, then the initialized notification. */
  async function openSession(): Promise<string> {
    const response = await post(INITIALIZE);
    expect(response.status).toBe(200);
    const sessionId = response.headers.get('mcp-session-id');
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await messages(response))[0].result.serverInfo.name).toBe('echo-service');
    const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sessionId! });
    expect(initialized.status).toBe(202);
    return sessionId!;
  }

  it('refuses /mcp without a token with 401 and a Bearer challenge', async () => {
    const response = await fetch(`${service.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(TOOLS_LIST),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await response.json()).error.code).toBe(JSONRPC_SERVER_ERROR);
  });

  it('refuses a wrong token with 401 and error="invalid_token"', async () => {
    const response = await post(TOOLS_LIST, { authorization: 'Bearer wrong' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('serves GET /health without a token', async () => {
    const response = await fetch(`${service.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'echo-service' });
  });

  it('answers a sessionless tools/list sent with Accept: */* as plain JSON (the bare curl case)', async () => {
    const response = await post(TOOLS_LIST, { accept: '*/*' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('mcp-session-id')).toBeNull();
    const body = await response.json();
    expect(body).toMatchObject({ jsonrpc: '2.0', id: 1 });
    expect(body.result.tools.map((tool: { name: string }) => tool.name)).toEqual(['echo']);
  });

  it('answers a sessionless request sent without any Accept header', async () => {
    const response = await fetch(`${service.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).result.structuredContent).toEqual({ text: 'hi' });
  });

  it('refuses a text/plain body with 415', async () => {
    const response = await post(TOOLS_LIST, { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    expect((await response.json()).error.code).toBe(JSONRPC_INVALID_REQUEST);
  });

  it('refuses Accept: text/html with 406', async () => {
    expect((await post(TOOLS_LIST, { accept: 'text/html' })).status).toBe(406);
  });

  it('answers a body that is not JSON with 400 and parse error -32700', async () => {
    const response = await post('{x');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ id: null, error: { code: JSONRPC_PARSE_ERROR } });
  });

  it('refuses a batch with 400 and -32600', async () => {
    const response = await post([TOOLS_LIST, { ...TOOLS_LIST, id: 2 }]);
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe(JSONRPC_INVALID_REQUEST);
  });

  it('accepts a notification without a session with 202 and no body', async () => {
    const response = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
  });

  it('opens a session on initialize and serves tools/call inside it', async () => {
    const sessionId = await openSession();
    const response = await post(
      { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { text: 'in session' } } },
      { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
    );
    expect(response.status).toBe(200);
    const [reply] = await messages(response);
    expect(reply).toMatchObject({ id: 5, result: { structuredContent: { text: 'in session' } } });
  });

  it('answers an unknown session id with 404, not 400', async () => {
    const response = await post(TOOLS_LIST, { 'mcp-session-id': randomUUID() });
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe(JSONRPC_SERVER_ERROR);
  });

  it('answers a GET without a session id with 400, not 404', async () => {
    const response = await fetch(`${service.url}/mcp`, {
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream' },
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(/Mcp-Session-Id/);
  });

  it('ends a session on DELETE, after which its id is unknown (404)', async () => {
    const sessionId = await openSession();
    const deleted = await fetch(`${service.url}/mcp`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}`, 'mcp-session-id': sessionId },
    });
    expect(deleted.status).toBe(200);
    expect(service.endpoint.sessionIds()).not.toContain(sessionId);
    expect((await post(TOOLS_LIST, { 'mcp-session-id': sessionId })).status).toBe(404);
  });

  it('refuses an unsupported MCP-Protocol-Version with 400 listing the supported ones', async () => {
    const response = await post(TOOLS_LIST, { 'mcp-protocol-version': '1999-01-01' });
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(/1999-01-01.*2025-06-18/);
  });

  it('answers methods other than GET, POST and DELETE with 405 and an Allow header', async () => {
    const response = await fetch(`${service.url}/mcp`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST, DELETE');
  });
});

describe('McpEndpoint sessions and identities', () => {
  const endpoint = new McpEndpoint({ createServer: factory.create, logger });
  afterAll(() => endpoint.close());

  const request = (body: unknown, sessionId?: string): Request =>
    new Request('http://meshgate.test/mcp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
      },
      body: JSON.stringify(body),
    });

  it("hides a session from any identity but its creator's (404, as for an unknown id)", async () => {
    const opened = await endpoint.handle(request(INITIALIZE), { name: 'alice' });
    const sessionId = opened.headers.get('mcp-session-id')!;
    await opened.text();
    expect(sessionId).toBeTruthy();

    const asBob = await endpoint.handle(request(TOOLS_LIST, sessionId), { name: 'bob' });
    expect(asBob.status).toBe(404);

    const asAlice = await endpoint.handle(request(TOOLS_LIST, sessionId), { name: 'alice' });
    expect(asAlice.status).toBe(200);
    expect((await messages(asAlice))[0].result.tools).toHaveLength(1);
  });

  it('answers 503 once closed', async () => {
    const closing = new McpEndpoint({ createServer: factory.create, logger });
    await closing.close();
    expect((await closing.handle(request(TOOLS_LIST), { name: 'alice' })).status).toBe(503);
  });
});
