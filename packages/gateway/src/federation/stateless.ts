import { createMcpHandler, type McpHandlerRequestOptions } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { SessionServers } from './session-servers.js';

/**
 * Clients of the stateless 2026-07-28 revision, served by the SDK's own handler
 * (`server/discover`, `_meta` envelopes, `Mcp-Method`/`Mcp-Name` checks) with one federation
 * server per request. The caller's identity rides along in `authInfo`, the handler's only
 * per-request input. 2025-era traffic never reaches it (the endpoint routes that first).
 */
export function statelessHandler(sessions: SessionServers, logger: Logger) {
  const handler = createMcpHandler(
    (ctx) => {
      const identity = ctx.authInfo?.extra?.['identity'] as GatewayIdentity | undefined;
      if (identity === undefined) throw new Error('stateless request without an identity');
      return sessions.createStateless(identity);
    },
    { legacy: 'reject', onerror: (error) => logger.debug({ reason: error.message }, 'stateless request rejected') },
  );
  return {
    fetch: (request: Request, options: McpHandlerRequestOptions, identity: GatewayIdentity) =>
      handler.fetch(request, { ...options, authInfo: { token: '', clientId: identity.name, scopes: [], extra: { identity } } }),
    close: () => handler.close(),
  };
}
