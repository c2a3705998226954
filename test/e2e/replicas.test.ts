/**
 * Several replicas, one gateway (issue 15): three gateway processes sharing session keys
 * behind Debian's HAProxy, round-robin with no stickiness. An SDK v2 client's requests land
 * on every replica (HAProxy's `x-served-by` on each answer says which), and its session
 * works on all of them: each replica rebuilds it from the sealed id on first sight. A
 * replica killed with SIGKILL under load: the session goes on through the others, and the
 * only calls that fail are those that were in flight on the killed one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProtocolService, startProtocolService } from '../fixtures/protocol-service.js';
import { type RunningHaproxy, SERVED_BY, startHaproxy } from '../helpers/haproxy.js';
import { startGateway, TOKEN, waitUntilUp } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

const SESSION_KEYS = `${randomBytes(32).toString('base64')},${randomBytes(32).toString('base64url')}`;
const NAMES = ['gw1', 'gw2', 'gw3'];

let alpha: ProtocolService;
let replicas: StartedProcess[];
let haproxy: RunningHaproxy;

beforeAll(async () => {
  alpha = await startProtocolService({ name: 'alpha', scheme: 'alpha', resources: 3 });
  const config = join(mkdtempSync(join(tmpdir(), 'meshgate-cfg-')), 'services.json');
  writeFileSync(config, JSON.stringify({ services: [{ name: 'alpha', url: `${alpha.url}/mcp`, credential: { bearer: TOKEN } }] }));
  replicas = await Promise.all(NAMES.map(() => startGateway({ MESHGATE_CONFIG: config, MESHGATE_SESSION_KEYS: SESSION_KEYS })));
  await Promise.all(replicas.map((replica) => waitUntilUp(replica.url, ['alpha'])));
  haproxy = await startHaproxy(replicas.map((replica, n) => ({ name: NAMES[n] as string, port: replica.port })));
  await haproxy.waitForUp(NAMES);
}, 60_000);

afterAll(async () => {
  await haproxy?.stop();
  await stopAll();
  await alpha?.close();
});

/** An SDK v2 client through HAProxy; `served` collects which replica answered each HTTP request. */
async function connect(served: string[]): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'replicas-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', model: 'test', content: { type: 'text', text: 'yes' } }));
  const transport = new StreamableHTTPClientTransport(new URL(`${haproxy.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const by = response.headers.get(SERVED_BY);
      if (by !== null && (init?.method ?? 'GET') === 'POST') served.push(by);
      return response;
    },
  });
  await client.connect(transport);
  return { client, transport };
}

describe('three replicas behind HAProxy, no stickiness', () => {
  it('serve one SDK session on every replica: lists, calls, progress, pings', async () => {
    const served: string[] = [];
    const { client, transport } = await connect(served);
    expect(transport.sessionId).toMatch(/^s1\.[A-Za-z0-9_-]+$/);
    for (let round = 0; round < 2; round += 1) {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('count');
      expect((await client.listResources()).resources.length).toBeGreaterThan(0);
      expect((await client.listPrompts()).prompts.map((prompt) => prompt.name)).toContain('greet');
      const progress: number[] = [];
      const counted = await client.callTool({ name: 'count', arguments: { to: 3 } }, { onprogress: (p) => void progress.push(p.progress) });
      expect(counted.content).toEqual([{ type: 'text', text: 'counted to 3' }]);
      expect(progress).toEqual([1, 2, 3]);
      await client.ping();
    }
    // Every replica answered some of this one session's requests.
    expect(new Set(served)).toEqual(new Set(NAMES));
    await client.close();
  });

  it('an id sealed with other keys, or altered, is 404 on every replica', async () => {
    const served: string[] = [];
    const { client, transport } = await connect(served);
    const id = transport.sessionId as string;
    const altered = `${id.slice(0, 10)}${id[10] === 'A' ? 'B' : 'A'}${id.slice(11)}`;
    for (const bad of [altered, `s1.${randomBytes(120).toString('base64url')}`]) {
      for (const replica of replicas) {
        const response = await fetch(`${replica.url}/mcp`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${TOKEN}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': bad,
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        expect(response.status).toBe(404);
        expect((await response.json()).error.code).toBe(-32001);
      }
    }
    await client.close();
  });

  it('a replica killed with SIGKILL under load: the session goes on through the others, and only calls in flight on it fail', async () => {
    const served: string[] = [];
    const { client } = await connect(served);
    const victim = replicas[1] as StartedProcess;
    /** Each call: whether it started before the kill, and how it ended. */
    const calls: { beforeKill: boolean; ok: boolean }[] = [];
    let killed = false;
    // Four callers, each calling `count` (about 100 ms each) over and over, until 40 calls started after the kill succeeded.
    const callers = Array.from({ length: 4 }, async () => {
      while (calls.filter((call) => !call.beforeKill && call.ok).length < 40) {
        const beforeKill = !killed;
        try {
          await client.callTool({ name: 'count', arguments: { to: 5 } });
          calls.push({ beforeKill, ok: true });
        } catch {
          calls.push({ beforeKill, ok: false });
        }
      }
    });
    // Kill once every replica has served calls of this session.
    while (new Set(served).size < 3) await new Promise((wake) => setTimeout(wake, 20));
    // The flag goes up once the process is gone: a call started before then may have been in flight on it.
    await victim.kill();
    killed = true;
    const inFlightAtKill = 4;
    await Promise.all(callers);
    const failed = calls.filter((call) => !call.ok);
    // The calls that failed were all in flight when the replica died (at most the four callers' calls), and none started after.
    expect(failed.every((call) => call.beforeKill)).toBe(true);
    expect(failed.length).toBeLessThanOrEqual(inFlightAtKill);
    expect(calls.filter((call) => call.beforeKill && call.ok).length).toBeGreaterThan(0);
    // After the kill, the session is served by the two others only, and still works.
    await haproxy.waitForUp(['gw1', 'gw3']);
    const after: string[] = [];
    served.length = 0;
    for (let n = 0; n < 6; n += 1) {
      await client.ping();
      after.push(...served.splice(0));
    }
    expect(new Set(after)).toEqual(new Set(['gw1', 'gw3']));
    console.info(`replica killed under load: ${failed.length} of ${calls.length} calls failed, all in flight at the kill`);
    await client.close();
  });
});
