/**
 * Case 5: a session id created under one identity, presented with another identity's
 * token, is 404 (sessions are bound to their creator), and a session id is never a
 * substitute for a token. The owner's session keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthMesh, sessionClient, startAuthMesh, TOKENS } from './auth-fixture.js';
import { callBody, expectAlive, postMcp } from './harness.js';

let mesh: AuthMesh;
beforeAll(async () => {
  mesh = await startAuthMesh();
});
afterAll(() => mesh?.close());

const sessionHeaders = (token: string | null, sessionId: string) => ({
  ...(token === null ? { authorization: '' } : { authorization: `Bearer ${token}` }),
  'mcp-session-id': sessionId,
  'mcp-protocol-version': '2025-06-18',
  accept: 'application/json, text/event-stream',
});

describe('case 5: a session belongs to the identity that created it', () => {
  it("another identity's token with that session id gets 404, on POST, GET and DELETE; the backend sees nothing", async () => {
    const alice = await sessionClient(mesh.gateway, TOKENS.alice);
    try {
      const sessionId = alice.transport?.sessionId;
      expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
      const before = mesh.backend.toolCalls();

      const post = await postMcp(mesh.gateway, callBody('lookup'), sessionHeaders(TOKENS.bob, sessionId!));
      expect(post.status).toBe(404);
      expect(post.body).toMatchObject({ jsonrpc: '2.0', error: { code: expect.any(Number) } });
      for (const method of ['GET', 'DELETE']) {
        const response = await fetch(`${mesh.gateway.url}/mcp`, { method, headers: sessionHeaders(TOKENS.bob, sessionId!) });
        expect(response.status, method).toBe(404);
        await response.body?.cancel();
      }
      expect(mesh.backend.toolCalls()).toBe(before);

      // Bob's DELETE did not end it: Alice's session still works.
      const result = await alice.callTool({ name: 'lookup', arguments: { id: '5' } });
      expect(result.structuredContent).toMatchObject({ id: '5' });
    } finally {
      await alice.close();
    }
    await expectAlive(mesh.gateway);
  });

  it('a session id without a token is 401, not a way in', async () => {
    const alice = await sessionClient(mesh.gateway, TOKENS.alice);
    try {
      const before = mesh.backend.toolCalls();
      const answer = await postMcp(mesh.gateway, callBody('lookup'), sessionHeaders(null, alice.transport!.sessionId!));
      expect(answer.status).toBe(401);
      expect(mesh.backend.toolCalls()).toBe(before);
    } finally {
      await alice.close();
    }
    await expectAlive(mesh.gateway);
  });
});
