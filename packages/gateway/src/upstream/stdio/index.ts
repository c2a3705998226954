export { childEnvironment, INHERITED_VARIABLES } from './environment.js';
export { type CommandTransports, DEFAULT_GRACE_MS, StdioHost, type StdioHostOptions } from './host.js';
export { StdioTransport } from './stdio-transport.js';
