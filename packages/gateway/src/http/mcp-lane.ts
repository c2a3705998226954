import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseBearer, type Lane, type McpEndpoint } from '@meshgate/service-kit';
import type { GatewayAuth } from '../auth/authenticator.js';
import { authorize } from '../auth/metadata.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { Perimeter } from '../security/index.js';
import { MCP_ROLE_NEED } from './authorization.js';

export interface McpLaneDeps {
  endpoint: McpEndpoint<GatewayIdentity>;
  auth: GatewayAuth;
  perimeter: Perimeter;
}

/**
 * The lean lane for the commonest request: a sessionless JSON-RPC POST to `/mcp` (the
 * seed's curls, the benchmark, clients that skip sessions), served on node's own request
 * and response objects. The Hono route costs about 45 µs of CPU more per call (web
 * Request and Response objects, three async middlewares; see docs/performance.md).
 *
 * It makes the same checks as the route, in the same order (Origin and Host, Bearer
 * token, role, framing, rate limit), with the same functions, and serves a request only
 * when every one passes. Anything else goes on to the route, with the body already read,
 * so every refusal (401, 403, 406, 415, 429, bad framing) is answered in one place.
 */
export function mcpLane({ endpoint, auth, perimeter }: McpLaneDeps): Lane {
  return function mcpLaneHandler(request, response, next) {
    if (request.method !== 'POST' || request.url !== '/mcp') return next();
    const { headers } = request;
    if (!endpoint.leanAccepts(headers) || !perimeter.admits(headers.host, headers.origin)) return next();
    const bearer = parseBearer(headers.authorization);
    if (!bearer.ok) return next();

    // Node ends the body at the declared length, which leanAccepts checked against the limit.
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      serve(body, bearer.token, request, response).then(
        (served) => served || next(body),
        // Only the checks before dispatch can throw: the route runs them again and answers.
        () => next(body),
      );
    });
  };

  /** Answers and returns true, or returns false before anything is dispatched. */
  async function serve(body: Buffer, token: string, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    if (request.destroyed) return true; // the client left while sending: nobody to answer
    const identity = await auth.authenticate(token);
    if (identity === undefined || !authorize(identity, MCP_ROLE_NEED, auth.resource.scopes).ok) return false;
    const message = endpoint.leanRequest(body.toString('utf8'));
    if (message === undefined || !(await perimeter.withinLimit(identity.name))) return false;
    const answer = await endpoint.leanAnswer(message, identity);
    const length = typeof answer === 'string' ? Buffer.byteLength(answer) : answer.length;
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
    response.end(answer);
    return true;
  }
}
