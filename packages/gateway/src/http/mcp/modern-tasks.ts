import { CLIENT_CAPABILITIES_META_KEY, MissingRequiredClientCapabilityError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { toRpcError } from '../../errors.js';
import type { CancelSignal } from '../../federation/cancel.js';
import type { Params, RequestContext, Result } from '../../federation/context.js';
import type { MethodTable } from '../../federation/methods.js';
import { RELATED_TASK_META_KEY } from '../../federation/tasks.js';
import type { Downstream } from '../../upstream/relay.js';
import { HeldCall } from './input-required.js';

/** The tasks extension of the 2026-07-28 revision (SEP-2663). */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** Its methods; `tasks/result` and `tasks/list` are gone from the revision (-32601). */
export const TASK_METHODS = new Set(['tasks/get', 'tasks/update', 'tasks/cancel']);
/** How long a `tasks/get` of a task that just asked for input waits for the service's requests to arrive. */
const FIRST_INPUT_WAIT_MS = 2_000;

type Context = (method: string, downstream: Downstream, signal: CancelSignal) => RequestContext;

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Whether a request's `_meta` client capabilities declare the tasks extension. */
export function declaresTasks(meta: Record<string, unknown>): boolean {
  const capabilities = meta[CLIENT_CAPABILITIES_META_KEY];
  return isRecord(capabilities) && isRecord(capabilities['extensions']) && capabilities['extensions'][TASKS_EXTENSION] !== undefined;
}

/** The -32021 of a tasks method from a client that did not declare the extension. */
export function tasksUndeclared(): MissingRequiredClientCapabilityError {
  return new MissingRequiredClientCapabilityError(
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    `${TASKS_EXTENSION} methods need the client to declare that extension in _meta clientCapabilities`,
  );
}

/**
 * The params a 2026-07-28 `tools/call` goes upstream with: the service decides on tasks, so
 * a client's (v1-style) `task` hint is dropped; a client that declares the extension calling
 * a tool that supports tasks gets one, as a 2025-11-25 task of the service (`task` in params).
 */
export function taskCallParams(params: Params, meta: Record<string, unknown>, tool: unknown): Params {
  if (params === undefined) return params;
  const support = isRecord(tool) && isRecord(tool['execution']) ? tool['execution']['taskSupport'] : undefined;
  if ((support === 'optional' || support === 'required') && declaresTasks(meta)) return { ...params, task: {} };
  if (!('task' in params)) return params;
  const { task: _hint, ...rest } = params;
  return rest;
}

/** The service's 2025-11-25 `Task` in the extension's wire names (`ttlMs`, `pollIntervalMs`). */
function taskFields(task: Record<string, unknown>): Result {
  const fields: Result = { taskId: task['taskId'], status: task['status'], createdAt: task['createdAt'], lastUpdatedAt: task['lastUpdatedAt'] };
  fields['ttlMs'] = typeof task['ttl'] === 'number' && Number.isSafeInteger(task['ttl']) && task['ttl'] > 0 ? task['ttl'] : null;
  if (typeof task['pollInterval'] === 'number' && Number.isSafeInteger(task['pollInterval']) && task['pollInterval'] > 0)
    fields['pollIntervalMs'] = task['pollInterval'];
  if (typeof task['statusMessage'] === 'string') fields['statusMessage'] = task['statusMessage'];
  return fields;
}

/** A `tools/call` result: a service's `CreateTaskResult` (already under the gateway's task id) becomes the extension's flat one. */
export function modernCallResult(result: Result): Result {
  const task = result['task'];
  if (!isRecord(task) || typeof task['taskId'] !== 'string') return result;
  return { resultType: 'task', ...taskFields(task) };
}

/**
 * `tasks/get`, `tasks/update` and `tasks/cancel` of the extension, bridged to the 2025-11-25
 * tasks of the owning service through the method table (federation.ts: the TaskRouter binds
 * each gateway task id to its creator and service). A completed task's `tasks/get` inlines
 * the service's `tasks/result`; a failed one its error. A task in `input_required` has its
 * requests to the client sent during `tasks/result` (2025-11-25): the gateway keeps that
 * `tasks/result` running as a HeldCall (one per task), shows the requests it holds as
 * `inputRequests`, and `tasks/update` answers them.
 */
export class ModernTasks {
  /** The running `tasks/result` of each task waiting for input, by gateway task id. */
  readonly #relays = new Map<string, HeldCall>();

  constructor(private readonly methods: MethodTable) {}

  /** Answers one of TASK_METHODS; `context` makes the request context of each method it runs upstream. */
  async run(
    method: string,
    params: Params,
    meta: Record<string, unknown>,
    inputResponses: unknown,
    context: Context,
    here: Downstream,
    signal: CancelSignal,
  ): Promise<Result> {
    if (!declaresTasks(meta)) throw tasksUndeclared();
    const ask = (name: string) => this.methods.run(context(name, here, signal), params);
    if (method === 'tasks/cancel') {
      await ask('tasks/cancel');
      this.#relays.get(String(params?.['taskId']))?.drop('the task was cancelled');
      return {};
    }
    const task = await ask('tasks/get');
    const id = String(task['taskId']);
    if (method === 'tasks/update') {
      this.#relays.get(id)?.answer(inputResponses);
      return {};
    }
    const detailed: Result = taskFields(task);
    if (task['status'] === 'completed' || task['status'] === 'failed') {
      try {
        const result = await ask('tasks/result');
        if (task['status'] === 'completed') detailed['result'] = withoutRelatedTask(result);
        else detailed['error'] = { code: -32603, message: typeof task['statusMessage'] === 'string' ? task['statusMessage'] : 'The task failed' };
      } catch (error) {
        detailed['error'] = this.methods.toWire(error, 'tasks/result');
      }
    } else if (task['status'] === 'input_required') {
      detailed['inputRequests'] = await this.#inputRequests(id, params, meta, context);
    }
    return detailed;
  }

  /** The requests the task's service waits on, from the task's running `tasks/result` (started here if none runs). */
  async #inputRequests(id: string, params: Params, meta: Record<string, unknown>, context: Context): Promise<Record<string, unknown>> {
    let relay = this.#relays.get(id);
    if (relay === undefined) {
      const started = new HeldCall(id);
      started.capabilities = capabilitiesOf(meta);
      relay = started;
      this.#relays.set(id, started);
      const ctx = context('tasks/result', started, started.abort.signal);
      started.run(async () => {
        try {
          return await this.methods.run(ctx, params);
        } finally {
          if (this.#relays.get(id) === started) this.#relays.delete(id);
        }
      });
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), FIRST_INPUT_WAIT_MS);
      });
      const step = await Promise.race([started.next(), waited]);
      clearTimeout(timer);
      // The service asked for what this client did not declare: tasks/get says so (-32021), the task waits on.
      if (step?.kind === 'failed' && toRpcError(step.error).code === ProtocolErrorCode.MissingRequiredClientCapability) throw step.error;
    }
    relay.capabilities = capabilitiesOf(meta);
    return relay.pending();
  }

  close(): void {
    for (const relay of this.#relays.values()) relay.drop('the gateway is shutting down');
    this.#relays.clear();
  }
}

function capabilitiesOf(meta: Record<string, unknown>): Record<string, unknown> {
  const capabilities = meta[CLIENT_CAPABILITIES_META_KEY];
  return isRecord(capabilities) ? capabilities : {};
}

/** The inlined result carries no related-task `_meta` (the task id is at the root of tasks/get). */
function withoutRelatedTask(result: Result): Result {
  const meta = result['_meta'];
  if (!isRecord(meta) || !(RELATED_TASK_META_KEY in meta)) return result;
  const { [RELATED_TASK_META_KEY]: _related, ...rest } = meta;
  return Object.keys(rest).length === 0 ? withoutKey(result, '_meta') : { ...result, _meta: rest };
}

function withoutKey(record: Result, key: string): Result {
  const { [key]: _dropped, ...rest } = record;
  return rest;
}
