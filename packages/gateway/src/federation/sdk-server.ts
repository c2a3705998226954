import { ProtocolError, Server, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { GatewayIdentity } from '../auth/tokens.js';
import type { RequestRecord } from '../observability/record.js';
import type { Registry } from '../registry/registry.js';
import type { Downstream } from '../upstream/relay.js';
import { gatewayCapabilities, gatewayInstructions, SERVER_INFO } from './capabilities.js';
import type { RequestContext, RequestView } from './context.js';
import type { MethodTable } from './methods.js';

/** Keeps every field the client sent back (sampling, elicitation and roots results). */
const passthrough = z.looseObject({});

/**
 * An SDK server whose every method is the method table's, for what only the SDK serves
 * today: clients of the stateless 2026-07-28 revision (`server/discover`, `_meta`
 * envelopes, `Mcp-Method` checks), through the SDK's `createMcpHandler`. The handlers map
 * the SDK's request context to the gateway's and failures to the SDK's ProtocolError.
 */
export function buildSdkServer(
  methods: MethodTable,
  registry: Registry,
  identity: GatewayIdentity,
  view: () => RequestView,
  record?: RequestRecord,
  instructions = gatewayInstructions(registry, identity),
): Server {
  const capabilities = gatewayCapabilities(registry);
  const server = new Server(SERVER_INFO, { capabilities, instructions });
  for (const method of methods.names) {
    if (!methods.knows(method, capabilities)) continue;
    server.setRequestHandler(method as 'tools/call', async (request, sdk) => {
      const ctx = contextOf(sdk, identity, method, view(), record);
      try {
        return (await methods.run(ctx, request.params)) as never;
      } catch (error) {
        if (error instanceof Error && error.name === 'AbortError') throw error;
        const wire = methods.toWire(error, method);
        throw new ProtocolError(wire.code, wire.message, wire.data);
      }
    });
  }
  return server;
}

function contextOf(sdk: ServerContext, identity: GatewayIdentity, method: string, view: RequestView, record: RequestRecord | undefined): RequestContext {
  const token = sdk.mcpReq._meta?.progressToken;
  const downstream: Downstream = {
    request: (relayed, params) =>
      sdk.mcpReq.send({ method: relayed, ...(params === undefined ? {} : { params }) } as never, passthrough, { signal: sdk.mcpReq.signal }) as Promise<
        Record<string, unknown>
      >,
    notify: (notified, params) => sdk.mcpReq.notify({ method: notified, ...(params === undefined ? {} : { params }) } as never),
  };
  return {
    identity,
    requestId: sdk.mcpReq.id,
    method,
    catalog: view.catalog,
    ...(view.server === undefined ? {} : { server: view.server }),
    signal: sdk.mcpReq.signal,
    downstream,
    progressToken: typeof token === 'string' || typeof token === 'number' ? token : undefined,
    traceparent: record?.traceparent,
    session: undefined,
    record,
  };
}
