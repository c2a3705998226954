/**
 * The contract every native Meshgate MCP service keeps, run against its real compiled
 * process: open /health, Bearer-protected /mcp that answers the seed's bare curls, one
 * lookup tool with the shared error conventions, SDK v1 and v2 clients, clean SIGTERM.
 * Each service's `service.test.ts` calls `describeNativeService` with its own facts.
 */

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedProcess, startProcess, stopAll } from './process.js';

const DEFAULT_TOKEN = 'mcp-token-123';

export interface NativeServiceFacts {
  /** Service name as /health reports it, e.g. `shopping-service`. */
  name: string;
  /** Compiled entry relative to the repository root. */
  entry: string;
  /** The lookup tool, e.g. `getProductById`. */
  tool: string;
  /** An id that exists (the seed's), and the fields its record must have. */
  knownId: string;
  knownRecord: Record<string, unknown>;
  /** An id that does not exist, and the exact not-found message. */
  unknownId: string;
  notFoundMessage: string;
}

/** One JSON-RPC call the way the seed's curl sends it: no session, `Accept: *\/*`. */
export async function curlRpc(url: string, token: string | undefined, method: string, params?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: '*/*', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) }),
  });
  return { status: response.status, body: await response.json() };
}

/** Registers the contract tests for one service. */
export function describeNativeService(facts: NativeServiceFacts): void {
  // Safety net: a test that fails half-way must not leave a process holding a port.
  afterAll(() => stopAll());
  const call = (url: string, args: unknown, token = DEFAULT_TOKEN) => curlRpc(url, token, 'tools/call', { name: facts.tool, arguments: args });

  describe(`${facts.name} (real process, default configuration)`, () => {
    let service: StartedProcess;
    beforeAll(async () => {
      service = await startProcess({ entry: facts.entry, name: facts.name });
    });
    afterAll(() => service?.kill());

    it('answers GET /health with 200 JSON naming the service, without a token', async () => {
      const response = await fetch(`${service.url}/health`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toMatchObject({ status: 'ok', service: facts.name });
    });

    it('refuses POST /mcp without a token with 401 and a Bearer challenge', async () => {
      const response = await fetch(`${service.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    });

    it(`lists ${facts.tool} with a description, an input schema and an output schema (seed curl)`, async () => {
      const { status, body } = await curlRpc(service.url, DEFAULT_TOKEN, 'tools/list');
      expect(status).toBe(200);
      const tools = body.result.tools as Array<Record<string, any>>;
      expect(tools.map((tool) => tool.name)).toEqual([facts.tool]);
      const [tool] = tools;
      expect(tool?.description).toContain(`"${facts.knownId}"`);
      expect(tool?.inputSchema).toMatchObject({ type: 'object', required: ['id'], properties: { id: { type: 'string' } } });
      expect(tool?.outputSchema).toMatchObject({ type: 'object', properties: { id: { type: 'string' } } });
      expect(Object.keys(tool?.outputSchema.properties)).toEqual(expect.arrayContaining(Object.keys(facts.knownRecord)));
    });

    it(`returns id "${facts.knownId}" as structuredContent equal to the JSON of the text block (seed curl)`, async () => {
      const { status, body } = await call(service.url, { id: facts.knownId });
      expect(status).toBe(200);
      const result = body.result;
      expect(result.isError).toBeUndefined();
      expect(result.structuredContent).toMatchObject(facts.knownRecord);
      expect(result.content).toHaveLength(1);
      expect(result.content[0].type).toBe('text');
      expect(JSON.parse(result.content[0].text)).toEqual(result.structuredContent);
    });

    it('answers an unknown id with an isError result carrying the not-found message', async () => {
      const { status, body } = await call(service.url, { id: facts.unknownId });
      expect(status).toBe(200);
      expect(body.result).toEqual({ isError: true, content: [{ type: 'text', text: facts.notFoundMessage }] });
    });

    it.each([
      ['letters', { id: 'abc' }],
      ['a number instead of a string', { id: Number(facts.knownId) }],
      ['a missing id', {}],
      ['an empty id', { id: '' }],
      ['an id of 13 digits', { id: '1234567890123' }],
    ])('answers an id given as %s with -32602 naming the id field', async (_label, args) => {
      const { status, body } = await call(service.url, args);
      expect(status).toBe(200);
      expect(body.error.code).toBe(-32602);
      expect(body.error.message).toContain('id:');
      expect(body.error.message).toContain('digits');
    });

    it('serves list and call to an SDK v2 client (@modelcontextprotocol/client)', async () => {
      const client = new Client({ name: 'contract-test-v2', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${DEFAULT_TOKEN}` } },
      });
      await client.connect(transport);
      try {
        expect(transport.sessionId).toBeTruthy();
        expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual([facts.tool]);
        const result = await client.callTool({ name: facts.tool, arguments: { id: facts.knownId } });
        expect(result.structuredContent).toMatchObject(facts.knownRecord);
      } finally {
        await transport.terminateSession();
        await client.close();
      }
    });

    it('serves list and call to an SDK v1 client (@modelcontextprotocol/sdk)', async () => {
      const client = new ClientV1({ name: 'contract-test-v1', version: '1.0.0' });
      const transport = new TransportV1(new URL(`${service.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${DEFAULT_TOKEN}` } },
      });
      await client.connect(transport);
      try {
        expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual([facts.tool]);
        const result = await client.callTool({ name: facts.tool, arguments: { id: facts.knownId } });
        expect(result.structuredContent).toMatchObject(facts.knownRecord);
        const missing = await client.callTool({ name: facts.tool, arguments: { id: facts.unknownId } });
        expect(missing.isError).toBe(true);
      } finally {
        await transport.terminateSession();
        await client.close();
      }
    });
  });

  describe(`${facts.name} (real process, MCP_BEARER_TOKEN set)`, () => {
    let service: StartedProcess;
    beforeAll(async () => {
      service = await startProcess({ entry: facts.entry, name: facts.name, env: { MCP_BEARER_TOKEN: 'custom-s3cret' } });
    });
    afterAll(() => service?.kill());

    it('accepts the configured token', async () => {
      const { status, body } = await call(service.url, { id: facts.knownId }, 'custom-s3cret');
      expect(status).toBe(200);
      expect(body.result.structuredContent).toMatchObject(facts.knownRecord);
    });

    it('refuses the default token with 401', async () => {
      expect((await call(service.url, { id: facts.knownId }, DEFAULT_TOKEN)).status).toBe(401);
    });

    it('never writes the token to its output', () => {
      expect(service.output()).not.toContain('custom-s3cret');
    });
  });

  describe(`${facts.name} (real process, shutdown)`, () => {
    it('exits 0 within 5 s of SIGTERM, even with an MCP session open', async () => {
      const service = await startProcess({ entry: facts.entry, name: facts.name });
      const client = new Client({ name: 'shutdown-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), {
          requestInit: { headers: { Authorization: `Bearer ${DEFAULT_TOKEN}` } },
        }),
      );
      const started = Date.now();
      const code = await service.stop('SIGTERM');
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(service.output()).toContain('stopped');
      await client.close().catch(() => undefined);
    });

    it('exits 1 at start-up with a readable reason when the configuration is invalid', async () => {
      const start = startProcess({ entry: facts.entry, name: facts.name, env: { MCP_BEARER_TOKEN: '' } });
      await expect(start).rejects.toThrow(/exited before becoming healthy \(code 1\)[\s\S]*MCP_BEARER_TOKEN must not be empty/);
    });
  });
}
