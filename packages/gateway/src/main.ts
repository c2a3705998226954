import { exitOnStartupError, processLogger, stopOnSignals } from '@meshgate/service-kit';
import { startGateway } from './app.js';
import { loadConfig } from './config/load.js';
import { bufferedAccessLogger } from './observability/access-log.js';
import { openRegistryStore } from './registry/open.js';

const logger = processLogger('mcp-gateway');
try {
  const config = loadConfig();
  const { store, shared } = await openRegistryStore(config, logger);
  const gateway = await startGateway(config, store, logger, { accessLogger: bufferedAccessLogger('mcp-gateway'), ...(shared === undefined ? {} : { shared }) });
  stopOnSignals(gateway, logger);
} catch (error) {
  exitOnStartupError(logger, error);
}
