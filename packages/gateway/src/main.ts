import { createLogger, exitOnStartupError, stopOnSignals } from '@meshgate/service-kit';
import { startGateway } from './app.js';
import { loadConfig } from './config/load.js';
import { MemoryStore } from './registry/memory-store.js';

const logger = createLogger({ name: 'mcp-gateway' });
try {
  const config = loadConfig();
  const gateway = await startGateway(config, new MemoryStore(), logger);
  stopOnSignals(gateway, logger);
} catch (error) {
  exitOnStartupError(logger, error);
}
