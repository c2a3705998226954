import { describe, expect, it } from 'vitest';
import { checkHost, checkOrigin, splitHost } from './origin.js';

describe('checkOrigin', () => {
  it.each([
    ['no Origin (curl, SDK clients, services)', undefined, 'loopback', true],
    ['a page on localhost', 'http://localhost:5173', 'loopback', true],
    ['a page on 127.0.0.1', 'https://127.0.0.1:8443', 'loopback', true],
    ['a page on [::1]', 'http://[::1]:3000', 'loopback', true],
    ['a rebinding page', 'http://evil.example', 'loopback', false],
    ['a look-alike name', 'http://localhost.evil.example', 'loopback', false],
    ['the opaque origin of a sandboxed frame', 'null', 'loopback', false],
    ['a non-http scheme', 'file://localhost', 'loopback', false],
    ['a listed origin', 'https://app.example.com', ['https://app.example.com'], true],
    ['a listed host on another port', 'https://app.example.com:8443', ['https://app.example.com'], false],
    ['a listed host over http', 'http://app.example.com', ['https://app.example.com'], false],
    ['anything under *', 'http://evil.example', '*', true],
  ] as const)('%s', (_what, origin, allowed, ok) => {
    expect(checkOrigin(origin, allowed).ok).toBe(ok);
  });

  it('names the refused origin and the setting in the message', () => {
    expect(checkOrigin('http://evil.example', 'loopback')).toEqual({
      ok: false,
      message: 'Forbidden: Origin "http://evil.example" is not allowed; see MESHGATE_ALLOWED_ORIGINS',
    });
  });
});

describe('checkHost', () => {
  const loopback = ['localhost', '127.0.0.1', '[::1]'];
  it.each([
    ['localhost with a port', 'localhost:3001', loopback, true],
    ['127.0.0.1', '127.0.0.1:3001', loopback, true],
    ['IPv6 loopback', '[::1]:3001', loopback, true],
    ['upper case', 'LOCALHOST:3001', loopback, true],
    ['a rebinding name', 'evil.example:3001', loopback, false],
    ['a compose service name under *', 'mcp-gateway:3001', '*', true],
    ['a listed name with its port', 'mcp-gateway:3001', ['mcp-gateway:3001'], true],
    ['a listed name on another port', 'mcp-gateway:9999', ['mcp-gateway:3001'], false],
    ['no Host when a list is in force', undefined, loopback, false],
  ] as const)('%s', (_what, host, allowed, ok) => {
    expect(checkHost(host, allowed).ok).toBe(ok);
  });

  it('splits names and ports, IPv6 included', () => {
    expect(splitHost('[::1]:3001')).toEqual({ name: '[::1]', port: '3001' });
    expect(splitHost('Example.COM.')).toEqual({ name: 'example.com', port: undefined });
  });
});
