import { describe, expect, it } from 'vitest';
import { answerServiceRequest, Callers, type Downstream } from './relay.js';

function client(name: string): Downstream {
  return {
    request: async (method) => ({ answeredBy: name, method }),
    notify: async () => undefined,
  };
}

describe('Callers', () => {
  it('names the sole client only while every call in flight is that one client', () => {
    const callers = new Callers();
    const a = client('a');
    const b = client('b');
    expect(callers.sole()).toBeUndefined();
    const first = callers.enter(a);
    expect(callers.sole()).toBe(a);
    const second = callers.enter(a);
    expect(callers.sole()).toBe(a); // two calls of one client are still one client
    const third = callers.enter(b);
    expect(callers.sole()).toBeUndefined();
    callers.leave(second); // from the middle
    expect(callers.sole()).toBeUndefined();
    callers.leave(first); // from the tail
    expect(callers.sole()).toBe(b);
    callers.leave(third); // the head, the last one
    expect(callers.sole()).toBeUndefined();
  });

  it('leaves in any order without losing or keeping an entry', () => {
    const callers = new Callers();
    const clients = Array.from({ length: 6 }, (_, i) => client(String(i)));
    const entries = clients.map((c) => callers.enter(c));
    for (const i of [3, 0, 5, 1, 4]) callers.leave(entries[i] as ReturnType<Callers['enter']>);
    expect(callers.sole()).toBe(clients[2]);
    callers.leave(entries[2] as ReturnType<Callers['enter']>);
    expect(callers.sole()).toBeUndefined();
    const again = callers.enter(clients[4] as Downstream);
    expect(callers.sole()).toBe(clients[4]);
    callers.leave(again);
    expect(callers.sole()).toBeUndefined();
  });
});

describe('answerServiceRequest', () => {
  it('relays to the sole caller, else the outside policy, else a clear answer', async () => {
    await expect(answerServiceRequest('svc', 'roots/list', undefined, client('a'))).resolves.toEqual({ answeredBy: 'a', method: 'roots/list' });
    await expect(answerServiceRequest('svc', 'roots/list', undefined, undefined, async () => ({ roots: [{ uri: 'file:///x' }] }))).resolves.toEqual({
      roots: [{ uri: 'file:///x' }],
    });
    await expect(answerServiceRequest('svc', 'roots/list', undefined, undefined)).resolves.toEqual({ roots: [] });
    await expect(answerServiceRequest('svc', 'sampling/createMessage', {}, undefined)).rejects.toThrow(/service "svc"/);
    await expect(answerServiceRequest('svc', 'tools/list', {}, client('a'))).rejects.toThrow(/Method not found/);
    await expect(answerServiceRequest('svc', 'ping', undefined, undefined)).resolves.toEqual({});
  });
});
