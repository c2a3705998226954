import { describe, expect, it } from 'vitest';
import { isLoopbackBind, parseAllowedHosts, parseAllowedOrigins } from './config.js';

describe('perimeter settings', () => {
  it('allows loopback pages only when no origins are configured', () => {
    expect(parseAllowedOrigins(undefined)).toBe('loopback');
    expect(parseAllowedOrigins('*')).toBe('*');
    expect(parseAllowedOrigins('https://app.example.com, http://localhost:5173/')).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it('refuses an origin with a path or another scheme, naming the variable', () => {
    expect(() => parseAllowedOrigins('https://app.example.com/ui')).toThrow(/MESHGATE_ALLOWED_ORIGINS/);
    expect(() => parseAllowedOrigins('app.example.com')).toThrow(/MESHGATE_ALLOWED_ORIGINS/);
  });

  it('accepts loopback names when bound to loopback, and any Host otherwise', () => {
    expect(parseAllowedHosts(undefined, '127.0.0.1')).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(parseAllowedHosts(undefined, '0.0.0.0')).toBe('*');
    expect(parseAllowedHosts('mcp-gateway:3001, localhost', '0.0.0.0')).toEqual(['mcp-gateway:3001', 'localhost']);
    expect(() => parseAllowedHosts('http://x/', '0.0.0.0')).toThrow(/MESHGATE_ALLOWED_HOSTS/);
  });

  it('knows which bind addresses are loopback', () => {
    expect(['127.0.0.1', 'localhost', '::1', '[::1]'].every(isLoopbackBind)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.5'].some(isLoopbackBind)).toBe(false);
  });
});
