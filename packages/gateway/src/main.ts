import { exitOnStartupError, processLogger, stopOnSignals } from '@meshgate/service-kit';
import { startGateway } from './app.js';
import { loadConfig } from './config/load.js';
import { bufferedAccessLogger } from './observability/access-log.js';
import { SqliteStore } from './registry/sqlite/index.js';

const logger = processLogger('mcp-gateway');
try {
  const config = loadConfig();
  const store = SqliteStore.open(config.dbPath, logger, { secretKey: config.credentials.secretKey });
  const gateway = await startGateway(config, store, logger, { accessLogger: bufferedAccessLogger('mcp-gateway') });
  stopOnSignals(gateway, logger);
} catch (error) {
  exitOnStartupError(logger, error);
}
