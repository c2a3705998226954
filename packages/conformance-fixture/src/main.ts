/**
 * Runs the conformance fixture: PORT (default 3010), HOST (default 127.0.0.1) and,
 * optionally, CONFORMANCE_FIXTURE_TOKEN to require Bearer auth on /mcp.
 */
import { exitOnStartupError, listen, processLogger, stopOnSignals } from '@meshgate/service-kit';
import { createFixtureApp } from './http.js';

const logger = processLogger('conformance-fixture');
try {
  const port = Number(process.env['PORT'] || 3010);
  const host = process.env['HOST'] || '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got "${process.env['PORT']}"`);
  const token = process.env['CONFORMANCE_FIXTURE_TOKEN'] || undefined;
  const fixture = await createFixtureApp({ token, onerror: (error) => logger.debug({ err: error }, 'MCP request rejected') });
  const server = await listen(fixture.app, { port, host });
  logger.info({ url: `${server.url}/mcp`, auth: token === undefined ? 'none' : 'bearer' }, `conformance-fixture listening on ${host}:${server.port}`);
  stopOnSignals(
    {
      close: async () => {
        await fixture.close();
        await server.close();
      },
    },
    logger,
  );
} catch (error) {
  exitOnStartupError(logger, error);
}
