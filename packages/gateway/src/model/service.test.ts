import { describe, expect, it } from 'vitest';
import { redactUrl } from './service.js';

describe('redactUrl', () => {
  it('hides a password in the URL and the values of secret-looking query parameters, and leaves the rest', () => {
    expect(redactUrl('postgres://meshgate:s3cr%40t@db:5432/registry?sslmode=require')).toBe('postgres://meshgate:[redacted]@db:5432/registry?sslmode=require');
    expect(redactUrl('https://api.test/mcp?api_key=abc&region=eu')).toBe('https://api.test/mcp?api_key=[redacted]&region=eu');
    expect(redactUrl('https://user@api.test/mcp')).toBe('https://user@api.test/mcp');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});
