import { describe, expect, it } from 'vitest';
import { metricsAccess } from './metrics-endpoint.js';
import { requestIdOf } from './request-id.js';

describe('metricsAccess', () => {
  it.each([
    ['127.0.0.1', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.5', false],
    ['192.168.1.2', false],
    [undefined, false],
  ])('without a token, %s may scrape: %s', (address, ok) => {
    expect(metricsAccess(undefined, address, undefined).ok).toBe(ok);
  });

  it('with a token, any address presenting it may scrape, and none without it', () => {
    expect(metricsAccess('t0ken-t0ken-t0ken', '10.0.0.5', 'Bearer t0ken-t0ken-t0ken').ok).toBe(true);
    expect(metricsAccess('t0ken-t0ken-t0ken', '127.0.0.1', undefined)).toMatchObject({ ok: false, status: 401 });
    expect(metricsAccess('t0ken-t0ken-t0ken', '127.0.0.1', 'Bearer other')).toMatchObject({ ok: false, status: 401 });
  });

  it('names the settings to set when it refuses a remote scraper', () => {
    expect(metricsAccess(undefined, '10.0.0.5', undefined)).toMatchObject({
      ok: false,
      status: 403,
      message: expect.stringContaining('MESHGATE_METRICS_TOKEN'),
    });
  });
});

describe('requestIdOf', () => {
  it('keeps a safe client id and replaces anything else with a UUID', () => {
    expect(requestIdOf('abc-123_x.y:z')).toBe('abc-123_x.y:z');
    for (const bad of ['', 'a b', 'x'.repeat(129), 'quote"', 'new\nline', ['a', 'b'], undefined]) {
      expect(requestIdOf(bad as string)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    }
  });
});
