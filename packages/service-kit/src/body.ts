/** Reading request bodies with a hard size limit. */

/** 4 MiB, the MCP SDK's own default for request bodies. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export type BodyResult = { ok: true; text: string } | { ok: false; status: 413; message: string };

/**
 * Reads a request body as UTF-8, refusing it once it exceeds `maxBytes`. A declared
 * Content-Length over the limit is refused before anything is read; a chunked body is
 * cut off as soon as it crosses the limit, so memory stays bounded either way.
 *
 * A body with a declared Content-Length within the limit is read in one go with
 * `arrayBuffer()`: behind @hono/node-server that reads the Node request directly, where
 * a web `ReadableStream` reader would first build a stream adapter per request (a
 * measurable share of the hot path; see docs/performance.md). Node's HTTP parser ends the
 * body at the declared length, and the length is checked again after reading.
 */
export async function readBodyLimited(request: Request, maxBytes: number): Promise<BodyResult> {
  const tooLarge = { ok: false as const, status: 413 as const, message: `Request body exceeds the limit of ${maxBytes} bytes` };
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) return tooLarge;
  if (declared !== null && /^\d+$/.test(declared)) {
    const bytes = await request.arrayBuffer();
    if (bytes.byteLength > maxBytes) return tooLarge;
    return { ok: true, text: Buffer.from(bytes).toString('utf8') };
  }
  if (request.body === null) return { ok: true, text: '' };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return tooLarge;
    }
    chunks.push(value);
  }
  return { ok: true, text: Buffer.concat(chunks, total).toString('utf8') };
}

/** Results listing at least this many items have their list's JSON memoized. */
const MEMO_MIN_ITEMS = 64;
const memoizedLists = new WeakMap<readonly unknown[], Buffer>();
/** The JSON of frozen listing results (`{ tools: [...], nextCursor, ... }`), which cannot change once made. */
const memoizedResults = new WeakMap<object, Buffer>();

/**
 * Serialises a body exactly as `JSON.stringify` would. Mostly as that very string, which
 * node writes in one piece with the response head. One shortcut, for big listings: a
 * JSON-RPC success whose result is one long array (`{"tools": [...]}` over a federated
 * catalog), optionally with a string `nextCursor`, comes back as bytes that reuse encoded
 * JSON from an earlier answer, so the answer costs a copy, not a serialisation and an
 * encoding:
 * - a frozen result holding a frozen long array (the gateway's prebuilt pages, and their
 *   2026-07-28 encoding with its extra members) is memoized whole, by its identity;
 * - otherwise the array is, by its identity. The catalog is built when it changes, as a
 *   new array, and read as-is by every request, so the same array means the same JSON.
 *   An array is never memoized while it is being changed in place: callers that answer
 *   with a long array must treat it as immutable once answered.
 */
export function serializeJson(body: unknown): string | Buffer {
  const json = serializeJsonChunks(body);
  return typeof json === 'string' ? json : Buffer.concat(json);
}

/**
 * `serializeJson` without the final copy: a memoized listing comes back as the pieces
 * of its answer (a short head, the memoized bytes, a short tail), for a writer that sends
 * them one after the other. A 6 MB answer then costs no 6 MB copy, and no 6 MB buffer
 * for the garbage collector, per request.
 */
export function serializeJsonChunks(body: unknown): string | readonly Buffer[] {
  const listing = listingOf(body);
  if (listing === undefined) return JSON.stringify(body);
  const head = Buffer.from(`{"jsonrpc":"2.0","id":${listing.id},"result":`, 'utf8');
  if (listing.frozen) return [head, frozenResultJson(listing.result), CLOSE_ONE];
  const { list, keys } = listing;
  let json = memoizedLists.get(list);
  if (json === undefined) {
    json = Buffer.from(JSON.stringify(list), 'utf8');
    memoizedLists.set(list, json);
  }
  const key = Buffer.from(`{${JSON.stringify(keys[0])}:`, 'utf8');
  const tail = keys.length === 2 ? Buffer.from(`,"nextCursor":${JSON.stringify(listing.result['nextCursor'])}}}`, 'utf8') : CLOSE_TWO;
  return [head, key, json, tail];
}

/**
 * A frozen listing answer (the gateway's prebuilt pages) as its two parts: the JSON of its
 * id and the memoized JSON of its result, the same bytes `serializeJsonChunks` answers
 * with. A writer that encodes the answer (compression) can keep its own work per result
 * by the identity of those bytes. Anything else: undefined.
 */
export function frozenListing(body: unknown): { id: string; result: Buffer } | undefined {
  const listing = listingOf(body);
  return listing?.frozen ? { id: listing.id, result: frozenResultJson(listing.result) } : undefined;
}

interface Listing {
  /** The JSON of the id. */
  id: string;
  result: Record<string, unknown>;
  keys: string[];
  list: readonly unknown[];
  frozen: boolean;
}

/**
 * The listing answer `body` is (see serializeJson), or undefined. A frozen result may hold
 * members besides its list (the 2026-07-28 revision's `resultType`, cache fields and
 * `_meta`): it is memoized whole, whatever they are.
 */
function listingOf(body: unknown): Listing | undefined {
  const result = isPlainRecord(body) ? body['result'] : undefined;
  if (!isPlainRecord(result)) return undefined;
  const { jsonrpc, id } = body as Record<string, unknown>;
  const plainId = typeof id === 'string' || typeof id === 'number' || id === null;
  if (jsonrpc !== '2.0' || !plainId || Object.keys(body as object).join() !== 'jsonrpc,id,result') return undefined;
  const keys = Object.keys(result);
  const long = (value: unknown): value is readonly unknown[] => Array.isArray(value) && value.length >= MEMO_MIN_ITEMS;
  if (Object.isFrozen(result)) {
    const list = keys.map((key) => result[key]).find((value) => long(value) && Object.isFrozen(value));
    if (list !== undefined) return { id: JSON.stringify(id), result, keys, list: list as readonly unknown[], frozen: true };
  }
  const paged = keys.length === 2 && keys[1] === 'nextCursor' && typeof result['nextCursor'] === 'string';
  const list = keys.length === 1 || paged ? result[keys[0]!] : undefined;
  if (!long(list)) return undefined;
  return { id: JSON.stringify(id), result, keys, list, frozen: false };
}

function frozenResultJson(result: Record<string, unknown>): Buffer {
  let json = memoizedResults.get(result);
  if (json === undefined) {
    json = Buffer.from(JSON.stringify(result), 'utf8');
    memoizedResults.set(result, json);
  }
  return json;
}

const CLOSE_ONE = Buffer.from('}');
const CLOSE_TWO = Buffer.from('}}');

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** A JSON response with the right content type. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const json = serializeJson(body);
  return new Response(typeof json === 'string' ? json : (json as Uint8Array<ArrayBuffer>), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
