import type { JsonRpcRequestMessage, JsonRpcResponseMessage } from '@meshgate/service-kit';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError, toRpcError } from '../errors.js';
import type { Catalog } from '../model/catalog.js';
import type { IndexEntry, ItemIndex } from '../model/item-index.js';
import { paginate } from '../model/paging.js';
import type { Registry } from '../registry/registry.js';
import type { RequestOptions } from '../upstream/connection.js';

export const SERVER_INFO = { name: 'meshgate', version: '0.1.0' } as const;
export const INSTRUCTIONS =
  'Meshgate federates the tools, prompts and resources of several MCP services. Names and URIs stay as they are; ' +
  'when two services share one, the later one is listed as <service>__<name> (tools, prompts) or ' +
  'meshgate://<service>/<uri> (resources). Any item can be called by that qualified form.';

type Params = Record<string, unknown> | undefined;
type Result = Record<string, unknown>;

/** The lists the federation serves, keyed by method. */
const LISTS = {
  'tools/list': { key: 'tools', index: (catalog: Catalog) => catalog.tools },
  'prompts/list': { key: 'prompts', index: (catalog: Catalog) => catalog.prompts },
  'resources/list': { key: 'resources', index: (catalog: Catalog) => catalog.resources },
  'resources/templates/list': { key: 'resourceTemplates', index: (catalog: Catalog) => catalog.resourceTemplates },
} as const;
export type ListMethod = keyof typeof LISTS;
export const LIST_METHODS = Object.keys(LISTS) as ListMethod[];

/**
 * The federation's MCP methods, independent of transport: the session servers and the
 * sessionless JSON path both call these, so both behave the same. Every method sees the
 * caller's identity: its allow-list filters lists and hides what it may not use.
 */
export class Federation {
  constructor(
    private readonly registry: Registry,
    private readonly logger: Logger,
    private readonly pageSize = 1_000,
  ) {}

  /** `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`: prebuilt, filtered, paged. */
  list(method: ListMethod, identity: GatewayIdentity, params: Params): Result {
    const { key, index } = LISTS[method];
    const entries = index(this.registry.catalog) as ItemIndex<unknown>;
    const allowList = identity.allowList;
    const visible = allowList === undefined ? entries.entries : entries.entries.filter((entry) => allowList.allows(entry));
    const page = paginate(visible, (entry) => entry.exposedName, params?.['cursor'], this.pageSize);
    const items = allowList === undefined && page.items.length === entries.items.length ? entries.items : page.items.map((entry) => entry.item);
    return page.nextCursor === undefined ? { [key]: items } : { [key]: items, nextCursor: page.nextCursor };
  }

  /** `tools/call`: routes by name to the owning service and returns its result unchanged. */
  callTool(identity: GatewayIdentity, params: Params, options: RequestOptions = {}): Promise<Result> {
    const entry = this.#named(this.registry.catalog.tools, 'tool', 'tools/call', identity, params);
    // Only the name changes on the way up; arguments and _meta pass through untouched.
    return this.#service(entry.service).connection.request('tools/call', { ...params, name: entry.upstreamName }, options);
  }

  /** `prompts/get`: routes by name to the owning service. */
  getPrompt(identity: GatewayIdentity, params: Params, options: RequestOptions = {}): Promise<Result> {
    const entry = this.#named(this.registry.catalog.prompts, 'prompt', 'prompts/get', identity, params);
    return this.#service(entry.service).connection.request('prompts/get', { ...params, name: entry.upstreamName }, options);
  }

  /** `resources/read`: routes by URI; contents come back under the URI the client asked for. */
  async readResource(identity: GatewayIdentity, params: Params, options: RequestOptions = {}): Promise<Result> {
    const { uri, target } = this.resolveResource(identity, params, 'resources/read');
    const result = await this.#service(target.service).connection.request('resources/read', { ...params, uri: target.upstreamName }, options);
    if (uri === target.upstreamName || !Array.isArray(result['contents'])) return result;
    const contents = (result['contents'] as Result[]).map((content) => (content['uri'] === target.upstreamName ? { ...content, uri } : content));
    return { ...result, contents };
  }

  /** The service and upstream URI of a resource request's `uri`, checked against the allow-list. */
  resolveResource(identity: GatewayIdentity, params: Params, method: string) {
    const uri = params?.['uri'];
    if (typeof uri !== 'string' || uri === '') throw new GatewayError('invalid_body', `Invalid params: ${method} needs "uri", a non-empty string`);
    const target = this.registry.catalog.resolveResource(uri);
    if (target === undefined || identity.allowList?.allows({ ...target, exposedName: uri }) === false) {
      throw new GatewayError('unknown_resource', `Unknown resource "${uri}"; call resources/list or resources/templates/list`, { uri });
    }
    return { uri, target };
  }

  /** `completion/complete`: routes by the prompt or resource template it refers to. */
  complete(identity: GatewayIdentity, params: Params, options: RequestOptions = {}): Promise<Result> {
    const ref = params?.['ref'] as Result | undefined;
    const catalog = this.registry.catalog;
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
    return this.#service(target.service).connection.request('completion/complete', { ...params, ref: target.ref }, options);
  }

  #named<T>(index: ItemIndex<T>, kind: 'tool' | 'prompt', method: string, identity: GatewayIdentity, params: Params): IndexEntry<T> {
    const name = params?.['name'];
    if (typeof name !== 'string' || name === '') throw new GatewayError('invalid_body', `Invalid params: ${method} needs "name", a non-empty string`);
    const entry = index.resolve(name);
    // What the caller may not use is reported as unknown: its existence is not revealed.
    if (entry === undefined || identity.allowList?.allows(entry) === false) {
      throw new GatewayError(kind === 'tool' ? 'unknown_tool' : 'unknown_prompt', `Unknown ${kind} "${name}"; call ${kind}s/list for the available ${kind}s`, {
        [kind]: name,
      });
    }
    return entry;
  }

  #service(name: string) {
    const service = this.registry.get(name);
    if (service === undefined) throw new GatewayError('unknown_service', `Service "${name}" was just removed`, { service: name });
    return service;
  }

  /**
   * Answers one sessionless JSON-RPC request (the seed's curls, and any client that does
   * not open a session). Never throws: failures become JSON-RPC errors.
   */
  async dispatch(message: JsonRpcRequestMessage, identity: GatewayIdentity): Promise<JsonRpcResponseMessage> {
    try {
      return { jsonrpc: '2.0', id: message.id, result: await this.#route(message, identity) };
    } catch (error) {
      const rpc = toRpcError(error);
      if (rpc.code === -32603) this.logger.error({ err: error, method: message.method }, 'request failed');
      return { jsonrpc: '2.0', id: message.id, error: rpc };
    }
  }

  #route(message: JsonRpcRequestMessage, identity: GatewayIdentity): unknown {
    const { method, params } = message;
    switch (method) {
      case 'ping':
        return {};
      case 'tools/list':
      case 'prompts/list':
      case 'resources/list':
      case 'resources/templates/list':
        return this.list(method, identity, params);
      case 'tools/call':
        return this.callTool(identity, params);
      case 'prompts/get':
        return this.getPrompt(identity, params);
      case 'resources/read':
        return this.readResource(identity, params);
      case 'completion/complete':
        return this.complete(identity, params);
      case 'logging/setLevel':
        return {}; // nothing to deliver log messages to without a session
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        throw new ProtocolError(ProtocolErrorCode.InvalidRequest, `${method} needs a session to deliver updates to; send initialize first`);
      default:
        throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `Method not found: ${method}`);
    }
  }
}
