/**
 * Protocol behaviour that third-party software found wanting, each against real processes:
 * a dynamic SDK v2 backend behind a recording proxy (so the test sees exactly what reached
 * the backend), a real gateway, and SDK clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamicService, startDynamicService } from '../fixtures/dynamic-service.js';
import { connectClient, DYNAMIC, emptyConfig } from '../helpers/faults.js';
import { api, startGateway } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';
import { type RecordingBackend, startRecordingProxy } from '../security/harness.js';

let dynamic: DynamicService;
let backend: RecordingBackend;
let gateway: StartedProcess;

beforeAll(async () => {
  dynamic = await startDynamicService({ name: DYNAMIC });
  backend = await startRecordingProxy(`${dynamic.url.replace(/\/mcp$/, '')}/mcp`);
  gateway = await startGateway({ MESHGATE_CONFIG: emptyConfig() });
  const registered = await api(gateway.url, 'POST', '/register', { name: DYNAMIC, url: backend.url });
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
