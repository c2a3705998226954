import type { ServerResponse } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { SessionReplay } from '../../session/replay.js';
import { connect, MAX_STREAM_BACKLOG_BYTES, PostReply, type ReplySession, SessionStream, StreamConnection } from './reply.js';

/** A session as a reply sees it; a 2025-06-18 client takes no priming event, a 2025-11-25 one does. */
function session(protocolVersion = '2025-06-18'): ReplySession {
  return { id: 's1', protocolVersion, replay: new SessionReplay() };
}

/** The events written, as [id, data] pairs (a priming event has empty data). */
function events(written: string[]): Array<[string | undefined, string]> {
  return written.map((chunk) => {
    const id = /^id: (.*)$/m.exec(chunk)?.[1];
    const data = /^data: (.*)$/m.exec(chunk)?.[1] ?? '';
    return [id, data];
  });
}

/** Just enough of a ServerResponse to see what a reply writes. */
function fakeResponse() {
  const written: string[] = [];
  const response = {
    headersSent: false,
    writableEnded: false,
    destroyed: false,
    writableLength: 0,
    head: undefined as { status: number; headers: Record<string, unknown> } | undefined,
    listeners: new Map<string, () => void>(),
    once(event: string, listener: () => void) {
      this.listeners.set(event, listener);
      return this;
    },
    writeHead(status: number, headers: Record<string, unknown>) {
      this.head = { status, headers };
      this.headersSent = true;
      return this;
    },
    flushHeaders() {},
    write(chunk: string) {
      written.push(chunk);
      return true;
    },
    destroy() {
      this.destroyed = true;
      return this;
    },
    end(chunk?: string | Buffer) {
      if (chunk !== undefined) written.push(chunk.toString());
      this.writableEnded = true;
      return this;
    },
  };
  return { response, written, asNode: response as unknown as ServerResponse };
}

describe('PostReply', () => {
  it('answers plain JSON with the session id when the answer is all there is', () => {
    const { response, written, asNode } = fakeResponse();
    new PostReply(asNode, session()).end({ jsonrpc: '2.0', id: 1, result: {} });
    expect(response.head).toMatchObject({ status: 200, headers: { 'content-type': 'application/json', 'mcp-session-id': 's1' } });
    expect(JSON.parse(written.join(''))).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
  });

  it('switches to an event stream at the first message before the answer, and ends with the answer as an event', () => {
    const { response, written, asNode } = fakeResponse();
    const reply = new PostReply(asNode, session());
    reply.notify('notifications/progress', { progressToken: 'p', progress: 1 });
    reply.request('meshgate-relay-1', 'sampling/createMessage', { messages: [] });
    reply.end({ jsonrpc: '2.0', id: 1, result: {} });
    expect(response.head?.headers['content-type']).toBe('text/event-stream');
    const sent = events(written).map(([, data]) => JSON.parse(data));
    expect(sent.map((event) => event.method ?? 'answer')).toEqual(['notifications/progress', 'sampling/createMessage', 'answer']);
  });

  it('past the backlog bound a call loses its notifications (said once), its relayed requests are not sent, and the answer still comes', () => {
    const { response, written, asNode } = fakeResponse();
    const overflow = vi.fn();
    const reply = new PostReply(asNode, session(), overflow);
    reply.notify('notifications/message', { level: 'info', data: 'first' });
    response.writableLength = MAX_STREAM_BACKLOG_BYTES + 1;
    for (let i = 0; i < 100; i += 1) reply.notify('notifications/message', { level: 'info', data: 'flood' });
    expect(reply.request('meshgate-relay-1', 'sampling/createMessage', {})).toBe(false);
    expect(overflow).toHaveBeenCalledOnce();
    reply.end({ jsonrpc: '2.0', id: 1, result: {} });
    expect(written).toHaveLength(2);
    expect(written[1]).toContain('"result"');
  });

  it('a cancelled request (no answer) ends an empty event stream', () => {
    const { response, written, asNode } = fakeResponse();
    new PostReply(asNode, session()).end(undefined);
    expect(response.head?.headers['content-type']).toBe('text/event-stream');
    expect(written).toEqual([]);
    expect(response.writableEnded).toBe(true);
  });
});

describe('resumable POST streams', () => {
  it('a 2025-11-25 client gets a priming event (id, empty data, retry) first, then events whose ids name the same stream in order', () => {
    const { written, asNode } = fakeResponse();
    const reply = new PostReply(asNode, session('2025-11-25'));
    reply.notify('notifications/progress', { progressToken: 'p', progress: 1 });
    reply.end({ jsonrpc: '2.0', id: 1, result: {} });
    expect(written[0]).toMatch(/^id: [0-9a-f]{16}\.0\nretry: 1000\ndata: \n\n$/);
    const ids = events(written).map(([id]) => id as string);
    const stream = ids[0]?.split('.')[0];
    expect(ids).toEqual([`${stream}.0`, `${stream}.1`, `${stream}.2`]);
  });

  it('a client cut off mid-call gets the rest and the answer on a new connection that names the last id it saw', () => {
    const first = fakeResponse();
    const owner = session('2025-11-25');
    const reply = new PostReply(first.asNode, owner);
    reply.notify('notifications/progress', { progressToken: 'p', progress: 1 });
    const lastSeen = events(first.written)[1]?.[0] as string;
    first.response.destroyed = true;
    first.response.listeners.get('close')?.();
    reply.notify('notifications/progress', { progressToken: 'p', progress: 2 });
    reply.end({ jsonrpc: '2.0', id: 1, result: { done: true } });
    expect(first.written).toHaveLength(2);

    const found = owner.replay.find(lastSeen);
    expect(found?.stream.holdsAfter(found.seq)).toBe(true);
    const second = fakeResponse();
    if (found === undefined) throw new Error('unreachable');
    connect(found.stream, new StreamConnection(second.asNode, 'drop', () => undefined), found.seq);
    expect(events(second.written).map(([, data]) => JSON.parse(data).params?.progress ?? 'answer')).toEqual([2, 'answer']);
    expect(second.response.writableEnded).toBe(true);
  });
});

describe('SessionStream', () => {
  it('carries notifications as events with ids, and keeps them while no client is connected', () => {
    const replay = new SessionReplay();
    const stream = new SessionStream(replay.open('get'));
    const { response, written, asNode } = fakeResponse();
    const connection = new StreamConnection(asNode, 'destroy', () => undefined);
    connection.open('s1', stream.log.primingId);
    connect(stream.log, connection, 0);
    expect(response.head?.headers['content-type']).toBe('text/event-stream');
    stream.notify('notifications/tools/list_changed', undefined);
    expect(events(written)).toEqual([
      [`${stream.log.id}.0`, ''],
      [`${stream.log.id}.1`, '{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}'],
    ]);
    response.listeners.get('close')?.();
    expect(stream.connected).toBe(false);
    stream.notify('notifications/resources/list_changed', undefined);
    expect(written).toHaveLength(2);
    expect(stream.log.bytes).toBeGreaterThan(0);
  });

  it('a request to a client that is away is not sent, and not kept to be sent later', () => {
    const stream = new SessionStream(new SessionReplay().open('get'));
    expect(stream.request('meshgate-relay-1', 'roots/list', undefined)).toBe(false);
    const { written, asNode } = fakeResponse();
    connect(stream.log, new StreamConnection(asNode, 'destroy', () => undefined), 0);
    expect(written).toEqual([]);
  });

  it('a client that stops reading gets its connection destroyed (its backlog freed) once the backlog passes the bound, and it is said', () => {
    const stream = new SessionStream(new SessionReplay().open('get'));
    const { response, written, asNode } = fakeResponse();
    const overflow = vi.fn();
    connect(stream.log, new StreamConnection(asNode, 'destroy', overflow), 0);
    response.writableLength = MAX_STREAM_BACKLOG_BYTES + 1;
    stream.notify('notifications/message', { level: 'info', data: 'flood' });
    expect(overflow).toHaveBeenCalledOnce();
    expect(response.destroyed).toBe(true);
    expect(written).toEqual([]);
    stream.notify('notifications/message', { level: 'info', data: 'after' });
    expect(written).toEqual([]);
  });
});
