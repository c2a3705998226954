import { ProtocolError, ProtocolErrorCode, type Tool } from '@modelcontextprotocol/server';
import type { JsonRpcRequestMessage, JsonRpcResponseMessage } from '@meshgate/service-kit';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError, toRpcError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import type { RequestOptions } from '../upstream/connection.js';

export const SERVER_INFO = { name: 'meshgate', version: '0.1.0' } as const;
export const INSTRUCTIONS =
  'Meshgate federates the tools of several MCP services. Tools keep their own names; when two services ' +
  'share a name, the later one is listed as <service>__<tool>. Any tool can be called as <service>__<tool>.';

/**
 * The federation's MCP methods, independent of transport: the session servers and the
 * sessionless JSON path both call these, so both behave the same.
 */
export class Federation {
  constructor(
    private readonly registry: Registry,
    private readonly logger: Logger,
  ) {}

  /** `tools/list`: the federated catalog, prebuilt, filtered by the caller's allow-list. */
  listTools(identity: GatewayIdentity): { tools: readonly Tool[] } {
    const { catalog } = this.registry;
    const allowList = identity.allowList;
    if (allowList === undefined) return { tools: catalog.tools };
    return { tools: catalog.entries.filter((entry) => allowList.allows(entry)).map((entry) => entry.tool) };
  }

  /** `tools/call`: routes by name to the owning service and returns its result unchanged. */
  async callTool(identity: GatewayIdentity, params: Record<string, unknown> | undefined, options: RequestOptions = {}): Promise<Record<string, unknown>> {
    const name = params?.['name'];
    if (typeof name !== 'string' || name === '') {
      throw new GatewayError('invalid_body', 'Invalid params: tools/call needs "name", a non-empty string');
    }
    const entry = this.registry.catalog.resolve(name);
    // A tool the caller may not use is reported as unknown: its existence is not revealed.
    if (entry === undefined || identity.allowList?.allows(entry) === false) {
      throw new GatewayError('unknown_tool', `Unknown tool "${name}"; call tools/list for the available tools`, { tool: name });
    }
    const service = this.registry.get(entry.service);
    if (service === undefined) throw new GatewayError('unknown_tool', `Unknown tool "${name}"`, { tool: name });
    // Only the name changes on the way up; arguments and _meta pass through untouched.
    return service.connection.request('tools/call', { ...params, name: entry.upstreamName }, options);
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

  async #route(message: JsonRpcRequestMessage, identity: GatewayIdentity): Promise<unknown> {
    switch (message.method) {
      case 'ping':
        return {};
      case 'tools/list':
        return this.listTools(identity);
      case 'tools/call':
        return this.callTool(identity, message.params);
      default:
        throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `Method not found: ${message.method}`);
    }
  }
}
