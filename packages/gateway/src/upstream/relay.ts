import { type ClientCapabilities, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/client';

/**
 * The downstream client on whose behalf an upstream call runs: where a service's
 * requests (sampling, elicitation, roots) and log messages during that call go.
 */
export interface Downstream {
  /** Sends a request to the client and resolves with its result. */
  request(method: string, params: Record<string, unknown> | undefined): Promise<Record<string, unknown>>;
  /** Sends a notification to the client. */
  notify(method: string, params: Record<string, unknown> | undefined): Promise<void>;
}

/**
 * What the gateway tells services it can do as their client: whatever its own clients
 * can, relayed. Whether the client of a given call really can is checked per request.
 */
export const UPSTREAM_CLIENT_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: {},
};

/** Requests a service may send its client; the gateway relays them to the client whose call caused them. */
const RELAYED = new Set(['sampling/createMessage', 'elicitation/create', 'roots/list']);

/** Why a service's request could not be relayed: no client with a session made the call. */
export function relayRefusal(method: string, service: string): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InvalidRequest,
    `The gateway can relay ${method} from service "${service}" only to the client of a call in flight, made with a session (and, when the service does not tie the request to a call, only while one such call is in flight)`,
  );
}

/**
 * Answers a service's request that is not tied to one of the gateway's (for HTTP, it came
 * on the GET stream: SDK v2's `requestSampling` sends them there; requests made during a
 * call are relayed by the transport to that call's client). It goes to the client of the
 * one call in flight to the service, when there is exactly one. Otherwise `outside`
 * answers it, when given (the gateway's policy for requests outside calls, see
 * session/audience.ts); without it `roots/list` answers no roots and the others fail clearly.
 */
export function answerServiceRequest(
  service: string,
  method: string,
  params: Record<string, unknown> | undefined,
  callers: ReadonlySet<Downstream>,
  outside?: (method: string, params: Record<string, unknown> | undefined) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  if (method === 'ping') return Promise.resolve({});
  if (!RELAYED.has(method)) return Promise.reject(new ProtocolError(ProtocolErrorCode.MethodNotFound, `Method not found: ${method}`));
  const downstream = callers.size === 1 ? callers.values().next().value : undefined;
  if (downstream !== undefined) return downstream.request(method, params);
  if (outside !== undefined) return outside(method, params);
  if (method === 'roots/list') return Promise.resolve({ roots: [] });
  return Promise.reject(relayRefusal(method, service));
}
