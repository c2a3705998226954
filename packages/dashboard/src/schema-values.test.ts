import { describe, expect, it } from 'vitest';
import { argumentsOf, fieldsOf, kindOf } from './schema-values.js';

describe('the try-a-tool form model', () => {
  it.each([
    [{ type: 'string' }, 'string'],
    [{ type: 'number' }, 'number'],
    [{ type: 'integer' }, 'integer'],
    [{ type: 'boolean' }, 'boolean'],
    [{ type: ['string', 'null'] }, 'string'],
    [{ type: 'string', enum: ['a', 'b'] }, 'enum'],
    [{ type: 'object', properties: {} }, 'json'],
    [{ type: 'array', items: { type: 'string' } }, 'json'],
    [{}, 'json'],
  ] as const)('%j is edited as %s', (schema, kind) => {
    expect(kindOf(schema as never)).toBe(kind);
  });

  const fields = fieldsOf({
    type: 'object',
    properties: {
      id: { type: 'string' },
      count: { type: 'integer', default: 2 },
      ratio: { type: 'number' },
      active: { type: 'boolean' },
      colour: { enum: ['red', 'blue'] },
      filter: { type: 'object' },
    },
    required: ['id'],
  });

  it('keeps the order, the required flags and the defaults', () => {
    expect(fields.map((field) => [field.name, field.kind, field.required, field.initial])).toEqual([
      ['id', 'string', true, ''],
      ['count', 'integer', false, '2'],
      ['ratio', 'number', false, ''],
      ['active', 'boolean', false, false],
      ['colour', 'enum', false, ''],
      ['filter', 'json', false, ''],
    ]);
  });

  it('turns the typed text into typed arguments and leaves empty optional fields out', () => {
    expect(argumentsOf(fields, { id: '123', count: '3', ratio: '0.5', active: true, colour: '"blue"', filter: '{"a":[1]}' })).toEqual({
      ok: true,
      value: { id: '123', count: 3, ratio: 0.5, active: true, colour: 'blue', filter: { a: [1] } },
    });
    expect(argumentsOf(fields, { id: 'x', count: '', ratio: '', active: false, colour: '', filter: '' })).toEqual({
      ok: true,
      value: { id: 'x', active: false },
    });
  });

  it('names the field that is wrong', () => {
    expect(argumentsOf(fields, { id: '' })).toEqual({ ok: false, message: 'id is required' });
    expect(argumentsOf(fields, { id: 'x', count: '1.5' })).toEqual({ ok: false, message: 'count must be an integer' });
    expect(argumentsOf(fields, { id: 'x', ratio: 'abc' })).toEqual({ ok: false, message: 'ratio must be a number' });
    expect(argumentsOf(fields, { id: 'x', filter: '{' })).toEqual({ ok: false, message: 'filter must be valid JSON' });
  });
});
