import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../../errors.js';

/**
 * Reads a request body as UTF-8 with a hard limit: a declared Content-Length over it is
 * refused before anything is read; a chunked body is cut off as soon as it crosses it, so
 * memory stays bounded either way. Node ends a body at its declared length.
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () => new GatewayError('payload_too_large', `Request body exceeds the limit of ${maxBytes} bytes`);
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    request.resume(); // drain what the client sends anyway; the answer goes out at once
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        request.off('data', onData);
        request.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      if (total <= maxBytes) resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, total).toString('utf8'));
    });
    request.once('error', (error) => reject(error));
  });
}
