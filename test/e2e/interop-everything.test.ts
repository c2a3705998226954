/**
 * Interop with a server nobody here wrote: `@modelcontextprotocol/server-everything` (the
 * SDK team's reference server, on SDK v1) runs as a real process in streamable HTTP mode,
 * is registered with the gateway over `POST /register`, and is used through the gateway
 * by SDK v2 clients (2025-11-25 sessions, and 2026-07-28 negotiated with `versionNegotiation:
 * 'auto'`) and an SDK v1 client; then it restarts, as a deployed backend does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, freePort, modernRpc, rpc, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

const EVERYTHING_ENTRY = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');
const headers = { Authorization: `Bearer ${TOKEN}` };

let everything: ChildProcess;
let everythingUrl: string;
let gateway: StartedProcess;

/**
 * A TCP forwarder in front of server-everything, as a load balancer in front of a deployed
 * backend: a restart starts the new process, points the forwarder at it, then stops the old
 * one, so the gateway never sees a refused connection, only a server that forgot its session.
 */
let balancer: { server: Server; url: string; target: number; accepted: number; open: Map<object, number> };
async function startBalancer(target: number): Promise<typeof balancer> {
  const server = createServer((socket) => {
    balancer.accepted += 1;
    const target = balancer.target;
    balancer.open.set(socket, target);
    const upstream = createConnection({ host: '127.0.0.1', port: target });
    socket.pipe(upstream).pipe(socket);
    const close = () => {
      socket.destroy();
      upstream.destroy();
      balancer.open.delete(socket);
    };
    socket.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/mcp`, target, accepted: 0, open: new Map() };
}

/** Starts server-everything on 127.0.0.1:<port> (a free one by default) and resolves once it says it is listening. */
async function startEverything(port?: number): Promise<{ child: ChildProcess; url: string }> {
  port ??= await freePort();
  // It binds every interface and has no health route: its "listening" line is the signal.
  const child = spawn(process.execPath, [EVERYTHING_ENTRY, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server-everything did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (/listening on port/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server-everything exited (${code}):\n${output}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/mcp` };
}

type AnyClient = Pick<Client, 'listTools' | 'callTool' | 'listResourceTemplates' | 'readResource' | 'listPrompts' | 'getPrompt' | 'close'> & {
  getInstructions(): string | undefined;
};

const clients: Record<string, () => Promise<AnyClient>> = {
  'SDK v2 client': async () => {
    const client = new Client({ name: 'interop-v2', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers } }));
    return client;
  },
  'SDK v2 client negotiating 2026-07-28': async () => {
    const client = new Client({ name: 'interop-v2-modern', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers } }));
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    return client;
  },
  'SDK v1 client': async () => {
    const client = new ClientV1({ name: 'interop-v1', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(`${gateway.url}/mcp`), { requestInit: { headers } }));
    return client as unknown as AnyClient;
  },
};

async function withClient(kind: string, use: (client: AnyClient) => Promise<void>): Promise<void> {
  const client = await clients[kind]!();
  try {
    await use(client);
  } finally {
    await client.close();
  }
}

const textOf = (result: { content?: unknown }) =>
  (result.content as { type: string; text?: string }[]).map((block) => (block.type === 'text' ? block.text : '')).join('');

beforeAll(async () => {
  ({ child: everything, url: everythingUrl } = await startEverything());
  balancer = await startBalancer(Number(new URL(everythingUrl).port));
  // Only server-everything behind this gateway: no seed services to wait for.
  const config = join(mkdtempSync(join(tmpdir(), 'meshgate-interop-')), 'meshgate.json');
  writeFileSync(config, JSON.stringify({ services: [] }));
  gateway = await startGateway({ MESHGATE_CONFIG: config });
  const registered = await api(gateway.url, 'POST', '/register', { name: 'everything', url: balancer.url, credential: { none: true } });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
});

afterAll(async () => {
  everything?.kill('SIGTERM');
  balancer?.server.close();
  await stopAll();
});

for (const kind of Object.keys(clients)) {
  describe(`server-everything's instructions through the gateway, ${kind}`, () => {
    it("are in the gateway's initialize answer, under the service's name", async () => {
      await withClient(kind, async (client) => {
        const instructions = client.getInstructions() ?? '';
        expect(instructions).toMatch(/^Meshgate federates/);
        expect(instructions).toContain('## everything\n# Everything Server');
      });
    });
  });

  describe(`server-everything tools through the gateway, ${kind}`, () => {
    it('lists its tools under their own names', async () => {
      await withClient(kind, async (client) => {
        const names = (await client.listTools()).tools.map((tool) => tool.name);
        expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-tiny-image']));
      });
    });

    it('calls echo and get-sum and gets their answers', async () => {
      await withClient(kind, async (client) => {
        expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hello through meshgate' } }))).toContain('hello through meshgate');
        expect(textOf(await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } }))).toContain('42');
      });
    });

    it('passes an image result through unchanged', async () => {
      await withClient(kind, async (client) => {
        const result = await client.callTool({ name: 'get-tiny-image', arguments: {} });
        const image = (result.content as { type: string; mimeType?: string; data?: string }[]).find((block) => block.type === 'image');
        expect(image?.mimeType).toBe('image/png');
        expect(image?.data?.length).toBeGreaterThan(0);
      });
    });
  });

  describe(`server-everything resources and prompts through the gateway, ${kind}`, () => {
    it('lists its resource templates and reads a templated resource', async () => {
      await withClient(kind, async (client) => {
        const templates = (await client.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate);
        expect(templates).toContain('demo://resource/dynamic/text/{resourceId}');
        const read = await client.readResource({ uri: 'demo://resource/dynamic/text/7' });
        expect(read.contents[0]).toMatchObject({ uri: 'demo://resource/dynamic/text/7', mimeType: 'text/plain' });
        expect((read.contents[0] as { text: string }).text).toContain('Resource 7');
      });
    });

    it('lists its prompts and gets simple-prompt', async () => {
      await withClient(kind, async (client) => {
        const names = (await client.listPrompts()).prompts.map((prompt) => prompt.name);
        expect(names).toEqual(expect.arrayContaining(['simple-prompt', 'args-prompt']));
        const prompt = await client.getPrompt({ name: 'simple-prompt' });
        expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'This is a simple prompt without arguments.' });
      });
    });
  });
}

describe("server-everything's tasks through the gateway", () => {
  it('a task-required tool runs as a task: created, polled with tasks/get, its result fetched, all routed to the service under ids of the gateway', async () => {
    const created = await rpc(gateway.url, 'tools/call', { name: 'simulate-research-query', arguments: { topic: 'federation' }, task: { ttl: 60_000 } });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const taskId = created.body.result.task.taskId as string;
    expect(taskId).toMatch(/^[0-9a-f-]{36}$/);
    const done = await eventually(
      'the research task to complete',
      async () => {
        const polled = await rpc(gateway.url, 'tasks/get', { taskId });
        expect(polled.body.error, JSON.stringify(polled.body)).toBeUndefined();
        expect(polled.body.result.taskId).toBe(taskId);
        return polled.body.result.status === 'completed' ? polled.body.result : undefined;
      },
      30_000,
    );
    expect(done.status).toBe('completed');
    const result = await rpc(gateway.url, 'tasks/result', { taskId });
    expect(result.body.result.content[0].text).toContain('Research Report: federation');
    const listed = await rpc(gateway.url, 'tasks/list', {});
    expect(listed.body.result.tasks.map((task: { taskId: string }) => task.taskId)).toContain(taskId);
    const unknown = await rpc(gateway.url, 'tasks/get', { taskId: 'not-a-task' });
    expect(unknown.body.error.code).toBe(-32602);
  });

  it('a 2026-07-28 client declaring the tasks extension gets the same task in the flat shape, its result inlined by tasks/get', async () => {
    const capabilities = { extensions: { 'io.modelcontextprotocol/tasks': {} } };
    const name = 'simulate-research-query';
    const created = await modernRpc(gateway.url, 'tools/call', { name, arguments: { topic: 'bridging' } }, { name, capabilities });
    expect(created.body.result?.resultType, JSON.stringify(created.body)).toBe('task');
    const taskId = created.body.result.taskId as string;
    const done = await eventually(
      'the research task to complete',
      async () => {
        const polled = await modernRpc(gateway.url, 'tasks/get', { taskId }, { name: taskId, capabilities });
        expect(polled.body.error, JSON.stringify(polled.body)).toBeUndefined();
        return polled.body.result.status === 'completed' ? polled.body.result : undefined;
      },
      30_000,
    );
    expect(done.result.content[0].text).toContain('Research Report: bridging');
  });

  it('the gateway offers tasks, and lists a task-required tool only to clients of a revision that has tasks', async () => {
    const current = new Client({ name: 'tasks-current', version: '1.0.0' });
    await current.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers } }));
    const older = new ClientV1({ name: 'tasks-older', version: '1.0.0' });
    const olderTransport = new TransportV1(new URL(`${gateway.url}/mcp`), {
      requestInit: { headers },
      fetch: (url, init) => {
        // An SDK v1 client that speaks 2025-06-18 only: its initialize asks for that revision.
        const body = typeof init?.body === 'string' ? init.body.replace(/"protocolVersion":"[^"]+"/, '"protocolVersion":"2025-06-18"') : init?.body;
        return fetch(url, { ...init, body } as RequestInit);
      },
    });
    await older.connect(olderTransport);
    try {
      expect(current.getServerCapabilities()?.tasks?.requests?.tools?.call).toBeDefined();
      expect((await current.listTools()).tools.map((tool) => tool.name)).toContain('simulate-research-query');
      expect(older.getServerVersion()).toBeDefined();
      const olderNames = (await older.listTools()).tools.map((tool) => tool.name);
      expect(olderNames).toContain('echo');
      expect(olderNames).not.toContain('simulate-research-query');
    } finally {
      await Promise.all([current.close(), older.close()]);
    }
  });
});

describe("server-everything's roots tool through the gateway", () => {
  it('reaches the roots of the one client session that has roots, which the service asked for outside any call', async () => {
    const asked: string[] = [];
    const client = new Client({ name: 'interop-roots', version: '1.0.0' }, { capabilities: { roots: { listChanged: true } } });
    client.setRequestHandler('roots/list', async () => {
      asked.push('roots/list');
      return { roots: [{ uri: 'file:///work/project-alpha', name: 'alpha' }] };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers } }));
    try {
      // The service cached "no roots" when the gateway connected; opening this client's stream
      // tells it roots changed, and its roots/list (on its own stream) is relayed here.
      await eventually('server-everything to ask this client for roots', async () => asked.length > 0);
      const result = await client.callTool({ name: 'get-roots-list', arguments: {} });
      expect(textOf(result)).toContain('file:///work/project-alpha');
    } finally {
      await client.close();
    }
  });
});

describe('server-everything restarts behind the gateway', () => {
  it('the first call after the restart succeeds: its "No valid session ID" 400 is taken as a lost session, re-opened at once', async () => {
    await withClient('SDK v2 client', async (client) => {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'before' } }))).toContain('before');
      const old = everything;
      const oldPort = balancer.target;
      const fresh = await startEverything();
      balancer.target = Number(new URL(fresh.url).port);
      const exited = new Promise((resolve) => old.once('exit', resolve));
      old.kill('SIGTERM');
      await exited;
      everything = fresh.child;
      // Its connections through the balancer closed with it. A call sent on one of them at
      // that very moment could fail, as behind any load balancer; wait until the gateway has
      // connected anew (its notification stream or health probe), so it has seen them close.
      await eventually('every connection to the old process to be closed', async () => ![...balancer.open.values()].includes(oldPort));
      const accepted = balancer.accepted;
      // At the latest its next health probe does, up to one probe interval (15 s) from now: the
      // wait is longer than that (it failed in CI when it was exactly as long).
      await eventually('the gateway connects to the new process', async () => balancer.accepted > accepted, 25_000);
      // The new process knows none of the gateway's sessions and answers 400, not 404.
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'after' } }))).toContain('after');
      expect(textOf(await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }))).toContain('3');
    });
    expect(gateway.output()).toMatch(/service lost our session; reconnecting|no longer knows the session/);
    await eventually('server-everything to be up', async () => {
      const services = await api(gateway.url, 'GET', '/services');
      const entry = (services.body as { services: { name: string; status: string }[] }).services.find((service) => service.name === 'everything');
      return entry?.status === 'up';
    });
  }, 60_000);
});
