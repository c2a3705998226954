import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ClientCapabilities, ServerCapabilities } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Handshake } from './session.js';

/**
 * Sealed session ids (docs/sessions.md "Sessions any replica can serve"): the id a client
 * holds carries what a replica needs to rebuild its session on first sight (whose it is,
 * the handshake, when it was issued, a random part), sealed with AES-256-GCM under a key
 * every replica shares (`MESHGATE_SESSION_KEYS`, newest first). Any listed key opens an id,
 * so a key can be rotated in before the old one is dropped; only the newest seals.
 *
 * The id is `s1.` then base64url of nonce (12 bytes), ciphertext and GCM tag (16 bytes).
 * Anything that does not open (tampered, another deployment's, an unknown key, malformed)
 * is indistinguishable from an unknown id: the caller answers 404.
 */

const PREFIX = 's1.';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Bound to every id: an id sealed for anything else under the same key does not open as a session. */
const AAD = Buffer.from('meshgate-session-id/1');
/** Longest id that can be ours: longer is refused before any decryption is tried. */
export const MAX_SEALED_ID_CHARS = 2048;
/** The client's name and version are kept this long in the id (they are only shown to admins). */
const CLIENT_TEXT_IN_ID = 64;
/** Client capabilities whose presence the gateway acts on; nothing else of them is sealed. */
const CLIENT_CAPABILITIES = ['sampling', 'elicitation', 'roots', 'tasks'] as const;
/** A sealed capability whose JSON is larger than this is kept as present (`{}`) only, so a client cannot bloat its id. */
const MAX_CAPABILITY_JSON = 256;

/** What a sealed id says of its session. */
export interface SealedSession {
  /** The identity (credential name) that opened the session. */
  identity: string;
  handshake: Handshake;
  /** When the id was issued (epoch ms). */
  issuedAt: number;
  /** The id's random part (128 bits, base64url): the session's key in the shared session-state store. */
  key: string;
  /** The virtual server whose endpoint opened it; absent for `/mcp`. */
  server?: string;
}

const payloadSchema = z.object({
  i: z.string().min(1),
  v: z.string().min(1),
  c: z.record(z.string(), z.unknown()),
  o: z.record(z.string(), z.unknown()),
  n: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
  t: z.number().int().nonnegative(),
  r: z.string().min(16),
  s: z.string().min(1).max(63).optional(),
});

/** Parses `MESHGATE_SESSION_KEYS`: base64 or base64url 32-byte keys, comma-separated. The message never quotes a key. */
export function parseSessionKeys(text: string): { ok: true; keys: Buffer[] } | { ok: false; message: string } {
  const parts = text.split(',').map((part) => part.trim());
  const keys: Buffer[] = [];
  for (const [index, part] of parts.entries()) {
    const place = `key ${index + 1} of ${parts.length}`;
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(part)) {
      return { ok: false, message: `${place} is not base64 or base64url; generate one with \`openssl rand -base64 32\`` };
    }
    const key = Buffer.from(part.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length !== KEY_BYTES) {
      return { ok: false, message: `${place} decodes to ${key.length} bytes, not ${KEY_BYTES}; generate one with \`openssl rand -base64 32\`` };
    }
    keys.push(key);
  }
  return { ok: true, keys };
}

/** Seals and opens session ids under a shared key list (newest first). */
export class SessionSealer {
  readonly #keys: readonly Buffer[];

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('a session sealer needs at least one key');
    for (const key of keys) if (key.length !== KEY_BYTES) throw new Error(`a session key must be ${KEY_BYTES} bytes`);
    this.#keys = keys;
  }

  /** A new id for a session of `identity` with `handshake` (on virtual server `server`), sealed with the newest key. */
  seal(identity: string, handshake: Handshake, issuedAt = Date.now(), server?: string): { id: string; key: string } {
    const key = randomBytes(16).toString('base64url');
    const payload = {
      i: identity,
      v: handshake.protocolVersion,
      c: sealedCapabilities(handshake.clientCapabilities),
      o: handshake.offered,
      ...(handshake.clientInfo === undefined ? {} : { n: clipped(handshake.clientInfo) }),
      t: issuedAt,
      r: key,
      ...(server === undefined ? {} : { s: server }),
    };
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys[0] as Buffer, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(AAD);
    const sealed = Buffer.concat([nonce, cipher.update(JSON.stringify(payload), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { id: PREFIX + sealed.toString('base64url'), key };
  }

  /** Whether `id` has the shape of a sealed id (it may still not open). */
  static looksSealed(id: string): boolean {
    return id.startsWith(PREFIX);
  }

  /** What the sealed id says, or undefined for anything that does not open under a listed key. */
  open(id: string): SealedSession | undefined {
    if (!id.startsWith(PREFIX) || id.length > MAX_SEALED_ID_CHARS) return undefined;
    const body = id.slice(PREFIX.length);
    if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
    const sealed = Buffer.from(body, 'base64url');
    if (sealed.length <= NONCE_BYTES + TAG_BYTES) return undefined;
    const nonce = sealed.subarray(0, NONCE_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const ciphertext = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
    for (const key of this.#keys) {
      const plain = decrypt(key, nonce, ciphertext, tag);
      if (plain === undefined) continue;
      return sessionOf(plain);
    }
    return undefined;
  }
}

function decrypt(key: Buffer, nonce: Buffer, ciphertext: Buffer, tag: Buffer): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    return undefined; // wrong key or altered: the tag does not verify
  }
}

function sessionOf(plain: string): SealedSession | undefined {
  let json: unknown;
  try {
    json = JSON.parse(plain);
  } catch {
    return undefined;
  }
  // Authentic but not of this shape: sealed by another version of the gateway; treated as unknown.
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { i, v, c, o, n, t, r, s } = parsed.data;
  return {
    identity: i,
    handshake: {
      protocolVersion: v,
      clientCapabilities: c as ClientCapabilities,
      offered: o as ServerCapabilities,
      ...(n === undefined ? {} : { clientInfo: n }),
    },
    issuedAt: t,
    key: r,
    ...(s === undefined ? {} : { server: s }),
  };
}

function sealedCapabilities(capabilities: ClientCapabilities): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const name of CLIENT_CAPABILITIES) {
    const value = (capabilities as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const json = JSON.stringify(value);
    kept[name] = json !== undefined && json.length <= MAX_CAPABILITY_JSON ? value : {};
  }
  return kept;
}

function clipped(info: { name?: string; version?: string }): { name?: string; version?: string } {
  return {
    ...(info.name === undefined ? {} : { name: info.name.slice(0, CLIENT_TEXT_IN_ID) }),
    ...(info.version === undefined ? {} : { version: info.version.slice(0, CLIENT_TEXT_IN_ID) }),
  };
}
