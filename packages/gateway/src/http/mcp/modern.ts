import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonRpcMessage } from '@meshgate/service-kit';
import { createMcpHandler } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../../auth/tokens.js';
import { gatewayInstructions } from '../../federation/capabilities.js';
import type { MethodTable } from '../../federation/methods.js';
import { buildSdkServer } from '../../federation/sdk-server.js';
import type { VirtualServer } from '../../federation/virtual-servers.js';
import type { RequestRecord } from '../../observability/record.js';
import type { Registry } from '../../registry/registry.js';
import { MAX_STREAM_BACKLOG_BYTES } from './reply.js';

/**
 * Requests of the stateless 2026-07-28 revision, served by the SDK's own handler with an
 * SDK server built from the method table. The only place a web Request is built: the
 * SDK's handler takes nothing else. The caller's identity rides in `authInfo`.
 */
export class ModernEndpoint {
  readonly #handler: ReturnType<typeof createMcpHandler>;
  readonly #logger: Logger;

  constructor(methods: MethodTable, registry: Registry, logger: Logger) {
    this.#logger = logger;
    this.#handler = createMcpHandler(
      (ctx) => {
        const identity = ctx.authInfo?.extra?.['identity'] as GatewayIdentity | undefined;
        if (identity === undefined) throw new Error('a 2026-07-28 request without an identity');
        const record = ctx.authInfo?.extra?.['record'] as RequestRecord | undefined;
        const server = ctx.authInfo?.extra?.['server'] as VirtualServer | undefined;
        if (server === undefined) return buildSdkServer(methods, registry, identity, () => ({ catalog: registry.catalog }), record);
        const instructions = server.record.description ?? gatewayInstructions(registry, identity);
        return buildSdkServer(methods, registry, identity, () => server.scope(registry.catalog), record, instructions);
      },
      { legacy: 'reject', onerror: (error) => logger.debug({ reason: error.message }, 'stateless request rejected') },
    );
  }

  async serve(
    request: IncomingMessage,
    response: ServerResponse,
    body: string,
    message: JsonRpcMessage,
    identity: GatewayIdentity,
    record?: RequestRecord,
    /** The virtual server whose endpoint the request reached; absent on `/mcp`. */
    server?: VirtualServer,
  ): Promise<void> {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const web = new Request(`http://${request.headers.host ?? 'localhost'}/mcp`, { method: 'POST', headers, body });
    const answer = await this.#handler.fetch(web, {
      parsedBody: message,
      authInfo: { token: '', clientId: identity.name, scopes: [], extra: { identity, record, server } },
    });
    response.writeHead(answer.status, Object.fromEntries(answer.headers));
    if (answer.body === null) {
      response.end();
      return;
    }
    const reader = answer.body.getReader();
    response.once('close', () => void reader.cancel().catch(() => undefined));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (response.destroyed) return;
      // A client that does not read its stream (a long-lived subscriptions/listen) must not grow the gateway.
      if (response.writableLength > MAX_STREAM_BACKLOG_BYTES) {
        this.#logger.warn({ identity: identity.name }, 'closing a 2026-07-28 response stream whose client does not read it (backlog over the limit)');
        await reader.cancel().catch(() => undefined);
        response.destroy();
        return;
      }
      response.write(value);
    }
    response.end();
  }

  close(): Promise<void> {
    return this.#handler.close();
  }
}
