import type { JsonRpcRequestMessage, JsonRpcResponseMessage } from '@meshgate/service-kit';
import { type LoggingLevel, ProtocolError, ProtocolErrorCode, type ServerCapabilities } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { GatewayError, toRpcError } from '../errors.js';
import type { Observer } from '../observability/observer.js';
import type { Params, RequestContext, Result } from './context.js';
import { type Federation, LIST_METHODS } from './federation.js';
import { CALL_TOOL, SEARCH_MODE_TOOLS, SEARCH_TOOL, searchTools, type ToolSearch, unwrapCall } from './tool-search.js';

/** One MCP method: what it needs offered to the session, and what it does. */
interface Method {
  /** The server capability the method belongs to; a session that was not offered it does not know the method. */
  capability?: 'prompts' | 'resources' | 'completions' | 'tasks';
  handle(ctx: RequestContext, params: Params): Result | Promise<Result>;
}

const LEVELS = new Set<string>(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']);

function capabilityOf(method: string): Method['capability'] {
  if (method.startsWith('prompts/')) return 'prompts';
  if (method.startsWith('resources/')) return 'resources';
  if (method.startsWith('completion/')) return 'completions';
  if (method.startsWith('tasks/')) return 'tasks';
  return undefined;
}

/**
 * The gateway's MCP methods, by name: the one table that the sessionless path, the
 * in-session path and the SDK server of the 2026 revision all call, with one mapping of
 * failures to JSON-RPC errors. `initialize` is the session layer's, not a method here.
 */
export class MethodTable {
  readonly #methods = new Map<string, Method>();

  constructor(
    federation: Federation,
    private readonly logger: Logger,
    private readonly observer?: Observer,
  ) {
    const add = (name: string, handle: Method['handle']) => {
      const capability = capabilityOf(name);
      this.#methods.set(name, capability === undefined ? { handle } : { capability, handle });
    };
    add('ping', () => ({}));
    for (const method of LIST_METHODS) add(method, (ctx, params) => federation.list(ctx, method, params));
    add('tools/call', (ctx, params) => federation.callTool(ctx, params));
    add('prompts/get', (ctx, params) => federation.getPrompt(ctx, params));
    add('resources/read', (ctx, params) => federation.readResource(ctx, params));
    add('completion/complete', (ctx, params) => federation.complete(ctx, params));
    add('resources/subscribe', (ctx, params) => federation.subscribe(ctx, params, true));
    add('resources/unsubscribe', (ctx, params) => federation.subscribe(ctx, params, false));
    add('logging/setLevel', setLevel);
    for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel']) add(method, (ctx, params) => federation.task(ctx, params));
    add('tasks/list', (ctx) => federation.listTasks(ctx));
  }

  /** The names of the methods, for an SDK server that must register each. */
  get names(): string[] {
    return [...this.#methods.keys()];
  }

  /** Whether a session offered `offered` knows `method` (every method, without a session). */
  knows(method: string, offered: ServerCapabilities | undefined): boolean {
    const entry = this.#methods.get(method);
    return entry !== undefined && (entry.capability === undefined || offered === undefined || offered[entry.capability] !== undefined);
  }

  /** Runs `method` and returns its result; throws what the caller maps with `toWire`. */
  run(ctx: RequestContext, params: Params): Result | Promise<Result> {
    let entry = this.#methods.get(ctx.method);
    const offered = ctx.session?.offered;
    if (entry === undefined || (entry.capability !== undefined && offered !== undefined && offered[entry.capability] === undefined)) {
      throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `Method not found: ${ctx.method}`);
    }
    const search = ctx.server?.search;
    if (search !== undefined && (ctx.method === 'tools/list' || ctx.method === 'tools/call')) {
      // A search-mode virtual server: its gateway tools in place of the catalog's (tool-search.ts).
      const local = searchMode(search, ctx.method, params);
      if (local.params !== undefined) params = local.params;
      if (local.handle !== undefined) entry = { handle: local.handle };
    }
    const probe = this.observer?.method(ctx, params);
    if (probe === undefined) return entry.handle(ctx, params);
    // Metrics, the request's span and its audit entry hang here: every path runs through `run`.
    let answer: Result | Promise<Result>;
    try {
      answer = entry.handle(ctx, params);
    } catch (error) {
      probe.failed(error);
      throw error;
    }
    if (!(answer instanceof Promise)) {
      probe.done(answer);
      return answer;
    }
    return answer.then(
      (result) => {
        probe.done(result);
        return result;
      },
      (error: unknown) => {
        probe.failed(error);
        throw error;
      },
    );
  }

  /**
   * Answers one request. Never throws: a failure becomes its JSON-RPC error; a request the
   * client cancelled gets no answer (undefined), as the spec says.
   */
  async answer(ctx: RequestContext, message: JsonRpcRequestMessage): Promise<JsonRpcResponseMessage | undefined> {
    try {
      return { jsonrpc: '2.0', id: message.id, result: await this.run(ctx, message.params) };
    } catch (error) {
      if (ctx.signal?.aborted === true && isAbort(error)) return undefined;
      return { jsonrpc: '2.0', id: message.id, error: this.toWire(error, ctx.method) };
    }
  }

  /** The one mapping of a failure to the JSON-RPC error a client sees; internal failures are logged, never shown. */
  toWire(error: unknown, method: string): { code: number; message: string; data?: unknown } {
    const rpc = toRpcError(error);
    if (rpc.code === -32603 && !(error instanceof GatewayError)) this.logger.error({ err: error, method }, 'request failed');
    return rpc;
  }
}

/**
 * What `tools/list` and `tools/call` are on a search-mode virtual server: the list is its
 * two gateway tools; `search_tools` is answered here; `call_tool` becomes the `tools/call`
 * of the tool it names (so it is routed, observed and audited as that call); a tool of the
 * view called by its own name is called as usual.
 */
function searchMode(search: ToolSearch, method: string, params: Params): { handle?: Method['handle']; params?: Params } {
  if (method === 'tools/list') return { handle: () => SEARCH_MODE_TOOLS };
  const name = params?.['name'];
  if (name === SEARCH_TOOL) return { handle: (ctx) => searchTools(search, ctx.identity.allowList, params?.['arguments']) };
  if (name === CALL_TOOL) return { params: unwrapCall(params) };
  return {};
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

async function setLevel(ctx: RequestContext, params: Params): Promise<Result> {
  const level = params?.['level'];
  if (typeof level !== 'string' || !LEVELS.has(level)) {
    throw new GatewayError('invalid_body', `Invalid params: logging/setLevel needs "level", one of ${[...LEVELS].join(', ')}`);
  }
  // Without a session there is nothing to deliver log messages to: accepted, and nothing changes.
  if (ctx.session !== undefined) {
    ctx.session.logLevel = level as LoggingLevel;
    await ctx.session.share?.({ kind: 'logLevel', level: level as LoggingLevel });
  }
  return {};
}
