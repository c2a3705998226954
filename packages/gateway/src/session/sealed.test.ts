import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_SEALED_ID_CHARS, parseSessionKeys, SessionSealer } from './sealed.js';
import type { Handshake } from './session.js';

const handshake: Handshake = {
  protocolVersion: '2025-11-25',
  clientCapabilities: { sampling: {}, roots: { listChanged: true } },
  offered: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, logging: {} },
  clientInfo: { name: 'inspector', version: '1.2.3' },
};
const key = () => randomBytes(32);

describe('SessionSealer', () => {
  it('seals the identity, handshake, issue time and a random key, and opens them again', () => {
    const sealer = new SessionSealer([key()]);
    const { id, key: inner } = sealer.seal('alice', handshake, 1_700_000_000_000);
    expect(id.startsWith('s1.')).toBe(true);
    expect(sealer.open(id)).toEqual({ identity: 'alice', handshake, issuedAt: 1_700_000_000_000, key: inner });
    // Nothing of the payload is readable in the id.
    expect(id).not.toContain('alice');
    expect(Buffer.from(id.slice(3), 'base64url').toString('latin1')).not.toContain('alice');
  });

  it('gives every session a different id and key, even with the same handshake at the same time', () => {
    const sealer = new SessionSealer([key()]);
    const a = sealer.seal('alice', handshake, 1);
    const b = sealer.seal('alice', handshake, 1);
    expect(a.id).not.toBe(b.id);
    expect(a.key).not.toBe(b.key);
    expect(a.key).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('opens ids sealed with any listed key and seals with the newest (rotation)', () => {
    const [oldKey, newKey] = [key(), key()];
    const before = new SessionSealer([oldKey]);
    const during = new SessionSealer([newKey, oldKey]);
    const after = new SessionSealer([newKey]);
    const oldId = before.seal('alice', handshake).id;
    const newId = during.seal('alice', handshake).id;
    expect(during.open(oldId)?.identity).toBe('alice');
    expect(after.open(newId)?.identity).toBe('alice');
    expect(before.open(newId)).toBeUndefined();
    expect(after.open(oldId)).toBeUndefined();
  });

  it('refuses a tampered, truncated, foreign or malformed id', () => {
    const sealer = new SessionSealer([key()]);
    const { id } = sealer.seal('alice', handshake);
    const flipped = id.slice(0, 20) + (id[20] === 'A' ? 'B' : 'A') + id.slice(21);
    for (const bad of [
      flipped,
      id.slice(0, -2),
      `${id}AA`,
      new SessionSealer([key()]).seal('alice', handshake).id,
      's1.',
      's1.!!!!',
      'not-sealed',
      crypto.randomUUID(),
      `s1.${'A'.repeat(MAX_SEALED_ID_CHARS)}`,
    ]) {
      expect(sealer.open(bad)).toBeUndefined();
    }
  });

  it('keeps ids short enough for a header however big the client makes its capabilities', () => {
    const sealer = new SessionSealer([key()]);
    const typical = sealer.seal('alice', handshake).id;
    expect(typical.length).toBeLessThan(512);
    const bloated: Handshake = {
      ...handshake,
      clientCapabilities: { sampling: { huge: 'x'.repeat(100_000) }, experimental: { junk: 'y'.repeat(100_000) } } as never,
      clientInfo: { name: 'n'.repeat(200), version: 'v'.repeat(200) },
    };
    const { id } = sealer.seal('alice', bloated);
    expect(id.length).toBeLessThan(800);
    // What the gateway acts on survives: the client takes sampling.
    expect(sealer.open(id)?.handshake.clientCapabilities).toEqual({ sampling: {} });
  });
});

describe('parseSessionKeys', () => {
  it('takes base64 and base64url keys of 32 bytes, newest first', () => {
    const a = key();
    const b = Buffer.from(`${'\xff'.repeat(31)}\xfe`, 'latin1');
    const parsed = parseSessionKeys(`${a.toString('base64')}, ${b.toString('base64url')}`);
    expect(parsed).toEqual({ ok: true, keys: [a, b] });
  });

  it('refuses a key of the wrong size or alphabet, saying which and how to make one, never quoting it', () => {
    const secret = Buffer.alloc(16, 9).toString('base64');
    const short = parseSessionKeys(`${key().toString('base64')},${secret}`);
    expect(short.ok).toBe(false);
    if (!short.ok) {
      expect(short.message).toContain('key 2 of 2 decodes to 16 bytes, not 32');
      expect(short.message).toContain('openssl rand -base64 32');
      expect(short.message).not.toContain(secret);
    }
    const alphabet = parseSessionKeys('not a key!');
    expect(alphabet.ok).toBe(false);
    if (!alphabet.ok) expect(alphabet.message).toContain('not base64');
  });
});
