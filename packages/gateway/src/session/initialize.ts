import { type ClientCapabilities, LATEST_PROTOCOL_VERSION, type ServerCapabilities, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { GatewayError } from '../errors.js';
import type { Params, Result } from '../federation/context.js';
import type { Handshake } from './session.js';

const SUPPORTED = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);

/**
 * The handshake of a new session from its `initialize` params (lifecycle spec): the
 * client's version when the gateway speaks it, else the newest the gateway speaks (the
 * client then decides whether to go on).
 */
export function negotiate(params: Params, offered: ServerCapabilities): Handshake {
  const requested = params?.['protocolVersion'];
  const capabilities = params?.['capabilities'];
  if (typeof requested !== 'string' || typeof capabilities !== 'object' || capabilities === null || Array.isArray(capabilities)) {
    throw new GatewayError('invalid_body', 'Invalid params: initialize needs "protocolVersion" (a string) and "capabilities" (an object)');
  }
  return {
    protocolVersion: SUPPORTED.has(requested) ? requested : LATEST_PROTOCOL_VERSION,
    clientCapabilities: capabilities as ClientCapabilities,
    offered,
    clientInfo: clientInfoOf(params?.['clientInfo']),
  };
}

/** The longest client name or version kept: it is the client's own text, shown to admins. */
const MAX_CLIENT_TEXT = 200;

/** `clientInfo.name` and `.version` when they are strings (cut to a bounded length); nothing else of it is kept. */
function clientInfoOf(raw: unknown): { name?: string; version?: string } {
  if (typeof raw !== 'object' || raw === null) return {};
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, MAX_CLIENT_TEXT) : undefined);
  const name = text((raw as { name?: unknown }).name);
  const version = text((raw as { version?: unknown }).version);
  return { ...(name === undefined ? {} : { name }), ...(version === undefined ? {} : { version }) };
}

/** The `initialize` result for a negotiated handshake; `meta` says which gateway instances answer (upstream/loop.ts). */
export function initializeResult(
  handshake: Handshake,
  serverInfo: { name: string; version: string },
  instructions: string,
  meta?: Record<string, unknown>,
): Result {
  return {
    protocolVersion: handshake.protocolVersion,
    capabilities: handshake.offered,
    serverInfo,
    instructions,
    ...(meta === undefined ? {} : { _meta: meta }),
  };
}
