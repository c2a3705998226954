/**
 * Protocol behaviour that third-party software found wanting, each against real processes:
 * a dynamic SDK v2 backend behind a recording proxy (so the test sees exactly what reached
 * the backend), a real gateway, and SDK clients.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamicService, startDynamicService } from '../fixtures/dynamic-service.js';
import { connectClient, DYNAMIC, emptyConfig } from '../helpers/faults.js';
import { api, eventually, FIXTURE_CREDENTIAL, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { type RecordingBackend, startRecordingProxy } from '../security/harness.js';

let dynamic: DynamicService;
let backend: RecordingBackend;
let gateway: StartedProcess;

beforeAll(async () => {
  dynamic = await startDynamicService({ name: DYNAMIC, sideLogs: true });
  backend = await startRecordingProxy(`${dynamic.url.replace(/\/mcp$/, '')}/mcp`);
  gateway = await startGateway({ MESHGATE_CONFIG: emptyConfig() });
  const registered = await api(gateway.url, 'POST', '/register', { name: DYNAMIC, url: backend.url, credential: FIXTURE_CREDENTIAL });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
});
afterAll(async () => {
  await gateway?.kill();
  await backend?.close();
  await dynamic?.close();
  await stopAll();
});

describe('progress tokens upstream', () => {
  it("two clients' concurrent calls with the same progress token each get their own progress, under distinct tokens upstream", async () => {
    const [a, b] = await Promise.all([connectClient(gateway.url, 'progress-a'), connectClient(gateway.url, 'progress-b')]);
    try {
      const seen: Record<string, { progress: number; total?: number }[]> = { a: [], b: [] };
      const steps = { a: 3, b: 5 };
      // Both clients are fresh, so the SDK gives both calls the same message id, and with it the same progress token.
      const calls = (['a', 'b'] as const).map((who, index) =>
        [a, b][index]!.callTool(
          { name: 'progress', arguments: { steps: steps[who], delayMs: 30 } },
          { onprogress: (progress) => void seen[who]!.push(progress) },
        ),
      );
      const results = await Promise.all(calls);
      expect(results.map((result) => result.structuredContent)).toEqual([
        { steps: 3, progressSent: 3, hadToken: true },
        { steps: 5, progressSent: 5, hadToken: true },
      ]);
      expect(seen['a']?.map((p) => [p.progress, p.total])).toEqual([
        [1, 3],
        [2, 3],
        [3, 3],
      ]);
      expect(seen['b']?.map((p) => [p.progress, p.total])).toEqual([
        [1, 5],
        [2, 5],
        [3, 5],
        [4, 5],
        [5, 5],
      ]);

      const upstreamTokens = backend.seen
        .filter((request) => request.method === 'POST' && request.body.includes('"tools/call"'))
        .map((request) => (JSON.parse(request.body) as { params: { _meta?: { progressToken?: unknown } } }).params._meta?.progressToken);
      expect(upstreamTokens).toHaveLength(2);
      expect(new Set(upstreamTokens).size).toBe(2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

/** A client that declares roots and answers roots/list with `roots()`. */
async function rootsClient(name: string, roots: () => { uri: string; name: string }[]) {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { roots: { listChanged: true } } });
  client.setRequestHandler('roots/list', async () => ({ roots: roots() }));
  const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } });
  await client.connect(transport);
  return { client, transport };
}
const urisOf = () => dynamic.knownRoots()?.map((root) => root.uri);

describe('roots outside any call', () => {
  it("a service's own roots/list reaches the one roots client; with two it gets none; list_changed is forwarded", async () => {
    let alpha = [{ uri: 'file:///work/alpha', name: 'alpha' }];
    const first = await rootsClient('roots-first', () => alpha);
    try {
      // Opening its stream tells the service roots changed; the service asks, and only this client can answer.
      await eventually('the service to learn the first client roots', async () => urisOf()?.[0] === 'file:///work/alpha');

      alpha = [{ uri: 'file:///work/alpha-2', name: 'alpha' }];
      await first.client.sendRootsListChanged();
      await eventually('the service to learn the changed roots', async () => urisOf()?.[0] === 'file:///work/alpha-2');

      const second = await rootsClient('roots-second', () => [{ uri: 'file:///work/beta', name: 'beta' }]);
      // Two sessions with roots share the service: whose would it be? Neither: no roots.
      await eventually('the service to get no roots while two clients have them', async () => urisOf()?.length === 0);
      await second.transport.terminateSession();
      await second.client.close();
      await eventually('the service to learn the remaining client roots again', async () => urisOf()?.[0] === 'file:///work/alpha-2');
    } finally {
      await first.client.close();
    }
  });
});

describe("a service's log messages outside the call's stream", () => {
  it('reach only the session whose call was the one in flight, not another session that asked for logs', async () => {
    const [caller, idle] = await Promise.all([connectClient(gateway.url, 'logs-caller'), connectClient(gateway.url, 'logs-idle')]);
    try {
      const heard: Record<string, string[]> = { caller: [], idle: [] };
      for (const [who, client] of [
        ['caller', caller],
        ['idle', idle],
      ] as const) {
        client.setNotificationHandler('notifications/message', (notification) => void heard[who]!.push(String(notification.params.data)));
        await client.setLoggingLevel('debug');
      }
      const result = await caller.callTool({ name: 'log-aside', arguments: { count: 5 } });
      expect(result.structuredContent).toEqual({ sent: 5 });
      expect(heard['caller']).toEqual(['aside 1 of 5', 'aside 2 of 5', 'aside 3 of 5', 'aside 4 of 5', 'aside 5 of 5']);
      await idle.ping(); // a round trip on the idle session, after which a leaked message would have arrived
      expect(heard['idle']).toEqual([]);
    } finally {
      await Promise.all([caller.close(), idle.close()]);
    }
  });
});
