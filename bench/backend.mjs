/**
 * Benchmark backends: small MCP tool servers on @meshgate/service-kit, several per process.
 * BENCH_BACKENDS lists `name:port` pairs; each backend serves BENCH_TOOLS tools named
 * `<name>_t000`, `<name>_t001`, ... that echo their `id` argument.
 */
import { createLogger, defineTool, startMcpService, ToolServerFactory } from '@meshgate/service-kit';
import { z } from 'zod';
import { toolName } from './lib/mesh.mjs';

const token = process.env.MCP_BEARER_TOKEN;
const toolCount = Number(process.env.BENCH_TOOLS ?? '100');
const backends = (process.env.BENCH_BACKENDS ?? '')
  .split(',')
  .filter(Boolean)
  .map((pair) => {
    const [name, port] = pair.split(':');
    return { name, port: Number(port) };
  });
if (!token || backends.length === 0) throw new Error('backend.mjs needs MCP_BEARER_TOKEN and BENCH_BACKENDS=name:port,...');

function tools(backend) {
  return Array.from({ length: toolCount }, (_, index) =>
    defineTool({
      name: toolName(backend, index),
      description: `Benchmark tool ${index} of ${backend}: returns the id it was given, with the backend's name.`,
      input: z.object({ id: z.string().describe('Any short string') }),
      output: z.object({ id: z.string(), backend: z.string() }),
      handler: ({ id }) => ({ ok: true, value: { id, backend } }),
    }),
  );
}

const logger = createLogger({ name: 'bench-backend', level: 'warn', format: 'json' });
const running = await Promise.all(
  backends.map(({ name, port }) =>
    startMcpService({
      name,
      config: { port, host: '127.0.0.1', token },
      logger,
      createServer: new ToolServerFactory({ name, version: '0.0.0' }, tools(name)).create,
    }),
  ),
);
const stop = async () => {
  await Promise.allSettled(running.map((service) => service.close()));
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
