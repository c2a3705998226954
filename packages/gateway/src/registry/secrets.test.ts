import { describe, expect, it } from 'vitest';
import { sealCredential, unsealCredential } from './secrets.js';

const key = Buffer.alloc(32, 3);

describe('sealed credentials', () => {
  it('seals literal secrets and opens them again with the same key and service', () => {
    const sealed = sealCredential({ type: 'header', header: 'X-Key', value: 'top secret' }, key, 'svc');
    expect(JSON.stringify(sealed)).not.toContain('top secret');
    expect(unsealCredential(sealed, key, 'svc')).toEqual({ spec: { type: 'header', header: 'X-Key', value: 'top secret' } });
  });

  it('does not open with another key, for another service, or without a key, and says why', () => {
    const sealed = sealCredential({ type: 'bearer', token: 't' }, key, 'svc');
    expect(unsealCredential(sealed, Buffer.alloc(32, 4), 'svc')).toMatchObject({ spec: { type: 'bearer' }, problem: expect.stringMatching(/not the key/) });
    expect(unsealCredential(sealed, key, 'other')).toMatchObject({ spec: { type: 'bearer' }, problem: expect.any(String) });
    expect(unsealCredential(sealed, undefined, 'svc').problem).toMatch(/MESHGATE_SECRET_KEY is not set/);
  });

  it('leaves references alone and refuses to store a literal without a key', () => {
    expect(sealCredential({ type: 'bearer', tokenEnv: 'T' }, undefined, 'svc')).toEqual({ type: 'bearer', tokenEnv: 'T' });
    expect(() => sealCredential({ type: 'bearer', token: 't' }, undefined, 'svc')).toThrow(/MESHGATE_SECRET_KEY/);
  });
});
