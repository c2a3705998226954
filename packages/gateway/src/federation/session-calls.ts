import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { GatewayIdentity } from '../auth/tokens.js';
import { GatewayError, toRpcError } from '../errors.js';
import type { RequestOptions } from '../upstream/connection.js';
import type { Downstream } from '../upstream/relay.js';
import type { Federation } from './federation.js';
import { passesLevel, type SessionState } from './session-state.js';

/**
 * What a call forwarded on behalf of a session needs, whichever path serves it (the
 * session's SDK server, session-servers.ts, or the MCP lane, session-lane.ts): the
 * forwarded methods, the client as the service sees it, progress, and error mapping.
 */

export type Params = Record<string, unknown> | undefined;
/** Sends a request or a notification to a session's client. */
export type SendRequest = (method: string, params: Params) => Promise<Record<string, unknown>>;
export type SendNotification = (method: string, params: Params) => Promise<void>;

/** The forwarded requests, by method: each goes to the service that owns its name or URI. */
export const FORWARDED: Record<
  string,
  (federation: Federation, identity: GatewayIdentity, params: Params, options: RequestOptions) => Promise<Record<string, unknown>>
> = {
  'tools/call': (federation, identity, params, options) => federation.callTool(identity, params, options),
  'prompts/get': (federation, identity, params, options) => federation.getPrompt(identity, params, options),
  'resources/read': (federation, identity, params, options) => federation.readResource(identity, params, options),
  'completion/complete': (federation, identity, params, options) => federation.complete(identity, params, options),
};

/** Which client capability a relayed request needs. */
const NEEDS: Record<string, 'sampling' | 'elicitation' | 'roots'> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/**
 * The client of a call, as the service sees it: requests the client did not declare it
 * takes are refused here (`roots/list` answers no roots), and log messages below the
 * level it asked for are dropped.
 */
export function callDownstream(session: SessionState, send: SendRequest, notify: SendNotification): Downstream {
  return {
    request: async (method, params) => {
      const needed = NEEDS[method];
      if (needed !== undefined && session.server.getClientCapabilities()?.[needed] === undefined) {
        if (method === 'roots/list') return { roots: [] };
        throw new ProtocolError(ProtocolErrorCode.InvalidRequest, `The client of this call does not support ${method}`);
      }
      return send(method, params);
    },
    notify: async (method, params) => {
      if (method === 'notifications/message' && !passesLevel(params?.['level'], session.logLevel)) return;
      await notify(method, params);
    },
  };
}

/** Progress from the service goes to the call's client, under the client's own token (none without one). */
export function progressTo(progressToken: unknown, notify: SendNotification): Pick<RequestOptions, 'onprogress'> {
  if (progressToken === undefined) return {};
  return { onprogress: (progress) => void notify('notifications/progress', { progressToken, ...progress }).catch(() => undefined) };
}

/** The protocol error a failure is answered with; a cancellation (AbortError) is returned as it is. */
export function asProtocolError(error: unknown, logger: Logger): unknown {
  if (error instanceof Error && error.name === 'AbortError') return error;
  const rpc = toRpcError(error);
  if (rpc.code === -32603 && !(error instanceof GatewayError)) logger.error({ err: error }, 'request failed');
  return new ProtocolError(rpc.code, rpc.message, rpc.data);
}
