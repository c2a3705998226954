import { processLogger } from './logger.js';
import { exitOnStartupError, stopOnSignals } from './server.js';
import { type RunningService, serviceConfigFromEnv, startMcpService } from './service.js';
import type { ToolServerFactory } from './tool-server.js';

export interface RunMcpServiceOptions {
  /** Service name: the logger's name and the one `/health` reports. */
  name: string;
  /** Port used when PORT is not set (the seed's: 3002 shopping, 3003 user). */
  defaultPort: number;
  /** The service's tools. */
  factory: ToolServerFactory;
}

/**
 * The whole life of a native MCP service process, for its `main.ts`: read the
 * environment, start, stop cleanly on SIGINT/SIGTERM. A start-up failure (bad config,
 * port in use) is logged in one line and exits 1.
 */
export async function runMcpService(options: RunMcpServiceOptions): Promise<RunningService> {
  const logger = processLogger(options.name);
  try {
    const config = serviceConfigFromEnv(options.defaultPort);
    const service = await startMcpService({ name: options.name, config, logger, createServer: options.factory.create });
    stopOnSignals(service, logger);
    return service;
  } catch (error) {
    return exitOnStartupError(logger, error);
  }
}
