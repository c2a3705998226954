import { describe, expect, it } from 'vitest';
import { frozenListing, jsonResponse, readBodyLimited, serializeJson, serializeJsonChunks } from './body.js';

/** A chunked request body that records how many chunks the reader pulled. */
function streamedRequest(chunks: string[]): { request: Request; pulled: () => number } {
  let index = 0;
  const encoder = new TextEncoder();
  // highWaterMark 0: the stream pulls only when the reader asks, so `pulled` counts real reads.
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[index++];
        if (chunk === undefined) controller.close();
        else controller.enqueue(encoder.encode(chunk));
      },
    },
    { highWaterMark: 0 },
  );
  const request = new Request('http://localhost/mcp', { method: 'POST', body, duplex: 'half' } as RequestInit);
  return { request, pulled: () => index };
}

describe('readBodyLimited', () => {
  it('refuses a declared Content-Length over the limit with 413 before reading the body', async () => {
    const { request, pulled } = streamedRequest(['x'.repeat(10)]);
    request.headers.set('content-length', '2048');
    const result = await readBodyLimited(request, 1024);
    expect(result).toMatchObject({ ok: false, status: 413 });
    expect(pulled()).toBe(0);
    expect(request.bodyUsed).toBe(false);
  });

  it('cuts off a streamed body as soon as it crosses the limit, leaving the rest unread', async () => {
    const { request, pulled } = streamedRequest(['a'.repeat(600), 'b'.repeat(600), 'c'.repeat(600), 'd'.repeat(600)]);
    const result = await readBodyLimited(request, 1000);
    expect(result).toEqual({ ok: false, status: 413, message: 'Request body exceeds the limit of 1000 bytes' });
    expect(pulled()).toBeLessThan(4);
  });

  it('returns a streamed body of exactly the limit as UTF-8 text, multi-byte characters intact', async () => {
    // "é" is two bytes: 500 of them are exactly 1000 bytes, split across chunks.
    const { request } = streamedRequest(['é'.repeat(250), 'é'.repeat(250)]);
    expect(await readBodyLimited(request, 1000)).toEqual({ ok: true, text: 'é'.repeat(500) });
  });

  it('reads a body with a declared Content-Length within the limit in one go', async () => {
    const text = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { note: 'é' } });
    const request = new Request('http://localhost/mcp', { method: 'POST', body: text, headers: { 'content-length': String(Buffer.byteLength(text)) } });
    expect(await readBodyLimited(request, 1000)).toEqual({ ok: true, text });
  });

  it('still refuses a body longer than the limit when its declared Content-Length understated it', async () => {
    const { request } = streamedRequest(['a'.repeat(600), 'b'.repeat(600)]);
    request.headers.set('content-length', '10');
    expect(await readBodyLimited(request, 1000)).toMatchObject({ ok: false, status: 413 });
  });

  it('returns an empty text for a request without a body', async () => {
    expect(await readBodyLimited(new Request('http://localhost/mcp', { method: 'POST' }), 10)).toEqual({ ok: true, text: '' });
  });
});

describe('jsonResponse', () => {
  it('serialises the body with an application/json content type and extra headers', async () => {
    const response = jsonResponse(418, { a: 1 }, { 'x-extra': 'yes' });
    expect(response.status).toBe(418);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-extra')).toBe('yes');
    expect(await response.json()).toEqual({ a: 1 });
  });
});

const text = (json: string | Buffer): string => (typeof json === 'string' ? json : json.toString('utf8'));

describe('serializeJson', () => {
  const tools = Array.from({ length: 100 }, (_, i) => ({ name: `t${i}`, inputSchema: { type: 'object' }, note: i % 2 === 0 ? undefined : 'é"\\' }));

  it('answers exactly what JSON.stringify answers, for long listings and everything else', () => {
    const bodies = [
      { jsonrpc: '2.0', id: 7, result: { tools } },
      { jsonrpc: '2.0', id: 'a"b', result: { tools } },
      { jsonrpc: '2.0', id: 1, result: { tools: tools.slice(0, 3) } },
      { jsonrpc: '2.0', id: 1, result: { tools, nextCursor: 'x' } },
      { jsonrpc: '2.0', id: 1, result: { tools, nextCursor: 'a"\\b' } },
      { jsonrpc: '2.0', id: 1, result: { tools, nextCursor: 3 } },
      { jsonrpc: '2.0', id: 1, result: { nextCursor: 'x', tools } },
      { jsonrpc: '2.0', id: 2, result: Object.freeze({ tools: Object.freeze([...tools]), nextCursor: 'y' }) },
      { jsonrpc: '2.0', id: null, result: Object.freeze({ tools: Object.freeze([...tools]) }) },
      { jsonrpc: '2.0', id: undefined, result: { tools } },
      { jsonrpc: '2.0', id: 1, result: { tools, toJSON: () => ({ hidden: true }) } },
      { jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'no' } },
      { error: 'not_found', message: 'No route' },
      [1, 2, 3],
      null,
    ];
    for (const body of bodies) {
      expect(text(serializeJson(body))).toBe(JSON.stringify(body));
      expect(text(serializeJson(body))).toBe(JSON.stringify(body));
    }
  });

  it('serialises a new array afresh: a rebuilt catalog is answered as rebuilt', () => {
    const first = serializeJson({ jsonrpc: '2.0', id: 1, result: { tools } });
    const rebuilt = [...tools.slice(1), { name: 'new', inputSchema: { type: 'object' } }];
    const second = serializeJson({ jsonrpc: '2.0', id: 1, result: { tools: rebuilt } });
    expect(JSON.parse(text(first)).result.tools[0].name).toBe('t0');
    expect(JSON.parse(text(second)).result.tools.at(-1).name).toBe('new');
    expect(text(second)).toBe(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: rebuilt } }));
  });

  it('memoizes a frozen listing result by identity, and keeps a new one apart', () => {
    const page = Object.freeze({ tools: Object.freeze(tools.slice(0, 80)), nextCursor: 'c1' });
    const next = Object.freeze({ tools: Object.freeze(tools.slice(80)), nextCursor: 'c2' });
    for (const id of [1, 'two', 1]) {
      expect(text(serializeJson({ jsonrpc: '2.0', id, result: page }))).toBe(JSON.stringify({ jsonrpc: '2.0', id, result: page }));
    }
    // Too short to memoize (20 items) and a different object: its own JSON, not the first page's.
    expect(text(serializeJson({ jsonrpc: '2.0', id: 3, result: next }))).toBe(JSON.stringify({ jsonrpc: '2.0', id: 3, result: next }));
  });

  it('memoizes a frozen result with members besides its list (the 2026-07-28 encoding), and hands its parts to frozenListing', () => {
    const encoded = Object.freeze({ tools: Object.freeze(tools.slice(0, 90)), resultType: 'complete', ttlMs: 0, _meta: { server: 'x' } });
    const answer = { jsonrpc: '2.0', id: 'm1', result: encoded };
    expect(serializeJsonChunks(answer)).not.toBeTypeOf('string');
    expect(text(serializeJson(answer))).toBe(JSON.stringify(answer));
    const listing = frozenListing(answer);
    expect(listing?.id).toBe('"m1"');
    expect(listing?.result.toString('utf8')).toBe(JSON.stringify(encoded));
    // The same members, not frozen: serialised as JSON.stringify does, and no listing.
    const loose = { jsonrpc: '2.0', id: 2, result: { ...encoded } };
    expect(serializeJsonChunks(loose)).toBe(JSON.stringify(loose));
    expect(frozenListing(loose)).toBeUndefined();
  });
});
