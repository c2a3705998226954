/**
 * docs/security.md, finding 1: one malformed item in one service's listing must not break
 * every client. The backend lists good tools next to a numeric name, a missing name, a
 * tool without inputSchema, one whose inputSchema is not an object, and bad prompts,
 * resources and templates. The official SDK clients (v1 and v2) refuse a whole
 * `tools/list` holding any of those; through the gateway they list and call the good
 * tools, `/services` names what was dropped, and a restart serves none of it, even when
 * the stored catalog itself holds bad items.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListingBackend, startListingBackend } from '../fixtures/listing-backend.js';
import { api, eventually, rpc, startGateway, TOKEN, tempDbPath } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

const good = (name: string) => ({ name, description: `${name} works`, inputSchema: { type: 'object', properties: { id: { type: 'string' } } } });
const LISTINGS = {
  tools: [
    good('alpha'),
    { name: 42, inputSchema: { type: 'object' } },
    { description: 'no name at all', inputSchema: { type: 'object' } },
    { name: 'no-schema' },
    { name: 'string-schema', inputSchema: { type: 'string' } },
    good('beta'),
  ],
  prompts: [{ name: 'fine-prompt' }, { name: 7 }],
  resources: [
    { uri: 'test://ok', name: 'ok' },
    { uri: 5, name: 'numeric-uri' },
  ],
  resourceTemplates: [{ uriTemplate: 'test://{id}', name: 'by-id' }, { uriTemplate: 'test://{x}' }],
};

let backend: ListingBackend;
let gateway: StartedProcess;
let dbPath: string;
let configPath: string;

async function clientsList(url: string) {
  const headers = { authorization: `Bearer ${TOKEN}` };
  const v2 = new Client({ name: 'intake-v2', version: '1.0.0' });
  await v2.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  const v1 = new ClientV1({ name: 'intake-v1', version: '1.0.0' });
  await v1.connect(new TransportV1(new URL(`${url}/mcp`), { requestInit: { headers } }));
  try {
    const [listed2, listed1] = await Promise.all([v2.listTools(), v1.listTools()]);
    const [called2, called1] = await Promise.all([
      v2.callTool({ name: 'beta', arguments: { id: '1' } }),
      v1.callTool({ name: 'alpha', arguments: { id: '1' } }),
    ]);
    return { v2: listed2.tools.map((t) => t.name), v1: listed1.tools.map((t) => t.name), called2, called1 };
  } finally {
    await Promise.all([v2.close(), v1.close()]);
  }
}

beforeAll(async () => {
  backend = await startListingBackend(LISTINGS);
  dbPath = tempDbPath();
  configPath = join(mkdtempSync(join(tmpdir(), 'meshgate-intake-')), 'meshgate.json');
  writeFileSync(configPath, JSON.stringify({ services: [{ name: 'sloppy', url: `${backend.url}/mcp`, credential: { none: true } }] }));
  gateway = await startGateway({ MESHGATE_CONFIG: configPath, MESHGATE_DB_PATH: dbPath });
  await eventually('sloppy listed', async () => (await rpc(gateway.url, 'tools/list')).body?.result?.tools?.length === 2);
});
afterAll(async () => {
  await stopAll();
  await backend?.close();
});

describe('finding 1: invalid listed items are dropped at intake, the rest kept', () => {
  it('SDK v1 and v2 clients list and call the good tools', async () => {
    const { v1, v2, called1, called2 } = await clientsList(gateway.url);
    expect(v2).toEqual(['alpha', 'beta']);
    expect(v1).toEqual(['alpha', 'beta']);
    expect(called2.content).toEqual([{ type: 'text', text: 'called beta' }]);
    expect(called1.content).toEqual([{ type: 'text', text: 'called alpha' }]);
  });

  it('prompts, resources and templates keep only their valid items', async () => {
    expect((await rpc(gateway.url, 'prompts/list')).body.result.prompts.map((p: { name: string }) => p.name)).toEqual(['fine-prompt']);
    expect((await rpc(gateway.url, 'resources/list')).body.result.resources.map((r: { uri: string }) => r.uri)).toEqual(['test://ok']);
    expect((await rpc(gateway.url, 'resources/templates/list')).body.result.resourceTemplates.map((r: { name: string }) => r.name)).toEqual(['by-id']);
  });

  it('/services shows every rejected item with its kind, name if any, and reason; the log names service and item', async () => {
    const { body } = await api(gateway.url, 'GET', '/services/sloppy');
    const rejected = body.rejected as Array<{ kind: string; name?: string; reason: string }>;
    expect(rejected.map((r) => [r.kind, r.name])).toEqual([
      ['tool', undefined],
      ['tool', undefined],
      ['tool', 'no-schema'],
      ['tool', 'string-schema'],
      ['prompt', undefined],
      ['resource', undefined],
      ['resourceTemplate', 'test://{x}'],
    ]);
    expect(rejected.find((r) => r.name === 'no-schema')?.reason).toMatch(/inputSchema/);
    expect(rejected.find((r) => r.name === 'string-schema')?.reason).toMatch(/inputSchema\.type/);
    expect(gateway.output()).toMatch(/"service":"sloppy","kind":"tool","item":"string-schema".*dropped tool/);
  });

  it('after a restart the bad items are not served, even from a stored catalog that holds them', async () => {
    await gateway.stop();
    await backend.close(); // the service is away: the gateway serves its stored catalog
    const raw = new Database(dbPath);
    const stored = raw.prepare('SELECT tools FROM catalogs WHERE service = ?').get('sloppy') as { tools: string };
    expect(JSON.parse(stored.tools).map((t: { name: string }) => t.name)).toEqual(['alpha', 'beta']);
    // A catalog saved by an older gateway (or edited by hand) with the bad items in it.
    raw.prepare('UPDATE catalogs SET tools = ? WHERE service = ?').run(JSON.stringify(LISTINGS.tools), 'sloppy');
    raw.close();
    gateway = await startGateway({ MESHGATE_CONFIG: configPath, MESHGATE_DB_PATH: dbPath });
    const tools = (await rpc(gateway.url, 'tools/list')).body.result.tools.map((t: { name: string }) => t.name);
    expect(tools).toEqual(['alpha', 'beta']);
    const { body } = await api(gateway.url, 'GET', '/services/sloppy');
    expect(body.toolsFrom).toBe('fallback');
    expect(body.rejected.map((r: { name?: string }) => r.name)).toContain('string-schema');
    expect(gateway.output()).toMatch(/"service":"sloppy","kind":"tool","item":"no-schema".*from its stored catalog/);
  });
});
