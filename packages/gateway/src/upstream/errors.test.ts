import { describe, expect, it } from 'vitest';
import {
  backendDetail,
  classifyUpstreamError,
  describeCause,
  InvalidAnswerError,
  SessionLostError,
  UpstreamHttpError,
  UpstreamTimeoutError,
} from './errors.js';

const coded = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('classifyUpstreamError', () => {
  it('sorts the transport failures into their kinds', () => {
    expect(classifyUpstreamError(new SessionLostError('gone')).kind).toBe('session-lost');
    expect(classifyUpstreamError(new UpstreamTimeoutError('late')).kind).toBe('timeout');
    expect(classifyUpstreamError(new UpstreamHttpError(500, 'Internal Server Error')).kind).toBe('bad-response');
    expect(classifyUpstreamError(new InvalidAnswerError('not JSON')).kind).toBe('bad-response');
  });

  it('treats socket and undici connection failures as transport failures, without the address', () => {
    const refused = classifyUpstreamError(coded('connect ECONNREFUSED 10.1.2.3:3002', 'ECONNREFUSED'));
    expect(refused).toEqual({ kind: 'transport', reason: 'connection refused (ECONNREFUSED)' });
    expect(classifyUpstreamError(coded('other side closed', 'UND_ERR_SOCKET')).kind).toBe('transport');
    const destroyed = classifyUpstreamError(coded('The client is destroyed', 'UND_ERR_DESTROYED'));
    expect(destroyed).toEqual({
      kind: 'transport',
      reason: 'connection closed by the gateway: the service was removed or the gateway is stopping (UND_ERR_DESTROYED)',
    });
  });
});

describe('describeCause', () => {
  it("describes an HTTP error by its status only (the reason phrase is the service's text, for the log), and names a refused credential", () => {
    expect(describeCause(new UpstreamHttpError(502, 'Bad Gateway'))).toBe('HTTP 502');
    expect(backendDetail(new UpstreamHttpError(502, 'Bad Gateway'))).toBe('reason phrase: Bad Gateway');
    expect(describeCause(new UpstreamHttpError(401, ''))).toBe("HTTP 401: the service refused the gateway's credential for it");
  });

  it('says the deepest cause in one line', () => {
    const error = new Error('fetch failed', { cause: coded('getaddrinfo ENOTFOUND internal.example', 'ENOTFOUND') });
    expect(describeCause(error)).toBe('host name not found (ENOTFOUND)');
  });
});
