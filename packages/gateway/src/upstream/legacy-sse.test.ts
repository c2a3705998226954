import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from './legacy-sse.js';

const SSE = new URL('http://127.0.0.1:4000/sse');

describe('resolveEndpoint: where the endpoint event may send the gateway', () => {
  it.each([
    ['/messages?sessionId=abc', 'http://127.0.0.1:4000/messages?sessionId=abc'],
    ['messages?sessionId=abc', 'http://127.0.0.1:4000/messages?sessionId=abc'],
    ['http://127.0.0.1:4000/rpc#frag', 'http://127.0.0.1:4000/rpc'],
    ['  /messages  ', 'http://127.0.0.1:4000/messages'],
  ])('takes %j on the same origin as %s', (data, expected) => {
    const resolved = resolveEndpoint('svc', SSE, data);
    expect(resolved.ok && resolved.url.toString()).toBe(expected);
  });

  it.each([
    'http://169.254.169.254/latest/meta-data',
    'https://127.0.0.1:4000/messages',
    'http://127.0.0.1:4001/messages',
    '//evil.example/messages',
    'http://localhost:4000/messages',
  ])('refuses %j on another origin, naming the service', (data) => {
    const resolved = resolveEndpoint('svc', SSE, data);
    expect(resolved).toMatchObject({ ok: false, reason: expect.stringContaining('service "svc" named a message endpoint on another origin') });
  });

  it.each(['', '   ', `/${'x'.repeat(3000)}`, 'http://[::1'])('refuses %j as not a usable URL', (data) => {
    expect(resolveEndpoint('svc', SSE, data.slice(0, 4000))).toMatchObject({ ok: false, reason: expect.stringContaining('not a usable URL') });
  });
});
