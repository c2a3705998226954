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
const RELAYED = ['sampling/createMessage', 'elicitation/create', 'roots/list'] as const;
type RelayedMethod = (typeof RELAYED)[number];

type Handler = (request: { params?: Record<string, unknown> }) => Promise<Record<string, unknown>>;

/** Why a service's request could not be relayed: no client with a session made the call. */
export function relayRefusal(method: string, service: string): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InvalidRequest,
    `The gateway can relay ${method} from service "${service}" only to the client of a call in flight, made with a session (and, when the service does not tie the request to a call, only while one such call is in flight)`,
  );
}

/**
 * Handlers on the SDK client for the service's requests that arrive on its GET stream,
 * unrelated to any call (SDK v2's `requestSampling` sends them there; requests made on a
 * call's own stream are relayed by lean-call.ts). They go to the client of the one call in
 * flight to the service, when there is exactly one. Otherwise there is nobody to ask:
 * `roots/list` answers no roots, the others fail clearly.
 */
export function relayHandlers(service: string, soleCaller: () => Downstream | undefined): [RelayedMethod, Handler][] {
  return RELAYED.map((method) => [
    method,
    async (request) => {
      const downstream = soleCaller();
      if (downstream !== undefined) return downstream.request(method, request.params);
      if (method === 'roots/list') return { roots: [] };
      throw relayRefusal(method, service);
    },
  ]);
}
