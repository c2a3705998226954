import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { Catalog } from '../model/catalog.js';
import type { IndexEntry, ItemIndex } from '../model/item-index.js';
import type { Observer } from '../observability/observer.js';
import type { Registry } from '../registry/registry.js';
import type { RequestOptions } from '../upstream/connection.js';
import type { Params, RequestContext, Result } from './context.js';
import { listView } from './list-views.js';
import { MAX_SUBSCRIPTIONS_PER_SESSION, type Subscriptions } from './subscriptions.js';
import { TaskRouter } from './tasks.js';

/** The lists the federation serves, keyed by method. */
const LISTS = {
  'tools/list': { key: 'tools', index: (catalog: Catalog) => catalog.tools },
  'prompts/list': { key: 'prompts', index: (catalog: Catalog) => catalog.prompts },
  'resources/list': { key: 'resources', index: (catalog: Catalog) => catalog.resources },
  'resources/templates/list': { key: 'resourceTemplates', index: (catalog: Catalog) => catalog.resourceTemplates },
} as const;
export type ListMethod = keyof typeof LISTS;
/** The first revision with tasks; protocol versions are dates, so they compare as strings. */
const TASKS_SINCE = '2025-11-25';
/** `tasks/list` reports at most this many of the caller's newest tasks. */
const MAX_LISTED_TASKS = 100;

/** Whether a tool can only be called as a task. */
function requiresTask(item: unknown): boolean {
  return (item as { execution?: { taskSupport?: unknown } }).execution?.taskSupport === 'required';
}

/** Items per page of the gateway's own lists, unless configured (MESHGATE_LIST_PAGE_SIZE). */
export const DEFAULT_PAGE_SIZE = 1_000;
/** Rounds of input a service may ask for in one request, a bound of the gateway's: past it the service's answer is invalid. */
export const MAX_INPUT_ROUNDS = 8;
/** What a service may ask its client for in an input_required result. */
const INPUT_REQUESTS = new Set(['sampling/createMessage', 'elicitation/create', 'roots/list']);
export const LIST_METHODS = Object.keys(LISTS) as ListMethod[];

/**
 * What the gateway does for each MCP method that concerns the federated catalog, for any
 * transport and any path: list, route a call to the service that owns its name or URI,
 * subscribe. Every method sees the caller's identity through its request context: the
 * allow-list filters lists and hides what the caller may not use.
 */
export class Federation {
  constructor(
    private readonly registry: Registry,
    private readonly subscriptions: Subscriptions,
    private readonly pageSize = DEFAULT_PAGE_SIZE,
    private readonly observer?: Observer,
    readonly tasks = new TaskRouter(),
  ) {}

  /**
   * `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`: a page of
   * the caller's view of the catalog (list-views.ts), built once per catalog and view,
   * so a request filters and serialises nothing.
   */
  list(ctx: RequestContext, method: ListMethod, params: Params): Result {
    const { key, index } = LISTS[method];
    // A session of a revision before tasks (2025-11-25) cannot call a tool that requires one: not listed to it.
    const withoutTasks = method === 'tools/list' && ctx.session !== undefined && ctx.session.protocolVersion < TASKS_SINCE && ctx.catalog.hasTaskOnlyTools;
    const view = listView(ctx.catalog, method, index(ctx.catalog) as ItemIndex<unknown>, {
      key,
      pageSize: this.pageSize,
      allowList: ctx.identity.allowList,
      withoutTasks,
      hide: requiresTask,
    });
    return view.page(params?.['cursor']) as Result;
  }

  /**
   * `tools/call`: routes by name to the owning service and returns its result unchanged,
   * but for a task the service created (`task` in params), which gets the gateway's id.
   */
  async callTool(ctx: RequestContext, params: Params): Promise<Result> {
    const entry = this.#named(ctx, ctx.catalog.tools, 'tool', params);
    // Only the name changes on the way up; arguments and _meta pass through untouched.
    const result = await this.#rounds(ctx, entry.service, entry.exposedName, 'tools/call', { ...params, name: entry.upstreamName });
    return params?.['task'] === undefined ? result : this.tasks.created(entry.service, ctx.identity, ctx.session?.id, result);
  }

  /** `tasks/get`, `tasks/result`, `tasks/cancel`: to the service that owns the task, under its own id. */
  async task(ctx: RequestContext, params: Params): Promise<Result> {
    const task = this.tasks.resolve(ctx.identity, params);
    const result = await this.#forward(ctx, task.service, '', ctx.method, { ...params, taskId: task.upstreamId });
    return this.tasks.rewrite(task.service, result);
  }

  /** `tasks/list`: the caller's own tasks (never another client's), each as its service reports it now. */
  async listTasks(ctx: RequestContext): Promise<Result> {
    const owned = this.tasks.owned(ctx.identity).slice(-MAX_LISTED_TASKS);
    const tasks = await Promise.all(
      owned.map(async (task) => {
        const service = this.registry.get(task.service);
        if (service === undefined) return undefined;
        const found = await service.connection.request('tasks/get', { taskId: task.upstreamId }).catch(() => undefined);
        return found === undefined ? undefined : { ...found, taskId: task.id };
      }),
    );
    return { tasks: tasks.filter((task) => task !== undefined) };
  }

  /** `prompts/get`: routes by name to the owning service. */
  getPrompt(ctx: RequestContext, params: Params): Promise<Result> {
    const entry = this.#named(ctx, ctx.catalog.prompts, 'prompt', params);
    return this.#rounds(ctx, entry.service, entry.exposedName, 'prompts/get', { ...params, name: entry.upstreamName });
  }

  /** `resources/read`: routes by URI; contents come back under the URI the client asked for. */
  async readResource(ctx: RequestContext, params: Params): Promise<Result> {
    const { uri, target } = this.#resource(ctx, params);
    const result = await this.#rounds(ctx, target.service, uri, 'resources/read', { ...params, uri: target.upstreamName });
    if (uri === target.upstreamName || !Array.isArray(result['contents'])) return result;
    const contents = (result['contents'] as Result[]).map((content) => (content['uri'] === target.upstreamName ? { ...content, uri } : content));
    return { ...result, contents };
  }

  /** `completion/complete`: routes by the prompt or resource template it refers to. */
  complete(ctx: RequestContext, params: Params): Promise<Result> {
    const ref = params?.['ref'] as Result | undefined;
    const { catalog, identity } = ctx;
    let target: { service: string; ref: Result } | undefined;
    if (ref?.['type'] === 'ref/prompt' && typeof ref['name'] === 'string') {
      const entry = catalog.prompts.resolve(ref['name']);
      if (entry !== undefined && identity.allowList?.allows(entry) !== false) target = { service: entry.service, ref: { ...ref, name: entry.upstreamName } };
    } else if (ref?.['type'] === 'ref/resource' && typeof ref['uri'] === 'string') {
      const entry = catalog.resourceTemplates.resolve(ref['uri']) ?? catalog.resources.resolve(ref['uri']);
      if (entry !== undefined && identity.allowList?.allows(entry) !== false) target = { service: entry.service, ref: { ...ref, uri: entry.upstreamName } };
    } else {
      throw new GatewayError('invalid_body', 'Invalid params: completion/complete needs "ref" of type ref/prompt (with "name") or ref/resource (with "uri")');
    }
    if (target === undefined) throw new GatewayError('invalid_body', 'Invalid params: "ref" names no prompt or resource template of this gateway');
    return this.#forward(ctx, target.service, '', 'completion/complete', { ...params, ref: target.ref });
  }

  /** `resources/subscribe` and `resources/unsubscribe`: shared upstream, delivered to the session under the URI it used. */
  async subscribe(ctx: RequestContext, params: Params, on: boolean): Promise<Result> {
    const session = ctx.session;
    if (session === undefined) {
      throw new GatewayError('invalid_request', `${ctx.method} needs a session to deliver updates to; send initialize first`);
    }
    const { uri, target } = this.#resource(ctx, params);
    const entry = { service: target.service, upstreamUri: target.upstreamName };
    if (on) {
      if (!session.subscribed.has(uri) && session.subscribed.size >= MAX_SUBSCRIPTIONS_PER_SESSION) {
        throw new GatewayError(
          'invalid_request',
          `This session already holds ${MAX_SUBSCRIPTIONS_PER_SESSION} resource subscriptions, the most one session may; unsubscribe from some first`,
        );
      }
      await this.subscriptions.subscribe(entry.service, entry.upstreamUri, session, uri);
      session.subscribed.set(uri, entry);
      await session.share?.({ kind: 'subscribed', uri, ...entry });
    } else {
      session.subscribed.delete(uri);
      await this.subscriptions.unsubscribe(entry.service, entry.upstreamUri, session);
      // The replica that took the subscription (it holds it upstream) may be another one.
      await session.share?.({ kind: 'unsubscribed', uri });
    }
    return {};
  }

  /** The service and upstream URI of a resource request's `uri`, checked against the allow-list. */
  #resource(ctx: RequestContext, params: Params) {
    const uri = params?.['uri'];
    if (typeof uri !== 'string' || uri === '') throw new GatewayError('invalid_body', `Invalid params: ${ctx.method} needs "uri", a non-empty string`);
    const target = resourceFor(ctx.catalog, ctx.identity, uri);
    if (target === undefined) {
      throw new GatewayError('unknown_resource', `Unknown resource "${uri}"; call resources/list or resources/templates/list`, { uri });
    }
    return { uri, target };
  }

  #named<T>(ctx: RequestContext, index: ItemIndex<T>, kind: 'tool' | 'prompt', params: Params): IndexEntry<T> {
    const name = params?.['name'];
    if (typeof name !== 'string' || name === '') throw new GatewayError('invalid_body', `Invalid params: ${ctx.method} needs "name", a non-empty string`);
    const entry = index.resolve(name);
    // What the caller may not use is reported as unknown: its existence is not revealed.
    if (entry === undefined || !allows(ctx.identity, entry)) {
      throw new GatewayError(kind === 'tool' ? 'unknown_tool' : 'unknown_prompt', `Unknown ${kind} "${name}"; call ${kind}s/list for the available ${kind}s`, {
        [kind]: name,
      });
    }
    return entry;
  }

  /**
   * Sends a request to the service that owns its target. With an observer, the request id
   * and trace context go with it (headers and `params._meta`) and its time is measured as
   * the upstream part; `item` is the catalog name (or URI) it reached.
   */
  /**
   * A multi-round-trip request (tools/call, prompts/get, resources/read) to a service that
   * may answer `input_required` (the 2026-07-28 revision's way to ask its client for input):
   * each round's input requests go to the calling client as requests (a 2025 session client
   * gets sampling/createMessage, elicitation/create or roots/list on its stream; a 2026
   * client, the gateway's own input_required), and the request is sent again with their
   * answers as `inputResponses` and the service's `requestState` echoed, at most
   * MAX_INPUT_ROUNDS times. What the service asks is checked: it is as untrusted as a client.
   */
  async #rounds(ctx: RequestContext, service: string, item: string, method: string, params: Result): Promise<Result> {
    let sent = params;
    for (let round = 1; ; round += 1) {
      const result = await this.#forward(ctx, service, item, method, sent);
      if (result['resultType'] !== 'input_required') return result;
      const asked = result['inputRequests'];
      const requests = asked !== null && typeof asked === 'object' && !Array.isArray(asked) ? Object.entries(asked as Result) : [];
      const state = result['requestState'];
      if (round > MAX_INPUT_ROUNDS || (requests.length === 0 && typeof state !== 'string')) {
        const why =
          round > MAX_INPUT_ROUNDS
            ? `still asked for input after ${MAX_INPUT_ROUNDS} rounds`
            : 'answered input_required with no inputRequests and no requestState';
        throw new GatewayError('upstream_error', `Service "${service}" gave an invalid answer to ${method}: it ${why}`, { service });
      }
      const downstream = ctx.downstream;
      if (downstream === undefined)
        throw new GatewayError(
          'invalid_request',
          `Service "${service}" needs input from the client for ${method}, and a client without a session cannot be asked; initialize a session first`,
          { service },
        );
      const inputResponses: Result = {};
      for (const [key, request] of requests) {
        const { method: asks, params: with_ } = (request ?? {}) as { method?: unknown; params?: unknown };
        if (
          typeof asks !== 'string' ||
          !INPUT_REQUESTS.has(asks) ||
          (with_ !== undefined && (with_ === null || typeof with_ !== 'object' || Array.isArray(with_)))
        ) {
          throw new GatewayError(
            'upstream_error',
            `Service "${service}" gave an invalid answer to ${method}: input request "${key}" is not a sampling, elicitation or roots request`,
            { service },
          );
        }
        inputResponses[key] = await downstream.request(asks, with_ as Result | undefined);
      }
      sent = { ...params, inputResponses, ...(typeof state === 'string' ? { requestState: state } : {}) };
    }
  }

  #forward(ctx: RequestContext, service: string, item: string, method: string, params: Result): Promise<Result> {
    const connection = this.#service(service).connection;
    const probe = this.observer?.upstream(ctx, service, item, method);
    if (probe === undefined) return connection.request(method, params, callOptions(ctx));
    const options = callOptions(ctx);
    options.headers = probe.headers;
    const sent = probe.meta === undefined ? params : { ...params, _meta: { ...(params['_meta'] as Result | undefined), ...probe.meta } };
    return probe.settle(connection.request(method, sent, options));
  }

  #service(name: string) {
    const service = this.registry.get(name);
    if (service === undefined) throw new GatewayError('unknown_service', `Service "${name}" was just removed`, { service: name });
    return service;
  }
}

function allows(identity: GatewayIdentity, entry: IndexEntry<unknown>): boolean {
  return identity.allowList === undefined || identity.allowList.allows(entry);
}

/** How a forwarded call reaches back to its client: cancellation, progress under the client's token, relays. */
function callOptions(ctx: RequestContext): RequestOptions {
  const { signal, downstream, progressToken, session } = ctx;
  // A new object even when empty: the observer may add headers.
  if (signal === undefined && downstream === undefined && session === undefined) return {};
  const options: RequestOptions = {};
  if (signal !== undefined) options.signal = signal;
  if (session !== undefined) options.sessionId = session.id;
  if (downstream !== undefined) {
    options.downstream = downstream;
    if (progressToken !== undefined) {
      // The client's token last: the service's progress carries the connection's own token (upstream/connection.ts).
      options.onprogress = (progress) => void downstream.notify('notifications/progress', { ...progress, progressToken }).catch(() => undefined);
    }
  }
  return options;
}

/** The service and upstream URI of the resource `uri` names, when `identity` may use it (else undefined: its existence is not revealed). */
export function resourceFor(catalog: Catalog, identity: GatewayIdentity, uri: string) {
  const target = catalog.resolveResource(uri);
  return target === undefined || identity.allowList?.allows({ ...target, exposedName: uri }) === false ? undefined : target;
}
