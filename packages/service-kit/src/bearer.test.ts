import { describe, expect, it } from 'vitest';
import { DEFAULT_BEARER_TOKEN, parseBearer, StaticTokenVerifier, tokensEqual } from './bearer.js';

describe('parseBearer', () => {
  it.each([
    ['an absent header', undefined, 'missing'],
    ['a null header', null, 'missing'],
    ['an empty header', '', 'missing'],
    ['the Basic scheme', 'Basic dXNlcjpwYXNz', 'scheme'],
    ['a bare token without scheme', 'mcp-token-123', 'scheme'],
    ['"Bearer" alone', 'Bearer', 'empty'],
    ['"Bearer" followed by spaces only', 'Bearer    ', 'empty'],
  ] as const)('refuses %s with reason %s', (_label, header, reason) => {
    expect(parseBearer(header)).toEqual({ ok: false, reason });
  });

  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('accepts the scheme spelled %s (schemes are case-insensitive)', (scheme) => {
    expect(parseBearer(`${scheme} abc.def`)).toEqual({ ok: true, token: 'abc.def' });
  });

  it('trims surrounding whitespace from the token', () => {
    expect(parseBearer('Bearer   tok  ')).toEqual({ ok: true, token: 'tok' });
  });
});

describe('tokensEqual', () => {
  it('is true for the same token and false for a different one', () => {
    expect(tokensEqual('mcp-token-123', 'mcp-token-123')).toBe(true);
    expect(tokensEqual('mcp-token-124', 'mcp-token-123')).toBe(false);
  });

  it('is false, without throwing, when the lengths differ', () => {
    expect(tokensEqual('short', 'a-much-longer-secret-token')).toBe(false);
    expect(tokensEqual('', 'x')).toBe(false);
  });
});

describe('StaticTokenVerifier', () => {
  it('matches only the configured token', () => {
    const verifier = new StaticTokenVerifier(DEFAULT_BEARER_TOKEN);
    expect(verifier.matches('mcp-token-123')).toBe(true);
    expect(verifier.matches('MCP-TOKEN-123')).toBe(false);
    expect(verifier.matches('mcp-token-123 ')).toBe(false);
    expect(verifier.matches('')).toBe(false);
  });

  it('does not keep the token in readable form', () => {
    const verifier = new StaticTokenVerifier('s3cret-value');
    expect(JSON.stringify(verifier)).not.toContain('s3cret-value');
    expect(Object.values(verifier)).toEqual([]);
  });
});
