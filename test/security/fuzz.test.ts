/**
 * Property-based fuzzing of the JSON-RPC entry point: arbitrary bodies and headers POSTed
 * to /mcp never crash the gateway, and every answer is either a well-formed JSON-RPC
 * response (a result or an error) or one of the documented bodiless statuses (202 for a
 * notification or a response without a session). Bounded so the run stays well under 30 s.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN } from '../helpers/mesh.js';
import type { StartedProcess } from '../helpers/process.js';
import { expectAlive, type RecordingBackend, recordingGateway } from './harness.js';

const context = recordingGateway();
let backend: RecordingBackend;
let gateway: StartedProcess;
beforeAll(() => ({ backend, gateway } = context));

const methods = fc.constantFrom('tools/call', 'tools/list', 'ping', 'initialize', 'prompts/list', 'resources/read', 'notifications/initialized', 'x', '');
const ids = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.object({ maxDepth: 1 }));
const jsonish = fc.jsonValue({ maxDepth: 4 });
/** Bodies that are almost JSON-RPC, plain JSON, and raw noise. */
const bodies = fc.oneof(
  fc
    .record(
      {
        jsonrpc: fc.constantFrom('2.0', '1.0', 2),
        id: ids,
        method: methods,
        params: fc.oneof(jsonish, fc.record({ name: fc.oneof(fc.string(), jsonish), arguments: jsonish })),
      },
      { requiredKeys: [] },
    )
    .map((message) => JSON.stringify(message)),
  jsonish.map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.nat({ max: 5_000 }).map((depth) => `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${'['.repeat(depth)}`),
);
const headerSets = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', '', 'application/vnd.api+json'),
    accept: fc.constantFrom('*/*', 'application/json', 'text/event-stream', 'application/json, text/event-stream', 'text/html', ''),
    'mcp-protocol-version': fc.constantFrom('2025-06-18', '2025-11-25', '1999-01-01', 'garbage'),
    'mcp-session-id': fc.oneof(fc.uuid(), fc.stringMatching(/^[!-~]{0,40}$/)),
    origin: fc.constantFrom('http://localhost:3000', 'http://evil.example', 'null'),
    'x-anything': fc.stringMatching(/^[ -~]{0,60}$/),
  },
  { requiredKeys: [] },
);

function wellFormed(status: number, text: string): boolean {
  if (text === '') return status === 202 || status === 204;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof body !== 'object' || body === null || body.jsonrpc !== '2.0' || !('id' in body)) return false;
  if ('error' in body) return Number.isInteger(body.error?.code) && typeof body.error.message === 'string' && !/\bat .+:\d+:\d+/.test(text);
  return 'result' in body && status === 200;
}

describe('fuzzing /mcp', () => {
  it('arbitrary bodies and headers always get a well-formed JSON-RPC answer or a documented bodiless status', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, headerSets, async (body, headers) => {
        const response = await fetch(`${gateway.url}/mcp`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, ...headers },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        // A session answer may be an SSE stream: take its data line.
        const payload = response.headers.get('content-type')?.startsWith('text/event-stream') ? (/^data: (.*)$/m.exec(text)?.[1] ?? '') : text;
        expect(wellFormed(response.status, payload), `${response.status} ${payload.slice(0, 300)}`).toBe(true);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 20_000 },
    );
    await expectAlive(gateway);
  }, 30_000);
});
