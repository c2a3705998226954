/**
 * Multi-round-trip fixtures (protocol revision 2026-07-28, SEP-2322): tools and a prompt
 * that answer `input_required` until the client retries with the `inputResponses` they
 * asked for. Their `requestState` is sealed with the SDK's HMAC codec (see
 * `createRequestState`), so a tampered or foreign state is refused with -32602 before a
 * handler runs. On a 2025-era session the SDK's legacy shim turns the same returns into
 * server-to-client requests, so one handler serves both eras.
 */
import { randomBytes } from 'node:crypto';
import {
  acceptedContent,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  createRequestStateCodec,
  inputRequired,
  inputResponse,
  type McpServer,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** What a fixture seals into `requestState`: which flow minted it and the answers gathered so far. */
export interface FlowState {
  flow: string;
  round: number;
  answers: Record<string, unknown>;
}

/**
 * One codec per fixture process: a random key (every round of a flow reaches the same
 * process), ten-minute expiry, bound to the method so a `tools/call` state cannot be
 * replayed on `prompts/get`.
 */
export function createRequestState(): RequestStateCodec<FlowState> {
  return createRequestStateCodec<FlowState>({ key: randomBytes(32), ttlSeconds: 600, bind: (ctx) => ctx.mcpReq.method });
}

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

const NAME = z.object({ name: z.string() });
const OK = z.object({ ok: z.boolean() });
const COLOR = z.object({ color: z.string() });
const CONTEXT = z.object({ context: z.string() });

const askName = (message: string) =>
  inputRequired.elicit({
    message,
    requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  });

/** The verified state of this round when it belongs to `flow`, else undefined (a fresh call). */
function stateOf(ctx: ServerContext, flow: string): FlowState | undefined {
  const state = ctx.mcpReq.requestState<FlowState>();
  return typeof state === 'object' && state !== null && state.flow === flow ? state : undefined;
}

/** The text of a sampling answer, or undefined when the entry is not one. */
function sampledText(responses: Record<string, unknown> | undefined, key: string): string | undefined {
  const view = inputResponse(responses, key);
  if (view.kind !== 'sampling') return undefined;
  const content = Array.isArray(view.result.content) ? view.result.content[0] : view.result.content;
  return content?.type === 'text' ? content.text : undefined;
}

/** The roots of a roots/list answer, or undefined when the entry is not one. */
function rootsOf(responses: Record<string, unknown> | undefined, key: string): { uri: string }[] | undefined {
  const view = inputResponse(responses, key);
  return view.kind === 'roots' ? view.roots : undefined;
}

/** The client capabilities this request declared (2026-07-28 envelope or 2025-era session). */
function clientCapabilities(server: McpServer, ctx: ServerContext): ClientCapabilities {
  const envelope: Record<string, unknown> | undefined = ctx.mcpReq.envelope;
  const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  return declared ?? server.server.getClientCapabilities() ?? {};
}

export function registerInputRequiredFixtures(server: McpServer, codec: RequestStateCodec<FlowState>): void {
  server.registerTool('test_input_required_result_elicitation', { description: 'Asks for a name, then greets it' }, (ctx) => {
    const answer = acceptedContent(ctx.mcpReq.inputResponses, 'user_name', NAME);
    if (answer === undefined) return inputRequired({ inputRequests: { user_name: askName('What is your name?') } });
    return text(`Hello, ${answer.name}!`);
  });

  server.registerTool('test_input_required_result_sampling', { description: 'Asks the client to sample, then reports the answer' }, (ctx) => {
    const answer = sampledText(ctx.mcpReq.inputResponses, 'capital_question');
    if (answer === undefined) {
      return inputRequired({
        inputRequests: {
          capital_question: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
            maxTokens: 100,
          }),
        },
      });
    }
    return text(`LLM response: ${answer}`);
  });

  server.registerTool('test_input_required_result_list_roots', { description: "Asks for the client's roots, then lists them" }, (ctx) => {
    const roots = rootsOf(ctx.mcpReq.inputResponses, 'client_roots');
    if (roots === undefined) return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
    return text(`Client roots: ${roots.map((root) => root.uri).join(', ') || '(none)'}`);
  });

  /** One sealed round: asks to confirm with a minted state, then answers once both come back. */
  const confirmWithState = (flow: string, done: (ok: boolean, state: FlowState) => string) => async (ctx: ServerContext) => {
    const state = stateOf(ctx, flow);
    const answer = acceptedContent(ctx.mcpReq.inputResponses, 'confirm', OK);
    if (state !== undefined && answer !== undefined) return text(done(answer.ok, state));
    return inputRequired({
      inputRequests: {
        confirm: inputRequired.elicit({
          message: 'Please confirm',
          requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
        }),
      },
      requestState: await codec.mint({ flow, round: 1, answers: {} }, ctx),
    });
  };
  server.registerTool(
    'test_input_required_result_request_state',
    { description: 'Round-trips a sealed requestState' },
    confirmWithState('request_state', (ok, state) => `state-ok: confirmed=${ok} (round ${state.round} state verified)`),
  );
  // A tampered state never reaches the handler: the codec's verify refuses it with -32602.
  server.registerTool(
    'test_input_required_result_tampered_state',
    { description: 'Refuses a requestState that fails its HMAC' },
    confirmWithState('tampered_state', (ok) => `State verified: confirmed=${ok}`),
  );

  server.registerTool('test_input_required_result_multiple_inputs', { description: 'Asks for an elicitation, a sample and the roots at once' }, async (ctx) => {
    const responses = ctx.mcpReq.inputResponses;
    const name = acceptedContent(responses, 'user_name', NAME);
    const greeting = sampledText(responses, 'greeting');
    const roots = rootsOf(responses, 'client_roots');
    if (stateOf(ctx, 'multiple_inputs') === undefined || name === undefined || greeting === undefined || roots === undefined) {
      return inputRequired({
        inputRequests: {
          user_name: askName('What is your name?'),
          greeting: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
            maxTokens: 50,
          }),
          client_roots: inputRequired.listRoots(),
        },
        requestState: await codec.mint({ flow: 'multiple_inputs', round: 1, answers: {} }, ctx),
      });
    }
    return text(`${greeting} ${name.name} (${roots.length} roots)`);
  });

  server.registerTool('test_input_required_result_multi_round', { description: 'Asks a name, then a colour, then answers' }, async (ctx) => {
    const state = stateOf(ctx, 'multi_round');
    const responses = ctx.mcpReq.inputResponses;
    if (state?.round === 1) {
      const name = acceptedContent(responses, 'step1', NAME);
      if (name !== undefined) {
        return inputRequired({
          inputRequests: {
            step2: inputRequired.elicit({
              message: 'Step 2: What is your favorite color?',
              requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
            }),
          },
          requestState: await codec.mint({ flow: 'multi_round', round: 2, answers: { name: name.name } }, ctx),
        });
      }
    }
    if (state?.round === 2) {
      const color = acceptedContent(responses, 'step2', COLOR);
      if (color !== undefined) return text(`${String(state.answers['name'])}'s favorite color is ${color.color}`);
    }
    return inputRequired({
      inputRequests: { step1: askName('Step 1: What is your name?') },
      requestState: await codec.mint({ flow: 'multi_round', round: 1, answers: {} }, ctx),
    });
  });

  server.registerTool(
    'test_input_required_result_capabilities',
    { description: 'Asks only for what the client declared it can answer (sampling, elicitation)' },
    (ctx) => {
      const declared = clientCapabilities(server, ctx);
      const responses = ctx.mcpReq.inputResponses;
      const requests: Parameters<typeof inputRequired>[0]['inputRequests'] = {};
      // With neither declared, ask for a sample anyway: the SDK answers -32021 naming sampling.
      const neither = declared.sampling === undefined && declared.elicitation === undefined;
      if ((declared.sampling !== undefined || neither) && sampledText(responses, 'summary') === undefined) {
        requests['summary'] = inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'Summarise the capabilities you declared' } }],
          maxTokens: 50,
        });
      }
      if (declared.elicitation !== undefined && acceptedContent(responses, 'user_name', NAME) === undefined) {
        requests['user_name'] = askName('What is your name?');
      }
      if (Object.keys(requests).length === 0) return text('Every declared capability answered');
      return inputRequired({ inputRequests: requests });
    },
  );

  // Needs sampling: the SDK refuses its input_required with -32021 (requiredCapabilities
  // { sampling: {} }, HTTP 400) when the request's client capabilities do not declare it.
  server.registerTool('test_missing_capability', { description: 'Needs the client to sample; refused with -32021 without the capability' }, (ctx) => {
    const answer = sampledText(ctx.mcpReq.inputResponses, 'probe');
    if (answer === undefined) {
      return inputRequired({
        inputRequests: { probe: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 20 }) },
      });
    }
    return text(`Sampled: ${answer}`);
  });

  server.registerPrompt('test_input_required_result_prompt', { description: 'Asks which context to use, then builds the prompt' }, (ctx) => {
    const answer = acceptedContent(ctx.mcpReq.inputResponses, 'user_context', CONTEXT);
    if (answer === undefined) {
      return inputRequired({
        inputRequests: {
          user_context: inputRequired.elicit({
            message: 'What context should the prompt use?',
            requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] },
          }),
        },
      });
    }
    return { messages: [{ role: 'user', content: { type: 'text', text: `Answer using this context: ${answer.context}` } }] };
  });
}
