export { bearerAuth, type Authenticate, type AuthVariables, type BearerAuthOptions, type Identity } from './auth.js';
export { DEFAULT_BEARER_TOKEN, StaticTokenVerifier, parseBearer, tokensEqual, type BearerResult } from './bearer.js';
export { DEFAULT_MAX_BODY_BYTES, jsonResponse, readBodyLimited, type BodyResult } from './body.js';
export { mountHealth, type HealthReport } from './health.js';
export {
  JSONRPC_INTERNAL_ERROR,
  JSONRPC_INVALID_PARAMS,
  JSONRPC_INVALID_REQUEST,
  JSONRPC_METHOD_NOT_FOUND,
  JSONRPC_PARSE_ERROR,
  JSONRPC_SERVER_ERROR,
  DEFAULT_MAX_JSON_DEPTH,
  checkJsonRpcMessage,
  exceedsJsonDepth,
  jsonRpcError,
  parseJsonRpcMessage,
  type FramingResult,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotificationMessage,
  type JsonRpcRequestMessage,
  type JsonRpcResponseMessage,
} from './jsonrpc.js';
export { REDACTED_PATHS, createLogger, type Logger, type LoggerConfig } from './logger.js';
export { McpEndpoint, type ConnectableServer, type McpEndpointOptions, type SessionlessHandler } from './mcp-endpoint.js';
export { acceptsJsonOrStream, acceptsStream, leanHeadersFit } from './mcp-request.js';
export { runMcpService, type RunMcpServiceOptions } from './run.js';
export {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_HEADER_BYTES,
  exitOnStartupError,
  listen,
  stopOnSignals,
  type Lane,
  type ListenOptions,
  type RunningServer,
  type Stoppable,
} from './server.js';
export { ToolServerFactory, defineTool, type ToolDefinition, type ToolOutcome } from './tool-server.js';
export { serviceConfigFromEnv, startMcpService, type McpServiceOptions, type RunningService, type ServiceConfig } from './service.js';
