/**
 * Load generators: autocannon for HTTP-level JSON-RPC load, raw keep-alive requests for
 * session set-up, and an SDK client loop for end-to-end cost. Every answer's body is
 * checked; a 200 carrying a JSON-RPC error or an `isError` result counts as an error.
 */

import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import autocannon from 'autocannon';

export const PROTOCOL_VERSION = '2025-06-18';

/** Percentile of a sorted array of numbers (nearest rank). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function latencyStats(samples) {
  const sorted = Float64Array.from(samples).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

export function rpcHeaders(token, extra = {}) {
  return { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, ...extra };
}

export function rpcBody(method, params, id = 1) {
  return JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
}

/**
 * A tools/call in the stateless 2026-07-28 revision: the body with its per-request `_meta`
 * envelope, and the standard headers that must go with it.
 */
export function modernCall(tool, args) {
  const revision = '2026-07-28';
  const body = rpcBody('tools/call', {
    name: tool,
    arguments: args,
    _meta: {
      'io.modelcontextprotocol/protocolVersion': revision,
      'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  });
  return { body, headers: { 'mcp-protocol-version': revision, 'mcp-method': 'tools/call', 'mcp-name': tool } };
}

/** A JSON-RPC answer is a success when it has a result that is not a tool error. */
export function isSuccess(message) {
  return (
    typeof message === 'object' &&
    message !== null &&
    message.error === undefined &&
    typeof message.result === 'object' &&
    message.result !== null &&
    message.result.isError !== true
  );
}

/** Parses a JSON body, or the first `data:` line of an SSE body. */
export function parseAnswer(text) {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed);
  const data = trimmed.split('\n').find((line) => line.startsWith('data:'));
  return data === undefined ? undefined : JSON.parse(data.slice(5));
}

function checkedBody(check) {
  return (text) => {
    try {
      return check(parseAnswer(text));
    } catch {
      return false;
    }
  };
}

/**
 * Drives `connections` keep-alive connections POSTing `body` to `${baseUrl}/mcp` for
 * `seconds`. Latency is recorded per response at full resolution (autocannon's own
 * histogram has 1 ms buckets, too coarse for sub-millisecond hops).
 */
export async function postLoad({ baseUrl, token, body, connections, seconds, check = isSuccess, headers = {} }) {
  const samples = [];
  let non2xx = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  const instance = autocannon({
    url: `${baseUrl}/mcp`,
    method: 'POST',
    headers: rpcHeaders(token, headers),
    body,
    connections,
    pipelining: 1,
    duration: seconds,
    verifyBody: checkedBody(check),
  });
  instance.on('response', (_client, status, responseBytes, ms) => {
    bytes += responseBytes;
    if (status >= 200 && status < 300) samples.push(ms);
    else non2xx += 1;
  });
  const result = await instance;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const errors = non2xx + result.errors + result.timeouts + (result.mismatches ?? 0);
  const requests = samples.length + non2xx;
  return {
    requests,
    rps: samples.length / elapsed,
    ...latencyStats(samples),
    errors,
    seconds: elapsed,
    bytesPerResponse: requests > 0 ? bytes / requests : NaN,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const SERIAL_CLIENT = fileURLToPath(new URL('./serial-client.mjs', import.meta.url));

/**
 * One keep-alive connection POSTing `body` back to back for `seconds`, for big answers
 * (tools/list over 1,000 tools is 594 KB; over 10,000, 6 MB): autocannon's parser and a
 * JSON.parse of every answer cost the load generator more than the gateway spends, and
 * at c=1 that time lands in the latency. The requests are made by serial-client.mjs in a
 * process of its own, so that this process's heap and its garbage collector stay out of
 * the timings. The first answer is parsed and checked here, and every later one must be
 * byte-for-byte the same (the same successful answer), which is checked in full at
 * memcmp speed, chunk by chunk as it arrives.
 */
export async function serialLoad({ baseUrl, token, body, seconds, check = isSuccess, headers: extra = {}, encoding }) {
  const headers = { ...rpcHeaders(token, extra), 'content-length': String(Buffer.byteLength(body)) };
  const child = fork(SERIAL_CLIENT, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const started = process.hrtime.bigint();
  const run = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the serial load client exited with code ${code} before answering`)));
    child.send({ url: `${baseUrl}/mcp`, headers, body, seconds });
  });
  child.removeAllListeners('exit');
  if (run.failure !== undefined) throw new Error(`the serial load client failed: ${run.failure}`);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  let samples = run.samples;
  let errors = run.errors;
  let checked = false;
  // `encoding`: the content-encoding every answer must come in (they are all compared with the first).
  if (run.first !== undefined && run.firstEncoding === encoding) {
    try {
      const first = Buffer.from(run.first);
      checked = check(parseAnswer((run.firstEncoding === 'gzip' ? gunzipSync(first) : first).toString('utf8')));
    } catch {
      checked = false;
    }
  }
  // Every answer was compared with the first: if that one is not the answer wanted, none is.
  if (!checked) {
    errors += samples.length;
    samples = [];
  }
  return {
    requests: samples.length + errors,
    rps: samples.length / elapsed,
    ...latencyStats(samples),
    errors,
    seconds: elapsed,
    bytesPerResponse: samples.length > 0 ? run.bytes / samples.length : NaN,
  };
}

/** One HTTP request over a shared keep-alive agent; resolves with status, headers and text. */
export function request(url, { method = 'POST', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const INITIALIZE = rpcBody('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'meshgate-bench', version: '0.0.0' } });
const INITIALIZED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });

/** Opens one MCP session the way a client does: initialize, then notifications/initialized. Returns its id or throws. */
export async function openSession(baseUrl, token) {
  const init = await request(`${baseUrl}/mcp`, { headers: rpcHeaders(token), body: INITIALIZE });
  const id = init.headers['mcp-session-id'];
  if (init.status !== 200 || typeof id !== 'string' || !isSuccess(parseAnswer(init.text)))
    throw new Error(`initialize answered ${init.status}: ${init.text.slice(0, 200)}`);
  const done = await request(`${baseUrl}/mcp`, {
    headers: rpcHeaders(token, { 'mcp-session-id': id, 'mcp-protocol-version': PROTOCOL_VERSION }),
    body: INITIALIZED,
  });
  if (done.status !== 202) throw new Error(`notifications/initialized answered ${done.status}`);
  return id;
}

/** Ends sessions with DELETE /mcp, a few at a time. */
export async function closeSessions(baseUrl, token, ids) {
  let failed = 0;
  for (let i = 0; i < ids.length; i += 16) {
    const answers = await Promise.all(
      ids
        .slice(i, i + 16)
        .map((id) =>
          request(`${baseUrl}/mcp`, { method: 'DELETE', headers: rpcHeaders(token, { 'mcp-session-id': id, 'mcp-protocol-version': PROTOCOL_VERSION }) }),
        ),
    );
    failed += answers.filter((answer) => answer.status !== 200).length;
  }
  return failed;
}

/** Opens sessions with `concurrency` workers for `seconds` (or until `max`); keeps their ids. */
export async function sessionLoad({ baseUrl, token, concurrency, seconds, max }) {
  const ids = [];
  const samples = [];
  let errors = 0;
  let attempts = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline && attempts < max) {
      attempts += 1;
      const t0 = performance.now();
      try {
        ids.push(await openSession(baseUrl, token));
        samples.push(performance.now() - t0);
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return { ids, requests: attempts, rps: ids.length / elapsed, ...latencyStats(samples), errors, seconds: elapsed };
}

/** An SDK client (v2) in one session calling `tool` in a loop for `seconds`. */
export async function sdkLoop({ baseUrl, token, tool, seconds }) {
  const client = new Client({ name: 'meshgate-bench', version: '0.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  const samples = [];
  let errors = 0;
  let calls = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  try {
    while (performance.now() < deadline) {
      calls += 1;
      const t0 = performance.now();
      try {
        const result = await client.callTool({ name: tool, arguments: { id: String(calls) } });
        if (result.isError) errors += 1;
        else samples.push(performance.now() - t0);
      } catch {
        errors += 1;
      }
    }
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
  const elapsed = (performance.now() - started) / 1000;
  return { requests: calls, rps: samples.length / elapsed, ...latencyStats(samples), errors, seconds: elapsed };
}
