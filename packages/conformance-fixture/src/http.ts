/**
 * The fixture's HTTP face: `/mcp` for clients of both protocol eras, `/health` for
 * process supervisors. 2025-era requests are served with sessions (see sessions.ts);
 * 2026-07-28 requests go to the SDK's stateless per-request handler.
 *
 * DNS-rebinding protection: a non-localhost Host or Origin is refused before anything
 * else, as the spec requires of servers bound to localhost. Bearer auth is optional
 * (the conformance suite connects without a token).
 */
import { bearerAuth, mountHealth, StaticTokenVerifier } from '@meshgate/service-kit';
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  isLegacyRequest,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
  readRequestBody,
} from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { createRequestState } from './input-required.js';
import { ListChanges } from './list-changes.js';
import { createFixtureServer, type FixtureShared } from './server.js';
import { jsonRpcErrorResponse, Sessions } from './sessions.js';
import { loadSkills } from './skills.js';
import { TaskStore } from './tasks.js';

export interface FixtureAppOptions {
  /** When set, `/mcp` requires `Authorization: Bearer <token>`. */
  token?: string;
  onerror?: (error: Error) => void;
}

export interface FixtureApp {
  readonly app: Hono;
  close(): Promise<void>;
}

export async function createFixtureApp(options: FixtureAppOptions = {}): Promise<FixtureApp> {
  const shared: FixtureShared = {
    requestState: createRequestState(),
    tasks: new TaskStore(),
    skills: await loadSkills(),
    lists: new ListChanges(),
  };
  const sessions = new Sessions({ createServer: () => createFixtureServer(shared, 'legacy') });
  const modern = createMcpHandler(({ era }) => createFixtureServer(shared, era), {
    legacy: 'reject',
    ...(options.onerror === undefined ? {} : { onerror: options.onerror }),
  });
  shared.lists.notifier = modern.notify;
  const hosts = localhostAllowedHostnames();
  const origins = localhostAllowedOrigins();

  const app = new Hono();
  mountHealth(app, 'conformance-fixture', () => ({ ok: true, sessions: sessions.size }));
  app.use('/mcp', async function dnsRebindingGuard(c, next) {
    const refused = hostHeaderValidationResponse(c.req.raw, hosts) ?? originValidationResponse(c.req.raw, origins);
    if (refused !== undefined) return refused;
    await next();
  });
  if (options.token !== undefined) {
    const verifier = new StaticTokenVerifier(options.token);
    app.use('/mcp', bearerAuth({ authenticate: (token) => (verifier.matches(token) ? { name: 'bearer' } : undefined) }));
  }
  app.all('/mcp', (c) => route(c.req.raw));

  async function route(request: Request): Promise<Response> {
    const sessionId = request.headers.get('mcp-session-id');
    if (request.method !== 'POST') {
      if (sessionId !== null) return sessions.handle(sessionId, request);
      if (await isLegacyRequest(request)) return jsonRpcErrorResponse(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return modern.fetch(request);
    }
    const body = await readRequestBody(request);
    if (body.tooLarge) return jsonRpcErrorResponse(413, -32600, 'Request body too large');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      return jsonRpcErrorResponse(400, -32700, 'Parse error: the body is not JSON');
    }
    if (!(await isLegacyRequest(request, parsed))) return modern.fetch(request, { parsedBody: parsed });
    if (sessionId !== null) return sessions.handle(sessionId, request, parsed);
    if (isInitialize(parsed)) return sessions.open(request, parsed);
    return jsonRpcErrorResponse(400, -32000, 'Bad Request: Mcp-Session-Id header is required; send initialize first');
  }

  return {
    app,
    close: async () => {
      shared.tasks.close();
      await modern.close();
      await sessions.close();
    },
  };
}

function isInitialize(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { method?: unknown }).method === 'initialize';
}
