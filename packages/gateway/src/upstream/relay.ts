import { ProtocolError, ProtocolErrorCode, type ClientCapabilities } from '@modelcontextprotocol/client';
import { currentCall, type Downstream } from './call-context.js';

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

/**
 * Handlers for the service's requests. A request made during a call (on that call's event
 * stream) goes to the call's client and its answer back to the service. Some servers send
 * such requests on their GET stream instead (SDK v2's `requestSampling` does), unrelated to
 * any call: those go to the client of the one call in flight to the service, when there is
 * exactly one. Otherwise there is nobody to ask: `roots/list` answers no roots, the others
 * fail clearly.
 */
export function relayHandlers(service: string, soleCaller: () => Downstream | undefined): [RelayedMethod, Handler][] {
  return RELAYED.map((method) => [
    method,
    async (request) => {
      const downstream = currentCall()?.downstream ?? soleCaller();
      if (downstream === undefined) {
        if (method === 'roots/list') return { roots: [] };
        throw new ProtocolError(
          ProtocolErrorCode.InvalidRequest,
          `The gateway can relay ${method} from service "${service}" only to the client of a call in flight, made with a session (and, when the service does not tie the request to a call, only while one such call is in flight)`,
        );
      }
      return downstream.request(method, request.params);
    },
  ]);
}
