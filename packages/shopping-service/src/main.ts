import { createLogger, exitOnStartupError, serviceConfigFromEnv, startMcpService, stopOnSignals } from '@meshgate/service-kit';
import { shopping } from './server.js';

const logger = createLogger({ name: 'shopping-service' });
try {
  const service = await startMcpService({ name: 'shopping-service', config: serviceConfigFromEnv(3002), logger, createServer: shopping.create });
  stopOnSignals(service, logger);
} catch (error) {
  exitOnStartupError(logger, error);
}
