/**
 * The client of `serialLoad`, in a process of its own that loads nothing but node:http.
 *
 * A big answer (6 MB for 10,000 tools) allocates its size in socket buffers per request.
 * In the bench's own process, whose heap holds the SDK, zod and autocannon, that external
 * memory set off a 6–8 ms full collection every few answers, inside the timed requests:
 * the row measured the load generator's garbage collector as much as the gateway. Here
 * the heap is a few MB, every answer after the first is compared chunk by chunk with the
 * first (nothing is concatenated), and the first comes back to the parent to be checked.
 *
 * Job (one IPC message): { url, headers, body, seconds }.
 * Result: { samples (ms), errors, bytes (as sent), first (Buffer or undefined), firstEncoding
 * (its content-encoding) }. A compressed answer is timed to its last byte
 * on the wire and compared as sent; only the first is decoded, by the parent.
 */
import http from 'node:http';

function run({ url, headers, body, seconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let reference;
  const once = () =>
    new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
        const chunks = reference === undefined ? [] : undefined;
        let offset = 0;
        let same = true;
        res.on('data', (chunk) => {
          if (chunks !== undefined) chunks.push(chunk);
          else if (same) same = offset + chunk.length <= reference.length && reference.compare(chunk, 0, chunk.length, offset, offset + chunk.length) === 0;
          offset += chunk.length;
        });
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          resolve({
            status: res.statusCode,
            encoding: res.headers['content-encoding'],
            ms,
            bytes: offset,
            whole: chunks && Buffer.concat(chunks),
            same: same && (chunks !== undefined || offset === reference.length),
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  return (async () => {
    const samples = [];
    let errors = 0;
    let bytes = 0;
    let firstEncoding;
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      const answer = await once().catch(() => undefined);
      if (answer === undefined || answer.status !== 200) {
        errors += 1;
        continue;
      }
      if (reference === undefined) {
        reference = answer.whole;
        firstEncoding = answer.encoding;
      } else if (!answer.same) {
        errors += 1;
        continue;
      }
      bytes += answer.bytes;
      samples.push(answer.ms);
    }
    agent.destroy();
    return { samples, errors, bytes, first: reference, firstEncoding };
  })();
}

process.once('message', (job) => {
  run(job).then(
    (result) => process.send(result, () => process.exit(0)),
    (error) => process.send({ failure: String(error?.stack ?? error) }, () => process.exit(1)),
  );
});
