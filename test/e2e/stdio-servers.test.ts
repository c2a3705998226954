/**
 * Stdio services behind the gateway, with servers nobody here wrote: the reference
 * `server-filesystem` (on a temp dir), `server-memory` and `server-everything` in stdio
 * mode, each started by the gateway from its config file as `node <the package's bin>`,
 * plus the repository's own stdio fixture (test/fixtures/stdio-fixture.mjs) for what the
 * others cannot show: the environment the process gets, and lines that are not JSON-RPC.
 * Clients reach them the usual way, over streamable HTTP to the gateway.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, rpc, startGateway, TOKEN, waitUntilUp } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import {
  EVERYTHING_BIN as EVERYTHING,
  FILESYSTEM_BIN as FILESYSTEM,
  STDIO_FIXTURE as FIXTURE,
  groupAlive,
  MEMORY_BIN as MEMORY,
  startedGroups,
} from '../helpers/stdio.js';

const SERVICES = ['files', 'memory', 'everything', 'fixture', 'once'];
let gateway: StartedProcess;
let dir: string;
let filesDir: string;

const textOf = (result: { content?: unknown }) =>
  (result.content as { type: string; text?: string }[]).map((block) => (block.type === 'text' ? block.text : '')).join('');

async function connectClient(onSampling?: (params: unknown) => void): Promise<Client> {
  const client = new Client({ name: 'stdio-e2e', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler('sampling/createMessage', async (request) => {
    onSampling?.(request.params);
    return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled by the test client' } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
  return client;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshgate-stdio-'));
  const files = mkdtempSync(join(tmpdir(), 'meshgate-stdio-files-'));
  filesDir = files;
  writeFileSync(join(files, 'hello.txt'), 'hello from a stdio server\n');
  const node = process.execPath;
  const config = join(dir, 'meshgate.json');
  writeFileSync(
    config,
    JSON.stringify({
      services: [
        { name: 'files', command: node, args: [FILESYSTEM, files] },
        { name: 'memory', command: node, args: [MEMORY], env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') } },
        { name: 'everything', command: node, args: [EVERYTHING, 'stdio'] },
        { name: 'fixture', command: node, args: [FIXTURE], env: { FIXTURE_SETTING: 'configured-value' }, cwd: dir },
        // Runs once: after it is killed, every restart fails.
        { name: 'once', command: node, args: [FIXTURE, '--once', join(dir, 'once.marker')] },
      ],
    }),
  );
  gateway = await startGateway({
    MESHGATE_CONFIG: config,
    MCP_BEARER_TOKEN: TOKEN,
    MESHGATE_UPSTREAM_TOKEN: 'upstream-secret-never-passed',
    GATEWAY_ONLY_SECRET: 'never-passed-either',
  });
  await waitUntilUp(gateway.url, SERVICES, 30_000);
}, 60_000);

afterAll(async () => {
  await stopAll();
});

describe('third-party stdio servers through the gateway', () => {
  it('lists and calls server-filesystem on its directory', async () => {
    const client = await connectClient();
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toEqual(expect.arrayContaining(['read_text_file', 'list_directory']));
      const listing = await client.callTool({ name: 'list_directory', arguments: { path: filesDir } });
      expect(textOf(listing)).toContain('hello.txt');
      const read = await client.callTool({ name: 'read_text_file', arguments: { path: join(filesDir, 'hello.txt') } });
      expect(textOf(read)).toContain('hello from a stdio server');
    } finally {
      await client.close();
    }
  });

  it('keeps state in server-memory across calls', async () => {
    const client = await connectClient();
    try {
      await client.callTool({
        name: 'create_entities',
        arguments: { entities: [{ name: 'meshgate', entityType: 'gateway', observations: ['federates stdio'] }] },
      });
      const graph = await client.callTool({ name: 'read_graph', arguments: {} });
      expect(textOf(graph)).toContain('federates stdio');
    } finally {
      await client.close();
    }
  });

  it('serves server-everything: tools, resources, prompts, and progress of a long call', async () => {
    const client = await connectClient();
    try {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'over stdio' } }))).toContain('over stdio');
      const templates = (await client.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate);
      expect(templates).toContain('demo://resource/dynamic/text/{resourceId}');
      const read = await client.readResource({ uri: 'demo://resource/dynamic/text/3' });
      expect((read.contents[0] as { text: string }).text).toContain('Resource 3');
      const prompt = await client.getPrompt({ name: 'simple-prompt' });
      expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'This is a simple prompt without arguments.' });
      const progress: number[] = [];
      const result = await client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
        { onprogress: (update) => progress.push(update.progress) },
      );
      expect(textOf(result)).toContain('completed');
      expect(progress).toEqual([1, 2, 3]);
    } finally {
      await client.close();
    }
  });

  it("relays server-everything's sampling request to the calling client and returns its answer", async () => {
    const asked: unknown[] = [];
    const client = await connectClient((params) => asked.push(params));
    try {
      // Registered once the service saw the gateway can sample; it announces it with list_changed.
      await eventually('the sampling tool to be listed', async () => (await client.listTools()).tools.some((tool) => tool.name === 'trigger-sampling-request'));
      const result = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'say hi', maxTokens: 20 } });
      expect(textOf(result)).toContain('sampled by the test client');
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatchObject({ messages: [{ role: 'user', content: { type: 'text', text: expect.stringContaining('say hi') } }] });
    } finally {
      await client.close();
    }
  });
});

describe('what a stdio service process gets and may send', () => {
  it('gets only its configured variables plus PATH and HOME, and its configured working directory', async () => {
    const answer = await rpc(gateway.url, 'tools/call', { name: 'env', arguments: {} });
    const env = JSON.parse(answer.body.result.content[0].text) as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(['FIXTURE_SETTING', 'HOME', 'PATH']);
    expect(env['FIXTURE_SETTING']).toBe('configured-value');
    expect(env['PATH']).toBe(process.env['PATH']);
  });

  it('skips stdout lines that are not JSON-RPC or are over the size cap (a 1 GiB line, never held), and logs them', async () => {
    const peak = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8'))?.[1]) * 1024;
    const before = peak();
    const answer = await rpc(gateway.url, 'tools/call', { name: 'noise', arguments: { bytes: 1024 ** 3 } });
    expect(answer.body.result.content[0].text).toBe('after the noise');
    // The gateway's peak memory grew by at most the 16 MiB cap and some garbage, far from the line's size.
    expect(peak() - before).toBeLessThan(256 * 1024 ** 2);
    // Logged before the answer was read; the gateway's log may reach its pipe a moment later.
    await eventually('both lines logged as skipped', async () => {
      const output = gateway.output();
      return output.includes('wrote a stdout line that is not JSON; skipped') && output.includes('wrote a line over the limit; skipped');
    });
  });

  it('refuses an answer over the size cap without waiting for the deadline', async () => {
    const answer = await rpc(gateway.url, 'tools/call', { name: 'huge', arguments: { bytes: 20 * 1024 * 1024 } });
    expect(answer.body.error).toMatchObject({ code: -32013, message: expect.stringContaining('exceeds') });
  });

  it('shows a command service in /services with its command and the names, never the values, of its variables', async () => {
    // The answers over the cap just before may have made a health probe late (degraded); it is up again after the next.
    await eventually('the fixture is up', async () => (await api(gateway.url, 'GET', '/services/fixture')).body.status === 'up');
    const view = await api(gateway.url, 'GET', '/services/fixture');
    expect(view.body).toMatchObject({
      name: 'fixture',
      source: 'config',
      status: 'up',
      command: { command: process.execPath, args: [FIXTURE], envNames: ['FIXTURE_SETTING'], stdio: 'shared' },
    });
    expect(view.body.url).toBeUndefined();
    expect(JSON.stringify(view.body)).not.toContain('configured-value');
  });
});

describe('log messages of a stdio service', () => {
  it('reach a client session that asked for them, at its level', async () => {
    const client = await connectClient();
    const messages: unknown[] = [];
    client.setNotificationHandler('notifications/message', (notification) => void messages.push(notification.params));
    try {
      await client.setLoggingLevel('info');
      await client.callTool({ name: 'log', arguments: { text: 'a warning from the stdio fixture' } });
      await eventually('the log message at the client', async () => messages.length > 0);
      expect(messages[0]).toMatchObject({ level: 'warning', data: 'a warning from the stdio fixture' });
    } finally {
      await client.close();
    }
  });
});

describe('a crashed stdio process', () => {
  it('that cannot be restarted leaves the service down, with the reason, its last catalog still listed', async () => {
    const { pid } = JSON.parse((await rpc(gateway.url, 'tools/call', { name: 'once__pid', arguments: {} })).body.result.content[0].text) as { pid: number };
    process.kill(pid, 'SIGKILL');
    const view = await eventually('once down after failed restarts', async () => {
      const body = (await api(gateway.url, 'GET', '/services/once')).body;
      return body.status === 'down' && /code 5/.test(body.lastError ?? '') ? body : undefined;
    });
    expect(view.lastError).toMatch(/the command exited with code 5/);
    expect(view.toolsFrom).toBe('fallback');
    expect(view.tools).toEqual(expect.arrayContaining([{ name: 'once__pid', upstreamName: 'pid' }]));
    const listed = (await rpc(gateway.url, 'tools/list')).body.result.tools.map((tool: { name: string }) => tool.name);
    expect(listed).toContain('once__pid');
    const call = await rpc(gateway.url, 'tools/call', { name: 'once__pid', arguments: {} });
    expect(call.body.error).toMatchObject({ code: -32010, message: expect.stringContaining('Service "once" is down') });
  });

  it('is restarted: the service goes down, comes back up, and its calls succeed again', async () => {
    const before = JSON.parse((await rpc(gateway.url, 'tools/call', { name: 'pid', arguments: {} })).body.result.content[0].text) as { pid: number };
    const groups = startedGroups(gateway.output(), 'fixture');
    process.kill(before.pid, 'SIGKILL');
    await eventually('the fixture service reported down', async () => gateway.output().includes('service \\"fixture\\" is down')).catch((error) => {
      throw new Error(`${error}\n${gateway.output().split('\n').slice(-15).join('\n')}`);
    });
    await eventually('a new fixture process', async () => startedGroups(gateway.output(), 'fixture').length > groups.length);
    await waitUntilUp(gateway.url, ['fixture']);
    const after = await rpc(gateway.url, 'tools/call', { name: 'pid', arguments: {} });
    const { pid } = JSON.parse(after.body.result.content[0].text) as { pid: number };
    expect(pid).not.toBe(before.pid);
    // The dead process's group is gone, guard included.
    await eventually('the dead process group to be gone', async () => groups.every((group) => !groupAlive(group)));
  });
});
