import { describe, expect, it } from 'vitest';
import { negotiate } from './initialize.js';

describe('negotiate', () => {
  const base = { protocolVersion: '2025-11-25', capabilities: {} };

  it("keeps the client's name and version for GET /sessions", () => {
    expect(negotiate({ ...base, clientInfo: { name: 'Claude Desktop', version: '1.2.3', extra: 'x' } }, {}).clientInfo).toEqual({
      name: 'Claude Desktop',
      version: '1.2.3',
    });
  });

  it('keeps only strings, cut to 200 characters, and nothing when clientInfo is missing or not an object', () => {
    expect(negotiate({ ...base, clientInfo: { name: 'n'.repeat(500), version: 7 } }, {}).clientInfo).toEqual({ name: 'n'.repeat(200) });
    expect(negotiate(base, {}).clientInfo).toEqual({});
    expect(negotiate({ ...base, clientInfo: 'me' }, {}).clientInfo).toEqual({});
  });
});
