export { type Authenticate, type AuthVariables, BEARER_REFUSALS, type BearerAuthOptions, bearerAuth, type Identity } from './auth.js';
export { type BearerResult, DEFAULT_BEARER_TOKEN, parseBearer, StaticTokenVerifier, tokensEqual } from './bearer.js';
export { type BodyResult, DEFAULT_MAX_BODY_BYTES, frozenListing, jsonResponse, readBodyLimited, serializeJson, serializeJsonChunks } from './body.js';
export { type HealthReport, mountHealth } from './health.js';
export {
  checkJsonRpcMessage,
  DEFAULT_MAX_JSON_DEPTH,
  exceedsJsonDepth,
  type FramingResult,
  JSONRPC_INTERNAL_ERROR,
  JSONRPC_INVALID_PARAMS,
  JSONRPC_INVALID_REQUEST,
  JSONRPC_METHOD_NOT_FOUND,
  JSONRPC_PARSE_ERROR,
  JSONRPC_SERVER_ERROR,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotificationMessage,
  type JsonRpcRequestMessage,
  type JsonRpcResponseMessage,
  jsonRpcError,
  parseJsonRpcMessage,
} from './jsonrpc.js';
export { asWritable, type LogDestination, type LogSink, MAX_LOG_BACKLOG_BYTES, stdoutDestination } from './log-destination.js';
export {
  createLogger,
  DEFAULT_LOG_LEVEL,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type Logger,
  type LoggerConfig,
  type LoggingResult,
  type LoggingSettings,
  type LogLevel,
  logFormatSchema,
  loggingFromEnv,
  logLevelSchema,
  processLogger,
  REDACTED_PATHS,
} from './logger.js';
export { type ConnectableServer, McpEndpoint, type McpEndpointOptions } from './mcp-endpoint.js';
export {
  acceptsJsonOrStream,
  acceptsStream,
  classifyMessage,
  hasMeta,
  type InboundClassification,
  isLegacyMessage,
  JSON_CONTENT_TYPE,
  SESSION_HEADER,
  SUPPORTED_VERSIONS,
  VERSION_HEADER,
} from './mcp-request.js';
export { type RunMcpServiceOptions, runMcpService } from './run.js';
export {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  exitOnStartupError,
  type Lane,
  type ListenOptions,
  listen,
  MAX_HEADER_BYTES,
  type RunningServer,
  type Stoppable,
  stopOnSignals,
} from './server.js';
export { type McpServiceOptions, type RunningService, type ServiceConfig, serviceConfigFromEnv, startMcpService } from './service.js';
export { defineTool, type ToolDefinition, type ToolOutcome, ToolServerFactory } from './tool-server.js';
