import { describe, expect, it } from 'vitest';
import { CORS_ALLOW_HEADERS, corsOrigin, corsPreflightHeaders, corsResponseHeaders, isPreflight } from './cors.js';

describe('corsOrigin', () => {
  it.each([
    ['no Origin: not a browser, no CORS', undefined, 'loopback', undefined],
    ['a loopback page by default', 'http://localhost:5173', 'loopback', 'http://localhost:5173'],
    ['a foreign page by default', 'https://app.example.com', 'loopback', undefined],
    ['a listed origin', 'https://app.example.com', ['https://app.example.com'], 'https://app.example.com'],
    ['an unlisted origin', 'https://other.example.com', ['https://app.example.com'], undefined],
    ['any http(s) page under *, echoed rather than *', 'https://any.example', '*', 'https://any.example'],
    ['the opaque origin null, even under *', 'null', '*', undefined],
    ['a non-http scheme under *', 'chrome-extension://abc', '*', undefined],
  ] as const)('%s', (_what, origin, allowed, expected) => {
    expect(corsOrigin(origin, allowed)).toBe(expected);
  });
});

describe('isPreflight', () => {
  it('is OPTIONS with Access-Control-Request-Method only', () => {
    expect(isPreflight('OPTIONS', 'POST')).toBe(true);
    expect(isPreflight('OPTIONS', undefined)).toBe(false);
    expect(isPreflight('OPTIONS', '')).toBe(false);
    expect(isPreflight('POST', 'POST')).toBe(false);
  });
});

describe('CORS headers', () => {
  it('expose what an MCP page must read and vary on Origin', () => {
    const headers = corsResponseHeaders('https://app.example.com');
    expect(headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(headers['vary']).toBe('Origin');
    expect(headers['access-control-expose-headers']).toMatch(/Mcp-Session-Id.*MCP-Protocol-Version.*WWW-Authenticate/);
  });

  it('allow the MCP request headers and requested Mcp-Param-* headers in a preflight, nothing else unknown', () => {
    const headers = corsPreflightHeaders('https://app.example.com', 'GET, POST, DELETE', 'Mcp-Param-Region, X-Evil, mcp-param-region');
    const allowed = headers['access-control-allow-headers']!.split(', ');
    expect(allowed).toEqual([...CORS_ALLOW_HEADERS, 'mcp-param-region']);
    for (const name of ['Authorization', 'Content-Type', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Last-Event-ID']) expect(allowed).toContain(name);
    expect(headers['access-control-allow-methods']).toBe('GET, POST, DELETE');
    expect(headers['access-control-max-age']).toBe('7200');
  });
});
