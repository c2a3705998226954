import type { IncomingMessage, ServerResponse } from 'node:http';
import { type JsonRpcMessage, type Lane, type McpEndpoint, parseBearer } from '@meshgate/service-kit';
import type { GatewayAuth } from '../auth/authenticator.js';
import { authorize } from '../auth/metadata.js';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { SessionLane } from '../federation/session-lane.js';
import type { Perimeter } from '../security/index.js';
import { MCP_ROLE_NEED } from './authorization.js';
import { SessionReply } from './session-reply.js';

export interface McpLaneDeps {
  endpoint: McpEndpoint<GatewayIdentity>;
  sessionLane: SessionLane;
  auth: GatewayAuth;
  perimeter: Perimeter;
}

const SESSION_HEADER = 'mcp-session-id';

/**
 * The lean lane for the commonest requests, served on node's own request and response
 * objects: a sessionless JSON-RPC POST to `/mcp` (the seed's curls, the benchmark), and
 * within a session the lists, ping and forwarded calls, with the client's answers to the
 * requests those calls relay and their cancellations (see `SessionLane`).
 * The Hono route and, in a session, the SDK's server transport cost far more CPU per call
 * (web Request, Response and stream objects, zod validation of every message; see
 * docs/performance.md).
 *
 * It makes the same checks as the route, in the same order (Origin and Host, Bearer
 * token, role, framing, session ownership, rate limit), with the same functions, and
 * serves a request only when every one passes. Anything else goes on to the route, with
 * the body already read, so every refusal (401, 403, 404, 406, 415, 429, bad framing) is
 * answered in one place.
 */
export function mcpLane({ endpoint, sessionLane, auth, perimeter }: McpLaneDeps): Lane {
  return function mcpLaneHandler(request, response, next) {
    if (request.method !== 'POST' || request.url !== '/mcp') return next();
    const { headers } = request;
    if (!endpoint.leanAccepts(headers) || !perimeter.admits(headers.host, headers.origin)) return next();
    const bearer = parseBearer(headers.authorization);
    if (!bearer.ok) return next();
    const sessionId = headers[SESSION_HEADER];
    if (Array.isArray(sessionId)) return next();

    // Node ends the body at the declared length, which leanAccepts checked against the limit.
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      serve(body, bearer.token, sessionId, request, response).then(
        (served) => served || next(body),
        // Only the checks before any work can throw: the route runs them again and answers.
        () => next(body),
      );
    });
  };

  /** Answers and returns true, or returns false before any work has started. */
  async function serve(body: Buffer, token: string, sessionId: string | undefined, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    if (request.destroyed) return true; // the client left while sending: nobody to answer
    const found = auth.authenticate(token);
    const identity = found instanceof Promise ? await found : found;
    if (identity === undefined || !authorize(identity, MCP_ROLE_NEED, auth.resource.scopes).ok) return false;
    const message = endpoint.leanMessage(body.toString('utf8'), request.headers);
    if (message === undefined) return false;
    if (sessionId !== undefined) return serveInSession(message, sessionId, identity, response);
    if (!('method' in message) || !('id' in message)) return false;
    // Settled at once when limits are off: nothing to wait for.
    const allowed = perimeter.withinLimit(identity.name);
    if (allowed !== true && !(await allowed)) return false;
    const answer = await endpoint.leanAnswer(message, identity);
    const length = typeof answer === 'string' ? Buffer.byteLength(answer) : answer.length;
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
    response.end(answer);
    return true;
  }

  async function serveInSession(message: JsonRpcMessage, sessionId: string, identity: GatewayIdentity, response: ServerResponse): Promise<boolean> {
    const server = endpoint.leanSession(sessionId, identity);
    if (server === undefined) return false;
    if (!('method' in message) || !('id' in message)) {
      // An answer to a request the lane relayed, or the cancellation of a call it serves;
      // every other notification or answer is the SDK server's.
      if (!sessionLane.receive(server, message)) return false;
      const allowed = perimeter.withinLimit(identity.name);
      if (allowed !== true && !(await allowed)) return false;
      response.writeHead(202, { [SESSION_HEADER]: sessionId }).end();
      return true;
    }
    const reply = new SessionReply(response, sessionId);
    const work = sessionLane.plan(server, message, reply);
    if (work === undefined) return false;
    const allowed = perimeter.withinLimit(identity.name);
    if (allowed !== true && !(await allowed)) return false;
    reply.end(await work());
    return true;
  }
}
