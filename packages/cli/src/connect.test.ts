import { describe, expect, it } from 'vitest';
import { BRIDGE_ERROR, undeliveredAnswer } from './connect.js';
import type { Context } from './context.js';
import { resolveTarget } from './options.js';

const context = {
  target: resolveTarget({ token: 'secret-token-1' }, {}, {}, '/none.json'),
  json: false,
  io: { stdout: process.stdout, stderr: process.stderr },
  env: {},
} as Context;

/** The SDK transport's error for a refused POST: the status and the body's text. */
const httpError = (status: number, text: string) => Object.assign(new Error(`Error POSTing to endpoint: ${text}`), { data: { status, text } });

describe('undeliveredAnswer', () => {
  it("forwards the gateway's own JSON-RPC error under the request's id", () => {
    const answer = undeliveredAnswer(7, httpError(404, '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}'), context);
    expect(answer).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32001, message: 'Session not found' } });
  });

  it('adds where the token came from to a 401, never the token', () => {
    const answer = undeliveredAnswer(
      1,
      httpError(401, '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Unauthorized: Invalid Bearer token"}}'),
      context,
    );
    const message = (answer as { error: { message: string } }).error.message;
    expect(message).toBe("Unauthorized: Invalid Bearer token (meshgate connect sent the token from --token; set MESHGATE_TOKEN in this server's environment)");
    expect(message).not.toContain('secret-token-1');
  });

  it('answers an unreachable gateway with an internal error naming it', () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    expect(undeliveredAnswer('a', refused, context)).toMatchObject({
      id: 'a',
      error: { code: BRIDGE_ERROR, message: expect.stringContaining('Cannot reach the gateway at http://localhost:3001') },
    });
  });

  it('redacts the token from any other failure', () => {
    const answer = undeliveredAnswer(2, new Error('proxy said secret-token-1 is odd'), context);
    expect((answer as { error: { message: string } }).error.message).toContain('proxy said *** is odd');
  });
});
