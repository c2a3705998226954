/**
 * The 2026-07-28 revision through the gateway, bridged to 2025-era services (issue 11
 * point 3): an SDK v2 client with `versionNegotiation: 'auto'` gets a service's sampling
 * and elicitation requests during a call as `input_required` rounds (answered by its own
 * handlers, retried with the gateway's sealed `requestState`), over several rounds; its
 * `subscriptions/listen` stream delivers a resource update and `tools/list_changed`; a
 * tampered, replayed or foreign `requestState` is refused with -32602; a client that did
 * not declare a capability gets -32021. All against real processes on 127.0.0.1.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamicService, startDynamicService } from '../fixtures/dynamic-service.js';
import { type InputRequiredService, startInputRequiredService } from '../fixtures/input-required-service.js';
import { type ProtocolService, startProtocolService } from '../fixtures/protocol-service.js';
import { api, eventually, FIXTURE_CREDENTIAL, modernPost, modernRpc, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

const REVISION = '2026-07-28';
/** What the raw requests' envelopes declare. */
const CAPABILITIES = { sampling: {}, elicitation: {} };

let gateway: StartedProcess;
let alpha: ProtocolService;
let late: DynamicService | undefined;
let asking: InputRequiredService;

beforeAll(async () => {
  alpha = await startProtocolService({ name: 'alpha', scheme: 'alpha', resources: 3 });
  asking = await startInputRequiredService();
  gateway = await startGateway({ USER_SERVICE_URL: 'http://127.0.0.1:9/mcp', SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp' });
  expect((await api(gateway.url, 'POST', '/register', { name: 'alpha', url: alpha.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
  expect((await api(gateway.url, 'POST', '/register', { name: 'asking', url: asking.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
});
afterAll(async () => {
  await stopAll();
  await Promise.all([alpha?.close(), late?.close(), asking?.close()]);
});

async function modernClient(capabilities: Record<string, unknown> = { sampling: {}, elicitation: {} }) {
  const client = new Client({ name: 'modern-auto', version: '1.0.0' }, { capabilities, versionNegotiation: { mode: 'auto' } });
  const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } });
  await client.connect(transport);
  expect(client.getNegotiatedProtocolVersion()).toBe(REVISION);
  return client;
}

/** How this file's raw 2026-07-28 POSTs are made: a client that takes sampling, elicitation and a streamed answer. */
const RAW = (name: string | undefined) => ({
  ...(name === undefined ? {} : { name }),
  capabilities: CAPABILITIES,
  accept: 'application/json, text/event-stream',
});

/** One raw 2026-07-28 POST: the status and the JSON answer. */
const post = (method: string, params: Record<string, unknown>, name?: string) => modernRpc(gateway.url, method, params, RAW(name));

/** One raw 2026-07-28 POST: the response as it came (JSON or an event stream). */
const send = (method: string, params: Record<string, unknown>, name?: string) => modernPost(gateway.url, method, params, RAW(name));

describe('a 2025-era service and a 2026-07-28 client, through the gateway', () => {
  it("delivers the service's sampling request during a call as input_required, and the client's answer back to it", async () => {
    const client = await modernClient();
    const questions: string[] = [];
    client.setRequestHandler('sampling/createMessage', async (request) => {
      const content = request.params.messages[0]?.content;
      questions.push(content !== undefined && !Array.isArray(content) && content.type === 'text' ? content.text : '?');
      return { role: 'assistant', content: { type: 'text', text: 'forty-two' }, model: 'test-model' };
    });
    const result = await client.callTool({ name: 'ask', arguments: { question: 'meaning of life?' } });
    expect(result.content).toEqual([{ type: 'text', text: 'alpha heard: forty-two' }]);
    expect(questions).toEqual(['meaning of life?']);
    await client.close();
  });

  it('delivers elicitation, and two requests one after the other as two rounds', async () => {
    const client = await modernClient();
    const asked: string[] = [];
    client.setRequestHandler('sampling/createMessage', async () => {
      asked.push('sampling');
      return { role: 'assistant', content: { type: 'text', text: 'sampled' }, model: 'test-model' };
    });
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(`elicitation: ${'message' in request.params ? request.params.message : ''}`);
      return { action: 'accept', content: { name: 'Ada' } };
    });
    const once = await client.callTool({ name: 'ask-name', arguments: {} });
    expect(once.content).toEqual([{ type: 'text', text: 'alpha heard: accept Ada' }]);
    const twice = await client.callTool({ name: 'ask-twice', arguments: { question: 'q' } });
    expect(twice.content).toEqual([{ type: 'text', text: 'alpha heard: sampled; accept Ada' }]);
    expect(asked).toEqual(['elicitation: Your name?', 'sampling', 'elicitation: Your name?']);
    await client.close();
  });

  it('refuses a tampered, replayed or foreign requestState with -32602, and a request the client did not declare with -32021', async () => {
    const first = await post('tools/call', { name: 'ask-name', arguments: {} }, 'ask-name');
    expect(first.status).toBe(200);
    expect(first.body.result.resultType).toBe('input_required');
    const [key, request] = Object.entries(first.body.result.inputRequests as Record<string, { method: string }>)[0]!;
    expect(request.method).toBe('elicitation/create');
    const state: string = first.body.result.requestState;
    const answers = { [key]: { action: 'accept', content: { name: 'Bo' } } };

    const tampered = `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`;
    const refused = await post('tools/call', { name: 'ask-name', arguments: {}, inputResponses: answers, requestState: tampered }, 'ask-name');
    expect(refused.body.error.code).toBe(-32602);
    expect(refused.body.error.message).toMatch(/requestState failed verification/);
    // Bound to the request it was issued for: another tool cannot use it.
    const foreign = await post('tools/call', { name: 'ask', arguments: {}, inputResponses: answers, requestState: state }, 'ask');
    expect(foreign.body.error.code).toBe(-32602);
    expect(foreign.body.error.message).toMatch(/issued for another request or caller/);

    const done = await post('tools/call', { name: 'ask-name', arguments: {}, inputResponses: answers, requestState: state }, 'ask-name');
    expect(done.body.result.content).toEqual([{ type: 'text', text: 'alpha heard: accept Bo' }]);
    const replayed = await post('tools/call', { name: 'ask-name', arguments: {}, inputResponses: answers, requestState: state }, 'ask-name');
    expect(replayed.body.error.code).toBe(-32602);
    expect(replayed.body.error.message).toMatch(/names no call waiting for input/);

    const undeclared = await post('tools/call', { name: 'ask', arguments: {}, _meta: { 'io.modelcontextprotocol/clientCapabilities': {} } }, 'ask');
    expect(undeclared.status).toBe(400);
    expect(undeclared.body.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { sampling: {} } } });
  });

  it("sends a call's log messages only to a request that names a log level in its envelope", async () => {
    const silent = await send('tools/call', { name: 'chatty', arguments: {} }, 'chatty');
    expect(silent.headers.get('content-type')).toBe('application/json');
    expect(await silent.text()).not.toContain('notifications/message');
    const heard = await send('tools/call', { name: 'chatty', arguments: {}, _meta: { 'io.modelcontextprotocol/logLevel': 'info' } }, 'chatty');
    expect(heard.headers.get('content-type')).toBe('text/event-stream');
    const events = (await heard.text())
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)));
    expect(events.map((event) => event.method ?? 'answer')).toEqual(['notifications/message', 'answer']);
    expect(events[1].result.content).toEqual([{ type: 'text', text: 'done' }]);
  });

  it('delivers a resource update and tools/list_changed on subscriptions/listen', async () => {
    const client = await modernClient();
    const updated: string[] = [];
    let listChanged = 0;
    client.setNotificationHandler('notifications/resources/updated', (notification) => {
      updated.push(notification.params.uri);
    });
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      listChanged += 1;
    });
    const subscription = await client.listen({ toolsListChanged: true, resourceSubscriptions: ['alpha://item/1', 'nowhere://x'] });
    // What the caller may not read is left out of the grant.
    expect(subscription.honoredFilter).toEqual({ toolsListChanged: true, resourceSubscriptions: ['alpha://item/1'] });
    await eventually('the upstream subscription', async () => alpha.subscriptions()['alpha://item/1'] === 1);
    expect(await alpha.touch('alpha://item/1')).toBe(1);
    await eventually('the resource update', async () => updated.includes('alpha://item/1'));

    late = await startDynamicService({ name: 'late' });
    expect((await api(gateway.url, 'POST', '/register', { name: 'late', url: late.url, credential: FIXTURE_CREDENTIAL })).status).toBe(201);
    await eventually('tools/list_changed', async () => listChanged > 0);

    await subscription.close();
    // Closing the stream gives the upstream subscription back.
    await eventually('the upstream unsubscription', async () => (alpha.subscriptions()['alpha://item/1'] ?? 0) === 0);
    await client.close();
  });
});

describe('a service that answers input_required, and a 2025-era session client', () => {
  it("gets the service's input request as elicitation/create on its session, and the service gets the answer on its retry", async () => {
    const client = new Client({ name: 'session-client', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push('message' in request.params ? request.params.message : '');
      return { action: 'accept', content: { ok: true } };
    });
    const result = await client.callTool({ name: 'confirm', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'confirmed: accept true (state state-1)' }]);
    expect(asked).toEqual(['Proceed?']);
    expect(asking.retries()).toEqual(['state-1']);
    await client.close();
  });
});
