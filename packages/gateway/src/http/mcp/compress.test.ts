import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { acceptsGzip, GZIP_MIN_BYTES, gzipListing } from './compress.js';

const asking = (acceptEncoding?: string) => ({ headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding } }) as IncomingMessage;

/** A listing result's JSON, as the writer memoizes it. */
const resultJson = (tools: number) =>
  Buffer.from(
    JSON.stringify({
      tools: Array.from({ length: tools }, (_, i) => ({ name: `tool_${i}`, description: `Tool number ${i}`, inputSchema: { type: 'object' } })),
    }),
  );

/** gzipListing once its deflate is done (the first call only starts it). */
async function ready(id: string, result: Buffer): Promise<Buffer[]> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const pieces = gzipListing(id, result);
    if (pieces !== undefined) return pieces;
    await sleep(5);
  }
  throw new Error('the deflate never finished');
}

describe('acceptsGzip', () => {
  it('takes what the SDKs and browsers send, and refuses what says no', () => {
    for (const yes of ['gzip', 'gzip, deflate, br', 'br;q=1, gzip;q=0.8', '*', 'x-gzip, gzip']) expect(acceptsGzip(asking(yes)), yes).toBe(true);
    for (const no of [undefined, '', 'identity', 'br', 'deflate', 'gzip;q=0', '*;q=0', 'gzip;q=0.1, identity;q=1'])
      expect(acceptsGzip(asking(no)), String(no)).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe('gzipListing', () => {
  it('starts the deflate on first sight, then answers a gzip member that decodes to the answer with the id last', async () => {
    const result = resultJson(300);
    expect(gzipListing('1', result)).toBeUndefined();
    for (const id of ['1', '"abc"', 'null', JSON.stringify('ü "q" \\ \u2028'), '12345678901234567890']) {
      const gzip = Buffer.concat(await ready(id, result));
      const text = gunzipSync(gzip).toString('utf8');
      expect(text).toBe(`{"jsonrpc":"2.0","result":${result.toString('utf8')},"id":${id}}`);
      expect(JSON.parse(text).id).toEqual(JSON.parse(id));
      expect(gzip.length).toBeLessThan(result.length / 4);
    }
  });

  it('leaves small listings and ids too long for one stored block uncompressed', async () => {
    const small = Buffer.from(JSON.stringify({ tools: [{ name: 'a' }] }));
    expect(small.length).toBeLessThan(GZIP_MIN_BYTES);
    expect(gzipListing('1', small)).toBeUndefined();
    await sleep(20);
    expect(gzipListing('1', small)).toBeUndefined();
    const result = resultJson(300);
    await ready('1', result);
    expect(gzipListing(JSON.stringify('x'.repeat(70_000)), result)).toBeUndefined();
    expect(gzipListing(JSON.stringify('x'.repeat(60_000)), result)).toBeDefined();
  });
});
