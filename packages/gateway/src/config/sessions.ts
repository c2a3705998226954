import { z } from 'zod';
import type { ParseResult } from '../auth/scopes.js';
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from '../session/registry.js';
import { withDefault } from './setting.js';

export type { SessionLimits } from '../session/registry.js';

const POSITIVE = 'must be a positive integer';
const positive = z.coerce.number({ error: POSITIVE }).int(POSITIVE).min(1, POSITIVE);

/** The session variables: part of the env schema and of docs/configuration.md. */
export const SESSION_SETTINGS = {
  MESHGATE_SESSION_IDLE_MS: withDefault(positive, DEFAULT_SESSION_LIMITS.idleMs, 'A client session unused this long is closed'),
  MESHGATE_MAX_SESSIONS: withDefault(positive, DEFAULT_SESSION_LIMITS.maxSessions, 'Open client sessions in all; a new one beyond it is refused'),
  MESHGATE_MAX_SESSIONS_PER_IDENTITY: withDefault(
    positive,
    DEFAULT_SESSION_LIMITS.maxPerIdentity,
    'Open client sessions of one token or JWT subject, so one client cannot fill the table; at most `MESHGATE_MAX_SESSIONS`',
  ),
};

/** The session variables, as parsed by the env schema. */
export interface SessionEnv {
  MESHGATE_SESSION_IDLE_MS: number;
  MESHGATE_MAX_SESSIONS: number;
  MESHGATE_MAX_SESSIONS_PER_IDENTITY: number;
}

/** The session limits; a per-identity limit above the total is a mistake, not a no-op. */
export function resolveSessions(values: SessionEnv): ParseResult<SessionLimits> {
  const { MESHGATE_SESSION_IDLE_MS: idleMs, MESHGATE_MAX_SESSIONS: maxSessions, MESHGATE_MAX_SESSIONS_PER_IDENTITY: maxPerIdentity } = values;
  if (maxPerIdentity > maxSessions) {
    return {
      ok: false,
      message: `env.MESHGATE_MAX_SESSIONS_PER_IDENTITY: ${maxPerIdentity} is more than MESHGATE_MAX_SESSIONS (${maxSessions}); lower it or raise MESHGATE_MAX_SESSIONS`,
    };
  }
  return { ok: true, value: { idleMs, maxSessions, maxPerIdentity } };
}
