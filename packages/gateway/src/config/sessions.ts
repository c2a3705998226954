import { z } from 'zod';
import type { ParseResult } from '../auth/scopes.js';
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from '../session/registry.js';
import { MAX_STREAM_BACKLOG_BYTES } from '../session/replay.js';
import { parseSessionKeys } from '../session/sealed.js';
import { optional, withDefault } from './setting.js';

export type { SessionLimits } from '../session/registry.js';

const POSITIVE = 'must be a positive integer';
const positive = z.coerce.number({ error: POSITIVE }).int(POSITIVE).min(1, POSITIVE);
const NATURAL = 'must be a whole number, 0 or more';
const natural = z.coerce.number({ error: NATURAL }).int(NATURAL).min(0, NATURAL);
const REPLAY_BYTES = `must be a whole number from 0 to ${MAX_STREAM_BACKLOG_BYTES} (the backlog bound of a stream)`;
// A replay larger than the backlog bound would be cut off by it on the reconnecting stream.
const replayBytes = z.coerce.number({ error: REPLAY_BYTES }).int(REPLAY_BYTES).min(0, REPLAY_BYTES).max(MAX_STREAM_BACKLOG_BYTES, REPLAY_BYTES);

/** The session variables: part of the env schema and of docs/configuration.md. */
export const SESSION_SETTINGS = {
  MESHGATE_SESSION_IDLE_MS: withDefault(positive, DEFAULT_SESSION_LIMITS.idleMs, 'A client session unused this long is closed'),
  MESHGATE_MAX_SESSIONS: withDefault(positive, DEFAULT_SESSION_LIMITS.maxSessions, 'Open client sessions in all; a new one beyond it is refused'),
  MESHGATE_MAX_SESSIONS_PER_IDENTITY: withDefault(
    positive,
    DEFAULT_SESSION_LIMITS.maxPerIdentity,
    'Open client sessions of one token or JWT subject, so one client cannot fill the table; at most `MESHGATE_MAX_SESSIONS`',
  ),
  MESHGATE_REPLAY_BUFFER_EVENTS: withDefault(
    natural,
    DEFAULT_SESSION_LIMITS.replayEvents,
    'Events each event stream of a session keeps for a client that reconnects with `Last-Event-ID`; 0 keeps none (docs/sessions.md)',
  ),
  MESHGATE_REPLAY_BUFFER_BYTES: withDefault(
    replayBytes,
    DEFAULT_SESSION_LIMITS.replayBytes,
    'Bytes each event stream of a session keeps for a client that reconnects; at most 4194304 (the backlog bound of a stream)',
  ),
  MESHGATE_REPLAY_BUFFER_TOTAL_BYTES: withDefault(
    positive,
    DEFAULT_SESSION_LIMITS.replayTotalBytes,
    'Bytes all sessions together keep for replay; past it the stream that records evicts its own oldest events',
  ),
  MESHGATE_SESSION_KEYS: optional(
    z.string().min(1),
    '(none: random session ids, one replica)',
    'Keys that seal session ids so any replica serves any session: comma-separated, newest first (it seals, all open), each 32 bytes as base64 or base64url (`openssl rand -base64 32`); the same list on every replica (docs/operations.md)',
  ),
  MESHGATE_SESSION_MAX_AGE_MS: withDefault(
    positive,
    DEFAULT_SESSION_LIMITS.maxAgeMs,
    'With `MESHGATE_SESSION_KEYS`: a sealed session id is accepted this long after it was issued, then the client initializes again',
  ),
};

/** The session variables, as parsed by the env schema. */
export interface SessionEnv {
  MESHGATE_SESSION_IDLE_MS: number;
  MESHGATE_MAX_SESSIONS: number;
  MESHGATE_MAX_SESSIONS_PER_IDENTITY: number;
  MESHGATE_REPLAY_BUFFER_EVENTS: number;
  MESHGATE_REPLAY_BUFFER_BYTES: number;
  MESHGATE_REPLAY_BUFFER_TOTAL_BYTES: number;
  MESHGATE_SESSION_KEYS?: string | undefined;
  MESHGATE_SESSION_MAX_AGE_MS: number;
}

/** The keys that seal session ids, newest first; undefined when unset (one replica, random ids). */
export function resolveSessionKeys(values: Pick<SessionEnv, 'MESHGATE_SESSION_KEYS'>): ParseResult<Buffer[] | undefined> {
  if (values.MESHGATE_SESSION_KEYS === undefined) return { ok: true, value: undefined };
  const parsed = parseSessionKeys(values.MESHGATE_SESSION_KEYS);
  return parsed.ok ? { ok: true, value: parsed.keys } : { ok: false, message: `env.MESHGATE_SESSION_KEYS: ${parsed.message}` };
}

/** The session limits; a per-identity limit above the total is a mistake, not a no-op. */
export function resolveSessions(values: SessionEnv): ParseResult<SessionLimits> {
  const {
    MESHGATE_SESSION_IDLE_MS: idleMs,
    MESHGATE_MAX_SESSIONS: maxSessions,
    MESHGATE_MAX_SESSIONS_PER_IDENTITY: maxPerIdentity,
    MESHGATE_REPLAY_BUFFER_EVENTS: replayEvents,
    MESHGATE_REPLAY_BUFFER_BYTES: replayBytes,
    MESHGATE_REPLAY_BUFFER_TOTAL_BYTES: replayTotalBytes,
    MESHGATE_SESSION_MAX_AGE_MS: maxAgeMs,
  } = values;
  if (maxPerIdentity > maxSessions) {
    return {
      ok: false,
      message: `env.MESHGATE_MAX_SESSIONS_PER_IDENTITY: ${maxPerIdentity} is more than MESHGATE_MAX_SESSIONS (${maxSessions}); lower it or raise MESHGATE_MAX_SESSIONS`,
    };
  }
  return { ok: true, value: { idleMs, maxSessions, maxPerIdentity, replayEvents, replayBytes, replayTotalBytes, maxAgeMs } };
}
