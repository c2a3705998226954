import type { AuthVariables } from '@meshgate/service-kit';
import { Hono } from 'hono';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { Session } from '../session/session.js';
import { requireRole } from './admin.js';

type Env = { Variables: AuthVariables<GatewayIdentity> };

/** What `GET /sessions` reads: the session registry's open sessions. */
export interface OpenSessions {
  values(): IterableIterator<Session>;
}

/**
 * How many characters of a session id are shown. A session id is the only thing besides
 * the token that lets a request into a session, so the full id is never shown; eight hex
 * characters are enough to tell a few thousand sessions apart.
 */
export const SESSION_ID_PREFIX = 8;

/** One open session as an admin sees it: never the full id, never anything of the token. */
export interface SessionView {
  id: string;
  identity: string;
  protocolVersion: string;
  client: { name: string | null; version: string | null };
  createdAt: string;
  lastActiveAt: string;
  callsInFlight: number;
  getStream: boolean;
}

export function sessionView(session: Session): SessionView {
  return {
    id: session.id.slice(0, SESSION_ID_PREFIX),
    identity: session.identity.name,
    protocolVersion: session.handshake.protocolVersion,
    client: { name: session.handshake.clientInfo?.name ?? null, version: session.handshake.clientInfo?.version ?? null },
    createdAt: new Date(session.createdAt).toISOString(),
    lastActiveAt: new Date(session.lastSeen).toISOString(),
    callsInFlight: session.calls.size,
    getStream: session.stream?.connected === true,
  };
}

/** `GET /sessions` (admin): the open client sessions, oldest first. Auth and the perimeter run before it. */
export function sessionRoutes(sessions: OpenSessions): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/sessions', requireRole('admin'), (c) => {
    const views = [...sessions.values()].sort((a, b) => a.createdAt - b.createdAt).map(sessionView);
    return c.json({ sessions: views });
  });
  return app;
}
