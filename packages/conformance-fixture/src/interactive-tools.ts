/**
 * Tools that talk back while they run: log messages, progress notifications, sampling
 * and elicitation requests to the client, and a tool that closes its own SSE stream
 * mid-call so the client must resume with `Last-Event-ID` (SEP-1699).
 */
import { acceptedContent, inputRequired, type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';

const sleep = (ms: number) => new Promise<void>((wake) => setTimeout(wake, ms));

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

/** The SEP-1034 form: one field of each primitive type, each with a default. */
const DEFAULTS_SCHEMA = {
  type: 'object' as const,
  properties: {
    name: { type: 'string' as const, description: 'Your name', default: 'John Doe' },
    age: { type: 'integer' as const, description: 'Your age', default: 30 },
    score: { type: 'number' as const, description: 'Your score', default: 95.5 },
    status: { type: 'string' as const, description: 'Account status', enum: ['active', 'inactive', 'pending'], default: 'active' },
    verified: { type: 'boolean' as const, description: 'Verified account', default: true },
  },
};

/** The SEP-1330 form: the five ways to spell an enum. */
const ENUMS_SCHEMA = {
  type: 'object' as const,
  properties: {
    untitledSingle: { type: 'string' as const, enum: ['option1', 'option2', 'option3'] },
    titledSingle: {
      type: 'string' as const,
      oneOf: [
        { const: 'value1', title: 'First Option' },
        { const: 'value2', title: 'Second Option' },
        { const: 'value3', title: 'Third Option' },
      ],
    },
    legacyEnum: {
      type: 'string' as const,
      enum: ['opt1', 'opt2', 'opt3'],
      enumNames: ['Option One', 'Option Two', 'Option Three'],
    },
    untitledMulti: { type: 'array' as const, items: { type: 'string' as const, enum: ['option1', 'option2', 'option3'] } },
    titledMulti: {
      type: 'array' as const,
      items: {
        anyOf: [
          { const: 'value1', title: 'First Choice' },
          { const: 'value2', title: 'Second Choice' },
          { const: 'value3', title: 'Third Choice' },
        ],
      },
    },
  },
};

async function progress(ctx: ServerContext, value: number): Promise<void> {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return;
  await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: value, total: 100 } });
}

export function registerInteractiveTools(server: McpServer): void {
  const logThree = async (ctx: ServerContext) => {
    await ctx.mcpReq.log('info', 'Tool execution started');
    await sleep(50);
    await ctx.mcpReq.log('info', 'Tool processing data');
    await sleep(50);
    await ctx.mcpReq.log('info', 'Tool execution completed');
    return text('Tool with logging executed successfully');
  };
  server.registerTool('test_tool_with_logging', { description: 'Logs three messages while it runs' }, logThree);
  // The 2026-07-28 name (server-stateless): the SDK sends its messages only when the request set a log level.
  server.registerTool('test_logging_tool', { description: 'Logs three messages while it runs (only at a requested log level)' }, logThree);

  // server-stateless: a streamed call that needs input answers with progress and then
  // input_required on its own response stream, never with a request of its own.
  server.registerTool('test_streaming_elicitation', { description: 'Streams progress, then asks for a name with input_required' }, async (ctx) => {
    const answer = acceptedContent(ctx.mcpReq.inputResponses, 'name', z.object({ name: z.string() }));
    if (answer !== undefined) return text(`Hello, ${answer.name}!`);
    await progress(ctx, 50);
    return inputRequired({
      inputRequests: {
        name: inputRequired.elicit({
          message: 'What is your name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        }),
      },
    });
  });

  server.registerTool('test_tool_with_progress', { description: 'Reports progress 0, 50, 100 of 100' }, async (ctx) => {
    await progress(ctx, 0);
    await sleep(50);
    await progress(ctx, 50);
    await sleep(50);
    await progress(ctx, 100);
    return text('Tool with progress completed');
  });

  server.registerTool(
    'test_sampling',
    { description: 'Asks the client to sample an LLM', inputSchema: z.object({ prompt: z.string() }) },
    async ({ prompt }, ctx) => {
      const answer = await ctx.mcpReq.requestSampling({
        messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
        maxTokens: 100,
      });
      const content = Array.isArray(answer.content) ? answer.content[0] : answer.content;
      return text(`LLM response: ${content?.type === 'text' ? content.text : JSON.stringify(content)}`);
    },
  );

  server.registerTool(
    'test_elicitation',
    { description: 'Asks the user for a username and an email', inputSchema: z.object({ message: z.string() }) },
    async ({ message }, ctx) => {
      const answer = await ctx.mcpReq.elicitInput({
        message,
        requestedSchema: {
          type: 'object',
          properties: {
            username: { type: 'string', description: "User's response" },
            email: { type: 'string', description: "User's email address" },
          },
          required: ['username', 'email'],
        },
      });
      return text(`User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
    },
  );

  server.registerTool('test_elicitation_sep1034_defaults', { description: 'Elicits a form whose fields have defaults' }, async (ctx) => {
    const answer = await ctx.mcpReq.elicitInput({ message: 'Please review your details', requestedSchema: DEFAULTS_SCHEMA });
    return text(`Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
  });

  server.registerTool('test_elicitation_sep1330_enums', { description: 'Elicits a form with every enum variant' }, async (ctx) => {
    const answer = await ctx.mcpReq.elicitInput({ message: 'Please pick some options', requestedSchema: ENUMS_SCHEMA });
    return text(`Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
  });

  server.registerTool('test_reconnection', { description: 'Closes its SSE stream mid-call; the result arrives on resumption' }, async (ctx) => {
    await sleep(50);
    // Without an event store (or on a JSON response) there is nothing to close.
    ctx.http?.closeSSE?.();
    await sleep(200);
    return text('Reconnection test completed');
  });
}
