/**
 * docs/performance.md, big catalogs: a prebuilt listing goes out gzipped to a client that
 * accepts gzip (as the SDKs' fetch does), uncompressed to one that does not or refuses it,
 * and both decode to the same answer. A backend lists 500 tools with wordy schemas; the
 * gateway pages them 200 at a time, so the first page, a middle page reached by cursor and
 * the in-session answers are all prebuilt listings. Requests go over node:http, which
 * decompresses nothing, so the test sees the bytes on the wire.
 */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListingBackend, startListingBackend } from '../fixtures/listing-backend.js';
import { api, eventually, modernPost, startGateway, TOKEN } from '../helpers/mesh.js';
import { type StartedProcess, stopAll } from '../helpers/process.js';

const absent = 'http://127.0.0.1:9/mcp';
const TOOLS = 500;
const tool = (index: number) => ({
  name: `lookup_${index}`,
  description: `Looks up record ${index} by its id and returns every field of it.`,
  inputSchema: { type: 'object', properties: { id: { type: 'string', description: 'The id of the record to look up' } }, required: ['id'] },
});
let backend: ListingBackend;
let gateway: StartedProcess;
/** Answers every tool in one page: its answer is the catalog's own array, not a page cut from it. */
let single: StartedProcess;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One POST to /mcp over node:http, which leaves the body as sent. */
function post(message: unknown, headers: Record<string, string> = {}, to: StartedProcess = gateway): Promise<Raw> {
  const body = JSON.stringify(message);
  return new Promise((resolve, reject) => {
    const req = request(
      `${to.url}/mcp`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKEN}`, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Every tool of the backend, each once (the seed's two services, absent here, list what they last had). */
const everyToolOnce = (names: string[]) => {
  const ours = names.filter((name) => name.startsWith('lookup_'));
  return ours.length === TOOLS && new Set(ours).size === TOOLS && new Set(names).size === names.length;
};
const decoded = (answer: Raw) => JSON.parse((answer.headers['content-encoding'] === 'gzip' ? gunzipSync(answer.body) : answer.body).toString('utf8'));
const list = (id: number | string, cursor?: string) => ({ jsonrpc: '2.0', id, method: 'tools/list', ...(cursor === undefined ? {} : { params: { cursor } }) });

/** Asks with gzip until the gateway's one deflate of the listing is done and it answers gzipped. */
const gzipped = (message: unknown, to: StartedProcess = gateway) =>
  eventually('a gzipped answer', async () => {
    const answer = await post(message, { 'accept-encoding': 'gzip, deflate, br' }, to);
    return answer.headers['content-encoding'] === 'gzip' ? answer : undefined;
  });

beforeAll(async () => {
  backend = await startListingBackend({ tools: Array.from({ length: TOOLS }, (_, index) => tool(index)) });
  gateway = await startGateway({ SHOPPING_SERVICE_URL: absent, USER_SERVICE_URL: absent, MESHGATE_LIST_PAGE_SIZE: '200' });
  single = await startGateway({ SHOPPING_SERVICE_URL: absent, USER_SERVICE_URL: absent, MESHGATE_LIST_PAGE_SIZE: '1000' });
  for (const to of [gateway, single]) expect((await api(to.url, 'POST', '/register', { name: 'records', url: backend.url })).status).toBe(201);
});
afterAll(async () => {
  await stopAll();
  await backend?.close();
});

describe('gzip for prebuilt listings', () => {
  it('answers a client that accepts gzip with a gzip body that decodes to the uncompressed answer', async () => {
    const plain = await post(list(7));
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['vary']).toBe('accept-encoding');
    const expected = JSON.parse(plain.body.toString('utf8'));
    expect(expected.result.tools).toHaveLength(200);

    const answer = await gzipped(list(7));
    expect(answer.status).toBe(200);
    expect(answer.headers['vary']).toBe('accept-encoding');
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
    expect(answer.body.length).toBeLessThan(plain.body.length / 5);
    expect(decoded(answer)).toEqual(expected);
  });

  it('puts each request id in its gzip answer, strings and numbers alike', async () => {
    await gzipped(list(1));
    for (const id of [0, 42, 'a "quoted" id', 'ü-ünïcode', 2 ** 40]) {
      const answer = await post(list(id), { 'accept-encoding': 'gzip' });
      expect(answer.headers['content-encoding']).toBe('gzip');
      const message = decoded(answer);
      expect(message.id).toEqual(id);
      expect(message.jsonrpc).toBe('2.0');
      expect(message.result.tools).toHaveLength(200);
    }
  });

  it('gzips a page reached by its cursor, and the pages together are every tool once', async () => {
    const first = decoded(await post(list(1)));
    const second = await gzipped(list(2, first.result.nextCursor));
    const page = decoded(second);
    expect(page.result.tools).toHaveLength(200);
    const last = decoded(await gzipped(list(3, page.result.nextCursor)));
    expect(last.result.nextCursor).toBeUndefined();
    const names = [...first.result.tools, ...page.result.tools, ...last.result.tools].map((t: { name: string }) => t.name);
    expect(everyToolOnce(names)).toBe(true);
  });

  it('gzips the single answer of every tool', async () => {
    const plain = JSON.parse((await post(list(4), {}, single)).body.toString('utf8'));
    expect(plain.result.nextCursor).toBeUndefined();
    expect(everyToolOnce(plain.result.tools.map((t: { name: string }) => t.name))).toBe(true);
    expect(decoded(await gzipped(list(4), single))).toEqual(plain);
  });

  it('gzips a listing for a client of the 2026-07-28 revision, with the members that revision adds', async () => {
    // fetch asks for gzip by itself and decodes the answer; its headers still say how it came.
    const response = await eventually('a gzipped 2026-07-28 listing', async () => {
      const answer = await modernPost(gateway.url, 'tools/list', {});
      return answer.headers.get('content-encoding') === 'gzip' ? answer : undefined;
    });
    const message = await response.json();
    expect(message.result.resultType).toBe('complete');
    expect(message.result.tools).toHaveLength(200);
    expect(typeof message.result.nextCursor).toBe('string');
    expect(message.result._meta).toBeDefined();
  });

  it('answers uncompressed a client that does not ask for gzip or refuses it', async () => {
    await gzipped(list(1));
    for (const acceptEncoding of [undefined, 'identity', 'gzip;q=0', 'br', 'gzip;q=0.2, identity']) {
      const answer = await post(list(5), acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding });
      expect(answer.headers['content-encoding'], `accept-encoding: ${acceptEncoding}`).toBeUndefined();
      expect(JSON.parse(answer.body.toString('utf8')).result.tools).toHaveLength(200);
    }
  });

  it('does not gzip an answer that is not a listing', async () => {
    const answer = await post(
      { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'lookup_3', arguments: { id: 'x' } } },
      { 'accept-encoding': 'gzip' },
    );
    expect(answer.status).toBe(200);
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(answer.body.toString('utf8')).result).toBeDefined();
  });

  it('serves an SDK client in a session, whose fetch asks for gzip and decodes it', async () => {
    await gzipped(list(1));
    const client = new Client({ name: 'gzip-test', version: '1.0.0' });
    // The SDK's own fetch, watched: what encoding each answer came in (fetch has already decoded it).
    const encodings: Array<string | null> = [];
    const watched = async (url: string | URL, init?: RequestInit) => {
      const response = await fetch(url, init);
      encodings.push(response.headers.get('content-encoding'));
      return response;
    };
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { fetch: watched, requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }),
    );
    try {
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor });
        names.push(...page.tools.map((t) => t.name));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(everyToolOnce(names)).toBe(true);
      expect(encodings.filter((encoding) => encoding === 'gzip').length).toBeGreaterThanOrEqual(1);
    } finally {
      await client.close();
    }
  });
});
