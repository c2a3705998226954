/**
 * `meshgate connect` driven over stdio by an SDK v2 client (StdioClientTransport spawning
 * the built CLI), relaying to a real gateway: tools listed and called, a call's progress,
 * a service's sampling request during a call (server to client and back), and a refused
 * token reported to the client as the gateway's own error.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProtocolService, startProtocolService } from '../fixtures/protocol-service.js';
import { CLI_ENTRY } from '../helpers/cli.js';
import { api, eventually, FIXTURE_CREDENTIAL, type Mesh, startMesh } from '../helpers/mesh.js';
import { REPO_ROOT, stopAll } from '../helpers/process.js';

let mesh: Mesh;
let proto: ProtocolService;

beforeAll(async () => {
  [mesh, proto] = await Promise.all([startMesh(), startProtocolService({ name: 'proto', scheme: 'proto' })]);
  expect((await api(mesh.gateway.url, 'POST', '/register', { name: 'proto', url: proto.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
});
afterAll(async () => {
  await stopAll();
  await proto?.close();
});

/** A client that launches `meshgate connect` as a stdio server, the way a desktop client does. */
function connectTransport(env: Record<string, string>): { transport: StdioClientTransport; stderr: () => string } {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_ENTRY, 'connect'],
    env: { PATH: process.env['PATH'] ?? '', MESHGATE_CLI_CONFIG: join(REPO_ROOT, 'no-such-cli-config.json'), MESHGATE_URL: mesh.gateway.url, ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return { transport, stderr: () => stderr };
}

describe('meshgate connect', () => {
  it('lists and calls tools, relays progress and a service sampling request during a call', async () => {
    const { transport } = connectTransport({});
    const client = new Client({ name: 'stdio-desktop', version: '1.0.0' }, { capabilities: { sampling: {} } });
    const asked: unknown[] = [];
    client.setRequestHandler('sampling/createMessage', async (request) => {
      asked.push(request.params.messages);
      return { role: 'assistant', model: 'test-model', content: { type: 'text', text: 'yes, ready' } };
    });
    await client.connect(transport);
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'meshgate' });
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['getProductById', 'getUserById', 'count', 'ask']));

      const product = await client.callTool({ name: 'getProductById', arguments: { id: '123' } });
      expect(product.structuredContent).toMatchObject({ id: '123', name: 'Aurora ANC Wireless Headphones' });

      const progress: number[] = [];
      const counted = await client.callTool({ name: 'count', arguments: { to: 3 } }, { onprogress: (event) => progress.push(event.progress) });
      expect(counted.content).toEqual([{ type: 'text', text: 'counted to 3' }]);
      // The SDK client handles progress a microtask after reading it but a response at once, so
      // when the last progress and the answer reach it in one read it drops that progress (over
      // any stdio server; connect spaces them out, which makes it rare, not impossible).
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress).toEqual([1, 2, 3].slice(0, progress.length));

      const answered = await client.callTool({ name: 'ask', arguments: { question: 'ready?' } });
      expect(answered.content).toEqual([{ type: 'text', text: 'proto heard: yes, ready' }]);
      expect(asked).toEqual([[{ role: 'user', content: { type: 'text', text: 'ready?' } }]]);

      // The same request sent on the session's GET stream, which connect holds open for the client.
      const aside = await client.callTool({ name: 'ask-aside', arguments: { question: 'still there?' } });
      expect(aside.content).toEqual([{ type: 'text', text: 'proto heard: yes, ready' }]);
      expect(asked).toHaveLength(2);

      const open = await api(mesh.gateway.url, 'GET', '/sessions');
      expect(open.body.sessions.map((session: { client: { name: string } }) => session.client.name)).toContain('stdio-desktop');
    } finally {
      await client.close();
    }
    // Closing stdin ends the bridge, which ends its gateway session (DELETE) instead of leaving it to idle out.
    await eventually('the bridge session ended', async () => {
      const open = await api(mesh.gateway.url, 'GET', '/sessions');
      return !open.body.sessions.some((session: { client: { name: string } }) => session.client.name === 'stdio-desktop');
    });
  });

  it('serves a client that negotiates the stateless 2026-07-28 revision (server/discover) as well', async () => {
    const { transport } = connectTransport({});
    const client = new Client({ name: 'stdio-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(transport);
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('getUserById');
      const user = await client.callTool({ name: 'getUserById', arguments: { id: '456' } });
      expect(user.structuredContent).toMatchObject({ id: '456', name: 'Maria Garcia' });
    } finally {
      await client.close();
    }
  });

  it("reports a refused token to the client as the gateway's 401 error, never showing the token", async () => {
    const { transport, stderr } = connectTransport({ MESHGATE_TOKEN: 'wrong-token-for-connect' });
    const client = new Client({ name: 'stdio-desktop', version: '1.0.0' });
    await expect(client.connect(transport)).rejects.toThrow(
      /Unauthorized: Invalid Bearer token \(meshgate connect sent the token from MESHGATE_TOKEN; set MESHGATE_TOKEN/,
    );
    expect(stderr()).not.toContain('wrong-token-for-connect');
    await client.close();
  });
});
