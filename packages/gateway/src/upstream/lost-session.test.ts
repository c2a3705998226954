import { describe, expect, it } from 'vitest';
import type { ExchangeEvents } from './exchange.js';
import { bodySaysSessionLost, REFUSAL_BODY_BYTES, withRefusals } from './lost-session.js';

describe('bodySaysSessionLost', () => {
  it.each([
    ['server-everything', '{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":1}'],
    ['the v1 SDK', '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}'],
    ['plain text', 'Unknown session'],
    ['an expired session', '{"error":{"message":"session expired"}}'],
  ])('a lost session in the words of %s', (_who, body) => {
    expect(bodySaysSessionLost(body)).toBe(true);
  });

  it.each([
    ['a bad body', '{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}'],
    ['a session that is fine', '{"error":{"message":"session limit reached"}}'],
    ['an unknown tool', '{"error":{"message":"tool not found"}}'],
    ['nothing', ''],
  ])('not for %s', (_what, body) => {
    expect(bodySaysSessionLost(body)).toBe(false);
  });
});

describe('withRefusals', () => {
  const answer = (seen: string[]): ExchangeEvents => ({
    head: (status) => seen.push(`head ${status}`),
    data: (chunk) => seen.push(`data ${chunk.toString()}`),
    end: () => seen.push('end'),
    error: () => seen.push('error'),
  });

  it('passes a 2xx answer through untouched', () => {
    const seen: string[] = [];
    const events = withRefusals(true, answer(seen), () => seen.push('refused'));
    events.head(200, 'OK', {});
    events.data(Buffer.from('x'));
    events.end();
    expect(seen).toEqual(['head 200', 'data x', 'end']);
  });

  it('reports a 404 at once, as lost only when the request carried a session', () => {
    const verdicts: boolean[] = [];
    withRefusals(true, answer([]), (_s, _t, lost) => verdicts.push(lost)).head(404, '', {});
    withRefusals(false, answer([]), (_s, _t, lost) => verdicts.push(lost)).head(404, '', {});
    expect(verdicts).toEqual([true, false]);
  });

  it('reads a 400 body up to its bound before judging, and reports once', () => {
    const verdicts: boolean[] = [];
    const events = withRefusals(true, answer([]), (status, _t, lost) => verdicts.push(lost && status === 400));
    events.head(400, 'Bad Request', {});
    events.data(Buffer.from('{"error":{"message":"Session '));
    events.data(Buffer.from('not found"}}'));
    events.data(Buffer.alloc(REFUSAL_BODY_BYTES * 4, 'x'));
    events.end();
    events.error(new Error('late'));
    expect(verdicts).toEqual([true]);
  });
});
