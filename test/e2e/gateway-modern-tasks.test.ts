/**
 * The tasks extension of the 2026-07-28 revision (SEP-2663) through the gateway, bridged to
 * a service's MCP 2025-11-25 tasks (issue 11): the conformance fixture runs as a real
 * process behind a real gateway, and raw 2026-07-28 POSTs create tasks, poll them with
 * `tasks/get` (result and error inlined), answer a task's input requests with
 * `tasks/update`, cancel them, and compose a multi-round-trip prelude with a task. A client
 * that does not declare the extension gets synchronous calls and -32021 on the task methods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, FIXTURE_CREDENTIAL, modernRpc, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, startProcess, stopAll } from '../helpers/process.js';

const TASKS = 'io.modelcontextprotocol/tasks';
const WITH_TASKS = { elicitation: {}, extensions: { [TASKS]: {} } };

let gateway: StartedProcess;

beforeAll(async () => {
  const fixture = await startProcess({
    entry: 'packages/conformance-fixture/dist/main.js',
    name: 'conformance-fixture',
    env: { CONFORMANCE_FIXTURE_TOKEN: TOKEN, LOG_LEVEL: 'warn' },
  });
  gateway = await startGateway({ USER_SERVICE_URL: 'http://127.0.0.1:9/mcp', SHOPPING_SERVICE_URL: 'http://127.0.0.1:9/mcp' });
  const registered = await api(gateway.url, 'POST', '/register', { name: 'fixture', url: `${fixture.url}/mcp`, credential: FIXTURE_CREDENTIAL });
  expect(registered.status).toBe(201);
});
afterAll(stopAll);

/** A `tools/call` of a client that declares the extension. */
const call = (name: string, args: Record<string, unknown>, capabilities: Record<string, unknown> = WITH_TASKS) =>
  modernRpc(gateway.url, 'tools/call', { name, arguments: args }, { name, capabilities });
const task = (method: string, taskId: string, extra: Record<string, unknown> = {}, capabilities: Record<string, unknown> = WITH_TASKS) =>
  modernRpc(gateway.url, method, { taskId, ...extra }, { name: taskId, capabilities });

/** Polls `tasks/get` until the task is in `status` (or has ended). */
function until(taskId: string, status: string) {
  return eventually(`task ${taskId} to be ${status}`, async () => {
    const polled = await task('tasks/get', taskId);
    expect(polled.body.error, JSON.stringify(polled.body)).toBeUndefined();
    const now = polled.body.result.status as string;
    return now === status || ['completed', 'failed', 'cancelled'].includes(now) ? polled.body.result : undefined;
  });
}

describe('the 2026-07-28 tasks extension, bridged to a 2025-11-25 tasks service', () => {
  it('is advertised under capabilities.extensions on server/discover, never as the v1 tasks capability', async () => {
    const discovered = await eventually('the fixture to be connected', async () => {
      const answer = await modernRpc(gateway.url, 'server/discover', {});
      return answer.body.result?.capabilities?.extensions?.[TASKS] === undefined ? undefined : answer.body.result;
    });
    expect(discovered.capabilities.tasks).toBeUndefined();
  });

  it('creates a task for a task-supporting tool, under an id of the gateway, and inlines its result once completed', async () => {
    const created = await call('slow_compute', { seconds: 0.2, label: 'e2e' });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const flat = created.body.result;
    expect(flat).toMatchObject({ resultType: 'task', status: 'working', ttlMs: 300_000, pollIntervalMs: 200 });
    expect(flat.taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect(flat).not.toHaveProperty('task');
    expect(flat).not.toHaveProperty('ttl');
    const done = await until(flat.taskId, 'completed');
    expect(done).toMatchObject({ resultType: 'complete', taskId: flat.taskId, status: 'completed' });
    expect(done.result.content[0].text).toBe('Computed e2e after 0.2s');
    expect(done.result._meta?.['io.modelcontextprotocol/related-task']).toBeUndefined();
  });

  it('reports a tool error as completed with isError, and a failure of the service as failed with its error inlined', async () => {
    const failing = (await call('failing_job', {})).body.result;
    const completed = await until(failing.taskId, 'completed');
    expect(completed.status).toBe('completed');
    expect(completed.result.isError).toBe(true);
    const crashing = (await call('protocol_error_job', {})).body.result;
    const failed = await until(crashing.taskId, 'failed');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ message: expect.stringContaining('the worker crashed') });
    expect(failed).not.toHaveProperty('result');
  });

  it("surfaces a task's input requests on tasks/get, answers them with tasks/update, and the task resumes", async () => {
    const created = (await call('confirm_delete', { filename: 'notes.txt' })).body.result;
    const waiting = await until(created.taskId, 'input_required');
    expect(waiting.status).toBe('input_required');
    const [key, request] = Object.entries(waiting.inputRequests as Record<string, any>)[0] ?? [];
    expect(request).toMatchObject({ method: 'elicitation/create', params: { message: 'Delete notes.txt?' } });
    const ack = await task('tasks/update', created.taskId, { inputResponses: { [key as string]: { action: 'accept', content: { confirm: true } } } });
    expect(ack.body.result.resultType).toBe('complete');
    expect(ack.body.result).not.toHaveProperty('status');
    const done = await until(created.taskId, 'completed');
    expect(done.result.content[0].text).toBe('Deleted notes.txt');
  });

  it('answers -32021 on tasks/get when the task asks for input the client did not declare, and the task waits on', async () => {
    const created = (await call('confirm_delete', { filename: 'kept.txt' })).body.result;
    const withoutElicitation = { extensions: { [TASKS]: {} } };
    const refused = await eventually('tasks/get to refuse for the missing capability', async () => {
      const polled = await task('tasks/get', created.taskId, {}, withoutElicitation);
      return polled.body.error === undefined ? undefined : polled;
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { elicitation: {} } } });
    const waiting = await until(created.taskId, 'input_required');
    expect(Object.values(waiting.inputRequests)).toHaveLength(1);
    await task('tasks/cancel', created.taskId);
  });

  it('cancels a running task; the next tasks/get sees it cancelled', async () => {
    const created = (await call('slow_compute', { seconds: 60 })).body.result;
    const ack = await task('tasks/cancel', created.taskId);
    expect(ack.body.result).toMatchObject({ resultType: 'complete' });
    expect((await until(created.taskId, 'cancelled')).status).toBe('cancelled');
  });

  it('gathers input with input_required first, then creates the task with what the client answered', async () => {
    const first = (await call('test_tool_with_task', {})).body.result;
    expect(first.resultType).toBe('input_required');
    const [key] = Object.keys(first.inputRequests);
    const second = await modernRpc(
      gateway.url,
      'tools/call',
      {
        name: 'test_tool_with_task',
        arguments: {},
        inputResponses: { [key as string]: { action: 'accept', content: { name: 'Alice' } } },
        requestState: first.requestState,
      },
      { name: 'test_tool_with_task', capabilities: WITH_TASKS },
    );
    expect(second.body.result.resultType, JSON.stringify(second.body)).toBe('task');
    expect(second.body.result).not.toHaveProperty('requestState');
    const done = await until(second.body.result.taskId, 'completed');
    expect(done.result.content[0].text).toBe('Hello from the task, Alice!');
  });

  it('without the extension: task-supporting tools run synchronously, and the task methods answer -32021', async () => {
    const sync = await call('slow_compute', { seconds: 0, label: 'sync' }, {});
    expect(sync.body.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'Computed sync after 0s' }] });
    expect(sync.body.result).not.toHaveProperty('taskId');
    const created = (await call('slow_compute', { seconds: 60 })).body.result;
    for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
      const refused = await task(method, created.taskId, {}, {});
      expect(refused.status, method).toBe(400);
      expect(refused.body.error.code, method).toBe(-32021);
    }
    await task('tasks/cancel', created.taskId);
  });

  it('answers -32602 for a task id it never issued, and -32601 for the removed tasks/result', async () => {
    expect((await task('tasks/get', 'not-a-task')).body.error.code).toBe(-32602);
    expect((await task('tasks/result', 'not-a-task')).body.error.code).toBe(-32601);
  });
});
