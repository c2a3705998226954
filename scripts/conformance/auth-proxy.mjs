/**
 * A pass-through HTTP proxy that adds `Authorization: Bearer <token>` to every request.
 * The conformance CLI has no option or variable to send a header on server scenarios,
 * and the gateway requires Bearer auth on /mcp, so the suite talks to the gateway
 * through this. Everything else passes unchanged in both directions, Host and Origin
 * included (the DNS-rebinding scenario depends on them), and bodies stream (SSE).
 */
import { createServer, request as httpRequest } from 'node:http';

/** Starts the proxy on 127.0.0.1 (ephemeral port). Resolves with `{ url, close }`. */
export async function startAuthProxy(targetBaseUrl, token) {
  const target = new URL(targetBaseUrl);
  const server = createServer((req, res) => {
    const headers = { ...req.headers, authorization: `Bearer ${token}` };
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`auth proxy: ${error.message}`);
    });
    // A client that goes away (e.g. closes an SSE stream) ends the upstream request too.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
