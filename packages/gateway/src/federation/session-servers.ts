import { ProtocolError, Server } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError, toRpcError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import { INSTRUCTIONS, SERVER_INFO, type Federation } from './federation.js';

/**
 * Builds the SDK server of each client session and keeps track of the open ones, so
 * that a change of the federated catalog reaches every connected client as
 * `notifications/tools/list_changed`.
 */
export class SessionServers {
  readonly #open = new Set<Server>();
  readonly #unsubscribe: () => void;

  constructor(
    private readonly federation: Federation,
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.#unsubscribe = registry.onCatalogChange(() => this.#notifyToolsChanged());
  }

  get size(): number {
    return this.#open.size;
  }

  /** The factory the MCP endpoint calls for each new session. */
  create = (identity: GatewayIdentity): Server => {
    const server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: true } }, instructions: INSTRUCTIONS });
    server.setRequestHandler('tools/list', () => this.federation.listTools(identity) as never);
    server.setRequestHandler('tools/call', async (request, ctx) => {
      const progressToken = request.params._meta?.progressToken;
      try {
        const result = await this.federation.callTool(identity, request.params as Record<string, unknown>, {
          signal: ctx.mcpReq.signal,
          ...(progressToken === undefined
            ? {}
            : {
                // Progress from the service goes to this call's client, under the client's own token.
                onprogress: (progress) =>
                  void ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, ...progress } }).catch(() => undefined),
              }),
        });
        return result as never;
      } catch (error) {
        throw asProtocolError(error, this.logger);
      }
    });
    server.onclose = () => this.#open.delete(server);
    this.#open.add(server);
    return server;
  };

  #notifyToolsChanged(): void {
    for (const server of this.#open) {
      server.sendToolListChanged().catch(() => undefined);
    }
  }

  close(): void {
    this.#unsubscribe();
    this.#open.clear();
  }
}

function asProtocolError(error: unknown, logger: Logger): unknown {
  if (error instanceof Error && error.name === 'AbortError') return error;
  const rpc = toRpcError(error);
  if (rpc.code === -32603 && !(error instanceof GatewayError)) logger.error({ err: error }, 'tools/call failed');
  return new ProtocolError(rpc.code, rpc.message, rpc.data);
}
