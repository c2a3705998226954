/**
 * The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) on the 2026-07-28 path:
 * task-supporting tools answer a `CreateTaskResult` (`resultType: "task"`) when the
 * request declares the extension in its client capabilities, and `tasks/get`,
 * `tasks/update` and `tasks/cancel` drive the task. SDK 2.4.0 has no runtime for the
 * extension (only its wire types), so the store and the three methods are here.
 *
 * - A task-supporting tool (`taskSupport: 'optional'`) called without the extension runs
 *   synchronously; a task-required one is refused with -32021 naming the extension.
 * - A task asks for client input by parking in `input_required` with `inputRequests`;
 *   `tasks/update` answers any subset of them, and the task resumes once all are answered.
 * - A tool error completes the task with `result.isError`; a thrown error fails it with
 *   an inlined JSON-RPC `error`; `tasks/cancel` settles a live task as `cancelled`.
 * - Tasks stay readable for `ttlMs` after creation, then are forgotten; at most
 *   `MAX_TASKS` exist at once (the fixture serves one suite, not a fleet).
 */
import { randomUUID } from 'node:crypto';
import {
  acceptedContent,
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  type InputRequest,
  inputRequired,
  isInputRequiredResult,
  type McpServer,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

const TTL_MS = 5 * 60_000;
const POLL_INTERVAL_MS = 200;
const MAX_TASKS = 1_000;

type Status = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';
const TERMINAL: ReadonlySet<Status> = new Set(['completed', 'failed', 'cancelled']);

/** What a running task can do: notice cancellation and ask the client for input. */
export interface TaskJob {
  readonly signal: AbortSignal;
  /** Parks the task in `input_required` until every request is answered; resolves with the answers by key. */
  ask(requests: Record<string, InputRequest>): Promise<Record<string, unknown>>;
}

interface Ask {
  readonly keys: Set<string>;
  readonly answers: Record<string, unknown>;
  resolve(answers: Record<string, unknown>): void;
  reject(error: Error): void;
}

interface TaskRecord {
  readonly taskId: string;
  status: Status;
  readonly createdAt: string;
  lastUpdatedAt: string;
  result?: CallToolResult;
  error?: { code: number; message: string };
  readonly pending: Map<string, InputRequest>;
  readonly asks: Set<Ask>;
  readonly abort: AbortController;
  readonly expiry: NodeJS.Timeout;
  /** Told once on the next status change (the 2025-11-25 `tasks/result` waits with it). */
  readonly watchers: Set<() => void>;
}

/** The tasks of one fixture process, shared by every per-request server. */
export class TaskStore {
  readonly #tasks = new Map<string, TaskRecord>();

  /** Creates a task running `work`; resolves once `tasks/get` can see it. */
  start(work: (job: TaskJob) => Promise<CallToolResult>): TaskRecord {
    if (this.#tasks.size >= MAX_TASKS)
      throw new ProtocolError(ProtocolErrorCode.InternalError, `The fixture already holds ${MAX_TASKS} tasks; retry once some expire`);
    const taskId = randomUUID();
    const now = new Date().toISOString();
    const expiry = setTimeout(() => this.#forget(taskId), TTL_MS);
    expiry.unref();
    const task: TaskRecord = {
      taskId,
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      pending: new Map(),
      asks: new Set(),
      abort: new AbortController(),
      expiry,
      watchers: new Set(),
    };
    this.#tasks.set(taskId, task);
    const job: TaskJob = { signal: task.abort.signal, ask: (requests) => this.#ask(task, requests) };
    work(job).then(
      (result) => this.#settle(task, 'completed', { result }),
      (error: unknown) =>
        this.#settle(task, 'failed', { error: { code: ProtocolErrorCode.InternalError, message: error instanceof Error ? error.message : String(error) } }),
    );
    return task;
  }

  get(taskId: string): TaskRecord {
    const task = this.#tasks.get(taskId);
    if (task === undefined) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown taskId "${taskId}" (never created here, or expired)`);
    return task;
  }

  /** Answers the pending requests named in `responses`; other keys are ignored. */
  update(taskId: string, responses: Record<string, unknown>): void {
    const task = this.get(taskId);
    for (const [key, response] of Object.entries(responses)) {
      if (!task.pending.delete(key)) continue;
      for (const ask of task.asks) {
        if (!ask.keys.has(key)) continue;
        ask.answers[key] = response;
        if (Object.keys(ask.answers).length === ask.keys.size) {
          task.asks.delete(ask);
          ask.resolve(ask.answers);
        }
      }
    }
    if (task.status === 'input_required' && task.pending.size === 0) this.#touch(task, 'working');
  }

  /** Cancels a live task (a terminal one is left as it is: cancel is idempotent). */
  cancel(taskId: string): void {
    const task = this.get(taskId);
    if (TERMINAL.has(task.status)) return;
    this.#settle(task, 'cancelled', {});
    task.abort.abort(new Error('task cancelled'));
    for (const ask of task.asks) ask.reject(new Error('task cancelled'));
    task.asks.clear();
  }

  close(): void {
    for (const task of this.#tasks.values()) {
      clearTimeout(task.expiry);
      task.abort.abort(new Error('fixture stopping'));
    }
    this.#tasks.clear();
  }

  #ask(task: TaskRecord, requests: Record<string, InputRequest>): Promise<Record<string, unknown>> {
    if (TERMINAL.has(task.status)) return Promise.reject(new Error('task is no longer running'));
    return new Promise((resolve, reject) => {
      task.asks.add({ keys: new Set(Object.keys(requests)), answers: {}, resolve, reject });
      for (const [key, request] of Object.entries(requests)) task.pending.set(key, request);
      this.#touch(task, 'input_required');
    });
  }

  #settle(task: TaskRecord, status: Status, outcome: Pick<TaskRecord, 'result' | 'error'>): void {
    if (TERMINAL.has(task.status)) return; // a cancelled task's late outcome is dropped
    task.pending.clear();
    if (outcome.result !== undefined) task.result = outcome.result;
    if (outcome.error !== undefined) task.error = outcome.error;
    this.#touch(task, status);
  }

  #touch(task: TaskRecord, status: Status): void {
    task.status = status;
    task.lastUpdatedAt = new Date().toISOString();
    const watchers = [...task.watchers];
    task.watchers.clear();
    for (const watcher of watchers) watcher();
  }

  /** Resolves on the task's next status change. */
  changed(task: TaskRecord): Promise<void> {
    return new Promise((resolve) => task.watchers.add(resolve));
  }

  #forget(taskId: string): void {
    this.get(taskId).abort.abort(new Error('task expired'));
    this.#tasks.delete(taskId);
  }
}

/** The flat `Result & Task` answer of a `tools/call` that created a task. */
function createTaskResult(task: TaskRecord) {
  return {
    resultType: 'task',
    taskId: task.taskId,
    status: task.status,
    createdAt: task.createdAt,
    lastUpdatedAt: task.lastUpdatedAt,
    ttlMs: TTL_MS,
    pollIntervalMs: POLL_INTERVAL_MS,
  };
}

/** The `tasks/get` DetailedTask: `result` once completed, `error` once failed, `inputRequests` while waiting. */
function detailedTask(task: TaskRecord) {
  return {
    ...createTaskResult(task),
    resultType: 'complete',
    ...(task.status === 'input_required' ? { inputRequests: Object.fromEntries(task.pending) } : {}),
    ...(task.status === 'completed' && task.result !== undefined ? { result: task.result } : {}),
    ...(task.status === 'failed' && task.error !== undefined ? { error: task.error } : {}),
  };
}

/** Whether this request's client capabilities (2026-07-28 `_meta` envelope) declare the tasks extension. */
function declaresTasks(ctx: ServerContext): boolean {
  const envelope: Record<string, unknown> | undefined = ctx.mcpReq.envelope;
  const capabilities = envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  return capabilities?.extensions?.[TASKS_EXTENSION] !== undefined;
}

const requireTasks = () =>
  new MissingRequiredClientCapabilityError(
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    `This request needs the client to declare the ${TASKS_EXTENSION} extension in its capabilities`,
  );

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((wake, fail) => {
    if (signal.aborted) return fail(signal.reason);
    const timer = setTimeout(wake, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      fail(signal.reason);
    });
  });

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

const confirmRequest = (message: string) =>
  inputRequired.elicit({ message, requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean' } }, required: ['confirm'] } });

/** A task-supporting tool: its arguments, how it runs as a task, and (optionally) an MRTR prelude. */
interface TaskTool<A extends z.ZodObject> {
  description: string;
  args: A;
  taskSupport: 'optional' | 'required';
  /** Rounds gathered with `input_required` before the task is created; returns what `run` gets, or the round's result. */
  gather?: (inputResponses: Record<string, unknown> | undefined) => { gathered: Record<string, unknown> } | ReturnType<typeof inputRequired>;
  run(args: z.infer<A>, job: TaskJob, gathered: Record<string, unknown>): Promise<CallToolResult>;
}

const taskTool = <A extends z.ZodObject>(tool: TaskTool<A>) => tool as unknown as TaskTool<z.ZodObject>;

const TASK_TOOLS: Record<string, TaskTool<z.ZodObject>> = {
  slow_compute: taskTool({
    description: 'Sleeps `seconds` seconds, then reports; a task when the client supports tasks',
    args: z.object({ seconds: z.number().min(0).max(600), label: z.string().optional() }),
    taskSupport: 'optional',
    run: async ({ seconds, label }, job) => {
      await sleep(seconds * 1000, job.signal);
      return text(`Computed ${label ?? 'result'} after ${seconds}s`);
    },
  }),
  failing_job: taskTool({
    description: 'A task that reports a tool execution error after about a second',
    args: z.object({}),
    taskSupport: 'required',
    run: async (_args, job) => {
      await sleep(1000, job.signal);
      return { content: [{ type: 'text', text: 'The job failed: the input data is invalid' }], isError: true };
    },
  }),
  protocol_error_job: taskTool({
    description: 'A task that fails with an internal (protocol-level) error',
    args: z.object({}),
    taskSupport: 'required',
    run: async (_args, job) => {
      await sleep(200, job.signal);
      throw new Error('protocol_error_job: the worker crashed');
    },
  }),
  confirm_delete: taskTool({
    description: 'A task that asks the user to confirm deleting a file, then reports',
    args: z.object({ filename: z.string() }),
    taskSupport: 'required',
    run: async ({ filename }, job) => {
      const answers = await job.ask({ confirm: confirmRequest(`Delete ${filename}?`) });
      const confirmed = acceptedContent(answers, 'confirm')?.['confirm'] === true;
      return text(confirmed ? `Deleted ${filename}` : `Kept ${filename}`);
    },
  }),
  multi_input: taskTool({
    description: 'A task that asks two questions at once, then reports both answers',
    args: z.object({}),
    taskSupport: 'required',
    run: async (_args, job) => {
      const answers = await job.ask({
        first: inputRequired.elicit({
          message: 'First name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        }),
        second: inputRequired.elicit({
          message: 'Second name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        }),
      });
      return text(`Got ${String(acceptedContent(answers, 'first')?.['name'])} and ${String(acceptedContent(answers, 'second')?.['name'])}`);
    },
  }),
  test_tool_with_task: taskTool({
    description: 'Asks for a name with input_required, then greets it from a task',
    args: z.object({}),
    taskSupport: 'required',
    gather: (inputResponses) => {
      const answer = acceptedContent(inputResponses, 'user_name', z.object({ name: z.string() }));
      if (answer !== undefined) return { gathered: { name: answer.name } };
      return inputRequired({
        inputRequests: {
          user_name: inputRequired.elicit({
            message: 'What is your name?',
            requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
          }),
        },
      });
    },
    run: async (_args, job, gathered) => {
      await sleep(200, job.signal);
      return text(`Hello from the task, ${String(gathered['name'])}!`);
    },
  }),
};

const TaskIdParams = z.looseObject({ taskId: z.string() });
/** `inputResponses` arrives lifted into `ctx.mcpReq.inputResponses` (the SDK takes it out of params). */
const UpdateParams = z.looseObject({ taskId: z.string() });

/**
 * Puts the tasks surface on `server`: `greet` and the task-supporting tools on both eras;
 * on the 2026-07-28 path (`era: 'modern'`) also the three task methods and the extension
 * in the capabilities. A 2025-era session gets the same tasks as MCP 2025-11-25 tasks
 * (`registerLegacyTasks`): a `tools/call` with `task` creates one; without it,
 * optional-task tools run synchronously and task-required ones answer -32021.
 * Call before any other tool is registered: the tools/call dispatch of McpServer is
 * wrapped (see `routeTaskCalls`).
 */
export function registerTasks(server: McpServer, store: TaskStore, era: 'legacy' | 'modern'): void {
  routeTaskCalls(server, store, era);

  server.registerTool('greet', { description: 'Greets by name (never a task)', inputSchema: z.object({ name: z.string() }) }, ({ name }) =>
    text(`Hello, ${name}!`),
  );
  for (const [name, tool] of Object.entries(TASK_TOOLS)) {
    // The synchronous path: an optional-task tool called by a client without the extension.
    server.registerTool(name, { description: tool.description, inputSchema: tool.args }, async (args, ctx) =>
      tool.run(args, { signal: ctx.mcpReq.signal, ask: () => Promise.reject(new Error(`${name} cannot ask for input outside a task`)) }, {}),
    );
  }

  if (era === 'legacy') {
    registerLegacyTasks(server, store);
    return;
  }
  server.server.registerCapabilities({ extensions: { [TASKS_EXTENSION]: {} } });
  server.server.setRequestHandler('tasks/get', { params: TaskIdParams }, (params, ctx) => {
    if (!declaresTasks(ctx)) throw requireTasks();
    return detailedTask(store.get(params.taskId)) as never;
  });
  server.server.setRequestHandler('tasks/update', { params: UpdateParams }, (params, ctx) => {
    if (!declaresTasks(ctx)) throw requireTasks();
    store.update(params.taskId, ctx.mcpReq.inputResponses ?? {});
    return {} as never;
  });
  server.server.setRequestHandler('tasks/cancel', { params: TaskIdParams }, (params, ctx) => {
    if (!declaresTasks(ctx)) throw requireTasks();
    store.cancel(params.taskId);
    return {} as never;
  });
}

type CallHandler = (request: { params: { name: string; arguments?: Record<string, unknown> } }, ctx: ServerContext) => unknown;

/**
 * McpServer answers every error a tool handler throws as an `isError` result, so the
 * -32021 of a task-required tool and the `CreateTaskResult` cannot come from a
 * registered tool. This wraps the `tools/call` handler McpServer installs (through the
 * public `setRequestHandler`, before the first tool is registered): a task tool is
 * answered here, every other call goes to McpServer unchanged.
 */
function routeTaskCalls(server: McpServer, store: TaskStore, era: 'legacy' | 'modern'): void {
  const inner = server.server;
  const set = inner.setRequestHandler.bind(inner) as (method: string, ...rest: unknown[]) => void;
  const wrapped = (method: string, ...rest: unknown[]) => {
    const handler = rest[0];
    if (era === 'legacy' && method === 'tools/list' && rest.length === 1 && typeof handler === 'function') {
      // 2025-11-25: each task tool says in tools/list whether it can (or must) run as a task.
      const list = handler as (...args: unknown[]) => Promise<{ tools: Array<{ name: string }> }>;
      return set(method, async (...args: unknown[]) => {
        const result = await list(...args);
        const tools = result.tools.map((tool) => {
          const task = TASK_TOOLS[tool.name];
          return task === undefined ? tool : { ...tool, execution: { taskSupport: task.taskSupport } };
        });
        return { ...result, tools };
      });
    }
    if (method !== 'tools/call' || rest.length !== 1 || typeof handler !== 'function') return set(method, ...rest);
    const mcpServerCall = handler as CallHandler;
    return set(method, async (request: Parameters<CallHandler>[0], ctx: ServerContext) => {
      const tool = TASK_TOOLS[request.params.name];
      if (tool === undefined) return mcpServerCall(request, ctx);
      // 2025-11-25: the client asks for a task with `task` in the params.
      const asTask = era === 'legacy' ? isObject((request.params as { task?: unknown }).task) : declaresTasks(ctx);
      if (!asTask) {
        if (tool.taskSupport === 'required') throw requireTasks();
        return mcpServerCall(request, ctx);
      }
      const parsed = tool.args.safeParse(request.params.arguments ?? {});
      if (!parsed.success) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid arguments for ${request.params.name}: ${parsed.error.message}`);
      let gathered: Record<string, unknown> = {};
      if (tool.gather !== undefined) {
        let round = tool.gather(ctx.mcpReq.inputResponses);
        // 2025-era: the round's requests go to the client as server-to-client requests during the call.
        if (era === 'legacy' && isInputRequiredResult(round)) round = tool.gather(await askDuringCall(ctx, round.inputRequests ?? {}));
        if (isInputRequiredResult(round)) return round;
        gathered = (round as { gathered: Record<string, unknown> }).gathered;
      }
      const task = store.start((job) => tool.run(parsed.data, job, gathered));
      // SDK 2.4.0 validates every 2025-era tools/call result as a CallToolResult (it has no
      // 2025-11-25 task runtime): the CreateTaskResult carries an empty `content` to pass.
      return era === 'legacy' ? { content: [], task: legacyTask(task) } : createTaskResult(task);
    });
  };
  inner.setRequestHandler = wrapped as typeof inner.setRequestHandler;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A task as MCP 2025-11-25 puts it on the wire (`ttl`, `pollInterval`). */
function legacyTask(task: TaskRecord) {
  return {
    taskId: task.taskId,
    status: task.status,
    createdAt: task.createdAt,
    lastUpdatedAt: task.lastUpdatedAt,
    ttl: TTL_MS,
    pollInterval: POLL_INTERVAL_MS,
  };
}

/** Sends each input request to the client (elicitation/create, sampling/createMessage) and collects the answers by key. */
async function askDuringCall(ctx: ServerContext, requests: Record<string, InputRequest>, meta?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const answers: Record<string, unknown> = {};
  await Promise.all(Object.entries(requests).map(async ([key, request]) => (answers[key] = await askOne(ctx, request, meta))));
  return answers;
}

function askOne(ctx: ServerContext, request: InputRequest, meta?: Record<string, unknown>): Promise<unknown> {
  const asked = request as { method: string; params: Record<string, unknown> };
  const params = meta === undefined ? asked.params : { ...asked.params, _meta: meta };
  // Tied to the request it is made during (relatedRequestId): it goes on that request's stream, not the session's GET stream.
  const options = { relatedRequestId: ctx.mcpReq.id };
  return asked.method === 'sampling/createMessage' ? ctx.mcpReq.requestSampling(params as never, options) : ctx.mcpReq.elicitInput(params as never, options);
}

/** The `_meta` key relating a message to its task (2025-11-25). */
const RELATED_TASK = 'io.modelcontextprotocol/related-task';

/**
 * MCP 2025-11-25 tasks on a 2025-era session, over the same store: the capability and
 * `tasks/get|result|cancel` (the tools' `execution.taskSupport` is `routeTaskCalls`').
 * `tasks/result` waits for the task to end; while it waits, each input request the task
 * parks on is sent to the client (elicitation/create, sampling/createMessage, with the
 * related-task `_meta`) and its answer resumes the task.
 */
function registerLegacyTasks(server: McpServer, store: TaskStore): void {
  server.server.registerCapabilities({ tasks: { cancel: {}, requests: { tools: { call: {} } } } });
  server.server.setRequestHandler('tasks/get', { params: TaskIdParams }, (params) => legacyTask(store.get(params.taskId)) as never);
  server.server.setRequestHandler('tasks/cancel', { params: TaskIdParams }, (params) => {
    store.cancel(params.taskId);
    return legacyTask(store.get(params.taskId)) as never;
  });
  const relayed = new WeakMap<TaskRecord, Set<string>>();
  server.server.setRequestHandler('tasks/result', { params: TaskIdParams }, async (params, ctx) => {
    const task = store.get(params.taskId);
    const meta = { [RELATED_TASK]: { taskId: task.taskId } };
    const sent = relayed.get(task) ?? new Set<string>();
    relayed.set(task, sent);
    while (!TERMINAL.has(task.status)) {
      const changed = store.changed(task);
      for (const [key, request] of task.pending) {
        if (sent.has(key)) continue;
        sent.add(key);
        askOne(ctx, request, meta).then(
          (response) => {
            if (!TERMINAL.has(task.status)) store.update(task.taskId, { [key]: response });
          },
          () => sent.delete(key),
        );
      }
      await changed;
    }
    if (task.status === 'completed' && task.result !== undefined) return { ...task.result, _meta: meta } as never;
    if (task.status === 'cancelled') throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Task "${task.taskId}" was cancelled`);
    throw new ProtocolError(task.error?.code ?? ProtocolErrorCode.InternalError, task.error?.message ?? 'the task failed');
  });
}
