import type { ServerResponse } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { MAX_STREAM_BACKLOG_BYTES, PostReply, SessionStream } from './reply.js';

/** Just enough of a ServerResponse to see what a reply writes. */
function fakeResponse() {
  const written: string[] = [];
  const response = {
    headersSent: false,
    writableEnded: false,
    destroyed: false,
    writableLength: 0,
    head: undefined as { status: number; headers: Record<string, unknown> } | undefined,
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
    new PostReply(asNode, 's1').end({ jsonrpc: '2.0', id: 1, result: {} });
    expect(response.head).toMatchObject({ status: 200, headers: { 'content-type': 'application/json', 'mcp-session-id': 's1' } });
    expect(JSON.parse(written.join(''))).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
  });

  it('switches to an event stream at the first message before the answer, and ends with the answer as an event', () => {
    const { response, written, asNode } = fakeResponse();
    const reply = new PostReply(asNode, 's1');
    reply.notify('notifications/progress', { progressToken: 'p', progress: 1 });
    reply.request('meshgate-relay-1', 'sampling/createMessage', { messages: [] });
    reply.end({ jsonrpc: '2.0', id: 1, result: {} });
    expect(response.head?.headers['content-type']).toBe('text/event-stream');
    const events = written.map((chunk) => JSON.parse(chunk.replace(/^event: message\ndata: /, '').trim()));
    expect(events.map((event) => event.method ?? 'answer')).toEqual(['notifications/progress', 'sampling/createMessage', 'answer']);
  });

  it('past the backlog bound a call loses its notifications (said once), its relayed requests are not sent, and the answer still comes', () => {
    const { response, written, asNode } = fakeResponse();
    const overflow = vi.fn();
    const reply = new PostReply(asNode, 's1', overflow);
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
    new PostReply(asNode, 's1').end(undefined);
    expect(response.head?.headers['content-type']).toBe('text/event-stream');
    expect(written).toEqual([]);
    expect(response.writableEnded).toBe(true);
  });
});

describe('SessionStream', () => {
  it('opens at once and carries notifications as events', () => {
    const { response, written, asNode } = fakeResponse();
    const stream = new SessionStream(asNode, 's1', () => undefined);
    expect(response.head?.headers['content-type']).toBe('text/event-stream');
    stream.notify('notifications/tools/list_changed', undefined);
    expect(written).toEqual(['event: message\ndata: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}\n\n']);
  });

  it('a client that stops reading gets its stream destroyed (its backlog freed) once the backlog passes the bound, and it is said', () => {
    const { response, written, asNode } = fakeResponse();
    const overflow = vi.fn();
    const stream = new SessionStream(asNode, 's1', overflow);
    response.writableLength = MAX_STREAM_BACKLOG_BYTES + 1;
    stream.notify('notifications/message', { level: 'info', data: 'flood' });
    expect(overflow).toHaveBeenCalledOnce();
    expect(response.destroyed).toBe(true);
    expect(written).toEqual([]);
    stream.notify('notifications/message', { level: 'info', data: 'after' });
    expect(written).toEqual([]);
  });
});
