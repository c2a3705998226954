/**
 * What crosses replicas (issue 15, part 2), on real HTTP through Debian's HAProxy
 * (round-robin, no stickiness): three gateways in this process share one session-state
 * store and one message bus (the memory implementations, as the Postgres ones are shared
 * between processes), so an SDK client's sampling answers, subscriptions and DELETE land on
 * other replicas than the ones that need them, and still work.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@meshgate/service-kit';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../packages/gateway/src/app.js';
import { MemoryBusHub, MemorySessionStateStore } from '../../packages/gateway/src/cluster/memory.js';
import { loadConfig } from '../../packages/gateway/src/config/load.js';
import { MemoryStore } from '../../packages/gateway/src/registry/memory-store.js';
import { type ProtocolService, startProtocolService } from '../fixtures/protocol-service.js';
import { type RunningHaproxy, SERVED_BY, startHaproxy } from '../helpers/haproxy.js';
import { eventually, TOKEN, waitUntilUp } from '../helpers/mesh.js';
import { freePort } from '../helpers/process.js';

const NAMES = ['gw1', 'gw2', 'gw3'];
let alpha: ProtocolService;
let gateways: Gateway[];
let haproxy: RunningHaproxy;

beforeAll(async () => {
  alpha = await startProtocolService({ name: 'alpha', scheme: 'alpha', resources: 3 });
  const config = join(mkdtempSync(join(tmpdir(), 'meshgate-cfg-')), 'services.json');
  writeFileSync(config, JSON.stringify({ services: [{ name: 'alpha', url: `${alpha.url}/mcp`, credential: { bearer: TOKEN } }] }));
  const state = new MemorySessionStateStore();
  const hub = new MemoryBusHub();
  const logger = createLogger({ name: 'replicas-shared', level: 'silent', format: 'json' });
  gateways = [];
  for (const name of NAMES) {
    const env = {
      PORT: String(await freePort()),
      MESHGATE_CONFIG: config,
      MESHGATE_SESSION_KEYS: Buffer.alloc(32, 9).toString('base64'),
      MESHGATE_DB_PATH: ':memory:',
    };
    gateways.push(await startGateway(loadConfig(env), new MemoryStore(), logger, { cluster: { state, bus: hub.bus(name) } }));
  }
  await Promise.all(gateways.map((gateway) => waitUntilUp(gateway.server.url, ['alpha'])));
  haproxy = await startHaproxy(gateways.map((gateway, n) => ({ name: NAMES[n] as string, port: gateway.server.port })));
  await haproxy.waitForUp(NAMES);
}, 60_000);

afterAll(async () => {
  await haproxy?.stop();
  for (const gateway of gateways ?? []) await gateway.close();
  await alpha?.close();
});

/** Each POST's JSON-RPC message and the replica that answered it. */
interface Served {
  message: { id?: unknown; method?: string; result?: unknown };
  by: string;
}

async function connect(served: Served[]) {
  const client = new Client({ name: 'replicas-shared', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', model: 'test', content: { type: 'text', text: 'yes' } }));
  const transport = new StreamableHTTPClientTransport(new URL(`${haproxy.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const by = response.headers.get(SERVED_BY) ?? '';
      if (init?.method === 'POST' && typeof init.body === 'string') served.push({ message: JSON.parse(init.body), by });
      if (init?.method === 'GET') served.push({ message: { method: 'GET' }, by });
      return response;
    },
  });
  await client.connect(transport);
  return { client, transport };
}

describe('three replicas sharing session state and a bus, behind HAProxy', () => {
  it("relays a service's sampling request and takes the client's answer whichever replica it lands on", async () => {
    const served: Served[] = [];
    const { client } = await connect(served);
    for (let n = 0; n < 6; n += 1) {
      const result = await client.callTool({ name: 'ask', arguments: { question: `q${n}` } });
      expect(result.content).toEqual([{ type: 'text', text: 'alpha heard: yes' }]);
    }
    const calls = served.filter(({ message }) => message.method === 'tools/call');
    const answers = served.filter(({ message }) => String(message.id).startsWith('meshgate-relay-') && message.result !== undefined);
    expect(answers).toHaveLength(6);
    // Some answers reached another replica than the one running the call: the bus took them there.
    expect(answers.some((answer, n) => answer.by !== calls[n]?.by)).toBe(true);
    await client.close();
  });

  it('delivers a resource update to the GET stream on one replica when the subscription was taken by another', async () => {
    const served: Served[] = [];
    const { client } = await connect(served);
    const updates: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', (notification) => void updates.push(notification.params.uri));
    const streamOn = await eventually('the GET stream open', async () => served.find(({ message }) => message.method === 'GET')?.by);
    // Subscribe until the subscription lands on another replica than the stream's (round-robin: a try or two).
    const subscribedOn = () => served.filter(({ message }) => message.method === 'resources/subscribe').at(-1)?.by;
    await client.subscribeResource({ uri: 'alpha://item/1' });
    while (subscribedOn() === streamOn) {
      await client.unsubscribeResource({ uri: 'alpha://item/1' });
      await client.subscribeResource({ uri: 'alpha://item/1' });
    }
    expect(subscribedOn()).not.toBe(streamOn);
    await eventually('alpha holding the subscription', async () => alpha.subscriptions()['alpha://item/1'] === 1);
    await eventually('the update on the GET stream', async () => {
      await alpha.touch('alpha://item/1');
      return updates.length > 0;
    });
    expect(new Set(updates)).toEqual(new Set(['alpha://item/1']));
    // An unsubscribe landing on any replica reaches the one holding the subscription upstream.
    await client.unsubscribeResource({ uri: 'alpha://item/1' });
    await eventually('alpha no longer holding the subscription', async () => (alpha.subscriptions()['alpha://item/1'] ?? 0) === 0);
    await client.close();
  });

  it('a session DELETEd through one replica is 404 on all three, cached or not', async () => {
    const served: Served[] = [];
    const { client, transport } = await connect(served);
    for (let n = 0; n < 3; n += 1) await client.listTools(); // every replica caches the session
    const id = transport.sessionId as string;
    await transport.terminateSession();
    for (const gateway of gateways) {
      await eventually(`404 from ${gateway.server.url}`, async () => {
        const response = await fetch(`${gateway.server.url}/mcp`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${TOKEN}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': id,
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        await response.body?.cancel();
        return response.status === 404;
      });
    }
  });
});
