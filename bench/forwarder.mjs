/**
 * The floor: a bare keep-alive HTTP forwarder. It pipes every request to BENCH_TARGET over
 * a keep-alive agent and pipes the answer back; no parsing, no auth, no logging. Whatever
 * a gateway hop costs beyond this is the gateway's own work.
 */
import http from 'node:http';

const target = new URL(process.env.BENCH_TARGET ?? '');
const port = Number(process.env.PORT ?? '0');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'host']);

function endToEnd(headers) {
  const kept = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

const server = http.createServer((req, res) => {
  const upstream = http.request(
    { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: endToEnd(req.headers), agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'bad_gateway', message: error.message }));
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
