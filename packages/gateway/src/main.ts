import { createLogger, exitOnStartupError, loggingFromEnv, stopOnSignals } from '@meshgate/service-kit';
import { startGateway } from './app.js';
import { loadConfig } from './config/load.js';
import { SqliteStore } from './registry/sqlite/index.js';

const logging = loggingFromEnv(process.env);
if (!logging.ok) {
  // No logger can be built from a bad LOG_LEVEL or LOG_FORMAT: say so plainly, without a stack trace.
  process.stderr.write(`${logging.message}\n`);
  process.exit(1);
}
const logger = createLogger({ name: 'mcp-gateway', ...logging.value });
try {
  const config = loadConfig();
  const store = SqliteStore.open(config.dbPath, logger);
  const gateway = await startGateway(config, store, logger);
  stopOnSignals(gateway, logger);
} catch (error) {
  exitOnStartupError(logger, error);
}
