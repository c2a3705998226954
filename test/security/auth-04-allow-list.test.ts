/**
 * Case 4: a token whose tool allow-list lacks a tool does not see it in `tools/list`, and
 * `tools/call` of it is refused exactly like a tool that does not exist (-32602), so the
 * answer does not even confirm that it exists. The backend never hears of the call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthMesh, sessionClient, startAuthMesh, TOKENS } from './auth-fixture.js';
import { callBody, expectAlive, postMcp } from './harness.js';

let mesh: AuthMesh;
beforeAll(async () => {
  mesh = await startAuthMesh();
});
afterAll(() => mesh?.close());

const asAgent = { authorization: `Bearer ${TOKENS.agent}` };
const listBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

describe('case 4: a tool allow-list filters tools/list and refuses tools/call', () => {
  it('tools/list shows the allowed tool only; an unrestricted token sees both', async () => {
    const agent = await postMcp(mesh.gateway, listBody, asAgent);
    expect(agent.body.result.tools.map((tool: { name: string }) => tool.name)).toEqual(['lookup']);
    const alice = await postMcp(mesh.gateway, listBody, { authorization: `Bearer ${TOKENS.alice}` });
    expect(alice.body.result.tools.map((tool: { name: string }) => tool.name)).toEqual(['lookup', 'erase']);
  });

  it('tools/call of a denied tool answers like an unknown tool, by any of its names; the backend sees nothing', async () => {
    const before = mesh.backend.toolCalls();
    const unknown = await postMcp(mesh.gateway, callBody('noSuchTool'), asAgent);
    for (const name of ['erase', 'recorder__erase']) {
      const answer = await postMcp(mesh.gateway, callBody(name), asAgent);
      expect(answer.status).toBe(200);
      expect(answer.body.error.code).toBe(-32602);
      expect(answer.body.error.message).toBe(unknown.body.error.message.replace('noSuchTool', name));
    }
    expect(mesh.backend.toolCalls()).toBe(before);
    await expectAlive(mesh.gateway);
  });

  it('the allowed tool is called as usual', async () => {
    const answer = await postMcp(mesh.gateway, callBody('lookup', { id: '3' }), asAgent);
    expect(answer.body.result.structuredContent).toEqual({ from: 'recorder', tool: 'lookup', id: '3' });
  });

  it('a session of the token is filtered the same way', async () => {
    const before = mesh.backend.toolCalls();
    const client = await sessionClient(mesh.gateway, TOKENS.agent);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['lookup']);
      await expect(client.callTool({ name: 'erase', arguments: { id: '1' } })).rejects.toMatchObject({ code: -32602 });
    } finally {
      await client.close();
    }
    expect(mesh.backend.toolCalls()).toBe(before);
    await expectAlive(mesh.gateway);
  });
});
