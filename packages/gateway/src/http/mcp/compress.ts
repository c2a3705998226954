import type { IncomingMessage } from 'node:http';
import { constants, crc32, deflateRaw } from 'node:zlib';
import Negotiator from 'negotiator';

/**
 * gzip for the gateway's prebuilt listings (`tools/list` and the other list pages), for
 * clients that accept it: the SDKs' fetch asks for gzip on every request. A listing of
 * 10,000 tools is 6 MB of JSON, mostly repeated schema text; gzipped it is 1–2% of that.
 *
 * Nothing is compressed per request. A listing's result is deflated once, in the thread
 * pool, the first time a client that accepts gzip asks for it (that answer and any before
 * the deflate is done go out uncompressed). A gzip member is a header, deflate blocks, and
 * the CRC-32 and length of what they hold; deflate blocks can follow one another once the
 * earlier ones end on a byte boundary. So an answer is the 10-byte header, the kept
 * deflate of `{"jsonrpc":"2.0","result":<result>` (flushed to a byte boundary, not
 * finished), one final uncompressed ("stored") block of `,"id":<id>}`, and the trailer,
 * whose CRC continues from the kept one over those few bytes. The members of a JSON
 * object have no order, so the id going last changes nothing a JSON parser sees.
 *
 * Only listings are compressed: they hold what services publish and the request's id,
 * never a secret, so the length of a compressed answer gives nothing away (BREACH).
 */

/** Listings under this many bytes of JSON go out as they are: compression would save little. */
export const GZIP_MIN_BYTES = 8 * 1024;

/** The largest a stored block holds; the id's tail goes in one, so longer ids are answered uncompressed. */
const STORED_MAX = 0xffff;

const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
const PREFIX = Buffer.from('{"jsonrpc":"2.0","result":', 'utf8');

interface Deflated {
  /** Deflate blocks of PREFIX + result, ending on a byte boundary with no final block. */
  blocks: Buffer;
  /** CRC-32 and length of PREFIX + result. */
  crc: number;
  length: number;
}

/** Per result JSON (by identity): its deflate once done, `null` while it runs or if it failed. */
const deflated = new WeakMap<Buffer, Deflated | null>();

/** Whether the request's Accept-Encoding takes gzip over an uncompressed answer. */
export function acceptsGzip(request: IncomingMessage | undefined): boolean {
  const header = request?.headers['accept-encoding'];
  if (header === undefined || header === '') return false;
  return new Negotiator({ headers: { 'accept-encoding': header } }).encoding(['gzip', 'identity']) === 'gzip';
}

/**
 * The gzip answer `{"jsonrpc":"2.0","result":<result>,"id":<id>}` as pieces to write one
 * after the other, if the result's deflate is ready; otherwise undefined (answer it
 * uncompressed), and its deflate is started if it is not running.
 */
export function gzipListing(id: string, result: Buffer): Buffer[] | undefined {
  if (result.length < GZIP_MIN_BYTES) return undefined;
  const ready = deflated.get(result);
  if (ready === undefined) {
    deflated.set(result, null);
    const whole = Buffer.concat([PREFIX, result]);
    deflateRaw(whole, { finishFlush: constants.Z_SYNC_FLUSH }, (error, blocks) => {
      if (error === null) deflated.set(result, { blocks, crc: crc32(whole), length: whole.length });
    });
    return undefined;
  }
  if (ready === null) return undefined;
  const tail = Buffer.from(`,"id":${id}}`, 'utf8');
  if (tail.length > STORED_MAX) return undefined;
  // A final stored block: BFINAL=1, BTYPE=00 (so the byte 0x01, the rest of it padding), then LEN and its complement.
  const stored = Buffer.allocUnsafe(5);
  stored[0] = 0x01;
  stored.writeUInt16LE(tail.length, 1);
  stored.writeUInt16LE(~tail.length & 0xffff, 3);
  const trailer = Buffer.allocUnsafe(8);
  trailer.writeUInt32LE(crc32(tail, ready.crc), 0);
  trailer.writeUInt32LE((ready.length + tail.length) % 2 ** 32, 4);
  return [GZIP_HEADER, ready.blocks, stored, tail, trailer];
}
