import { describe, expect, it } from 'vitest';
import { coerceValue, type InputSchema, parseToolArguments, typesOf } from './args.js';
import { CliError, EXIT } from './errors.js';

const schema: InputSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    count: { type: 'integer' },
    price: { type: 'number' },
    active: { type: 'boolean' },
    filter: { type: 'object' },
    tags: { type: 'array' },
    note: { type: ['string', 'null'] },
    mode: { enum: ['fast', 'slow'] },
    size: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
    free: {},
  },
  required: ['id'],
  additionalProperties: false,
};

function usage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.usage);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('parseToolArguments', () => {
  it.each([
    ['a string stays a string even when it is digits', ['id=123'], { id: '123' }],
    ['an integer', ['id=1', 'count=42'], { id: '1', count: 42 }],
    ['a negative integer', ['id=1', 'count=-3'], { id: '1', count: -3 }],
    ['a number', ['id=1', 'price=19.99'], { id: '1', price: 19.99 }],
    ['booleans', ['id=1', 'active=false'], { id: '1', active: false }],
    ['an object as JSON', ['id=1', 'filter={"a":1}'], { id: '1', filter: { a: 1 } }],
    ['an array as JSON', ['id=1', 'tags=["x","y"]'], { id: '1', tags: ['x', 'y'] }],
    ['null where the schema allows it', ['id=1', 'note=null'], { id: '1', note: null }],
    ['a string where null is also allowed', ['id=1', 'note=hello'], { id: '1', note: 'hello' }],
    ['an enum value', ['id=1', 'mode=fast'], { id: '1', mode: 'fast' }],
    ['anyOf tries the integer before the string', ['id=1', 'size=10'], { id: '1', size: 10 }],
    ['anyOf falls back to the string', ['id=1', 'size=large'], { id: '1', size: 'large' }],
    ['an untyped property keeps the text', ['id=1', 'free=12'], { id: '1', free: '12' }],
    ['only the first = splits', ['id=a=b'], { id: 'a=b' }],
    ['an empty value is an empty string', ['id='], { id: '' }],
    ['one JSON object is the whole arguments, untouched', ['{"id": 7, "count": "x"}'], { id: 7, count: 'x' }],
  ] as const)('%s', (_what, inputs, expected) => {
    expect(parseToolArguments(inputs, schema)).toEqual(expected);
  });

  it.each([
    ['a mistyped integer', ['id=1', 'count=many'], 'count must be integer, got "many"'],
    ['a fractional integer', ['id=1', 'count=1.5'], 'count must be integer'],
    ['a mistyped boolean', ['id=1', 'active=yes'], 'active must be boolean'],
    ['an object that is not JSON', ['id=1', 'filter={a}'], 'filter must be object (as JSON)'],
    ['an array given where an object is wanted', ['id=1', 'filter=[1]'], 'filter must be object (as JSON)'],
    ['an argument the tool does not have', ['id=1', 'colour=red'], 'the tool has no argument colour; it takes id [count]'],
    ['a missing required argument', ['count=1'], 'missing id=…'],
    ['no = at all', ['123'], '"123" is not key=value'],
    ['the same key twice', ['id=1', 'id=2'], 'id is given twice'],
    ['JSON that does not parse', ['{"id": '], 'do not parse'],
    ['JSON that is not an object', ['{"id": 1}', 'x=1'], 'is not key=value'],
  ] as const)('refuses %s as a usage error', (_what, inputs, message) => {
    expect(usage(() => parseToolArguments(inputs, schema))).toContain(message);
  });

  it('keeps __proto__ as plain data, never as a prototype change', () => {
    const args = parseToolArguments(['__proto__=x'], { type: 'object', properties: {} });
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
    expect(Object.hasOwn(args, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('takes any key when the schema allows extra properties, as text', () => {
    expect(parseToolArguments(['anything=5'], { type: 'object' })).toEqual({ anything: '5' });
  });
});

describe('typesOf', () => {
  it('orders the candidates so that text is tried last', () => {
    expect(typesOf({ type: ['string', 'integer', 'boolean'] })).toEqual(['integer', 'boolean', 'string']);
    expect(typesOf({ oneOf: [{ type: 'string' }, { type: 'array' }] })).toEqual(['array', 'string']);
    expect(typesOf({ const: 3 })).toEqual(['integer']);
    expect(typesOf(undefined)).toEqual([]);
  });

  it('a number schema takes exponent and integer forms but not empty text', () => {
    expect(coerceValue('x', '1e3', { type: 'number' })).toBe(1000);
    expect(coerceValue('x', '7', { type: 'number' })).toBe(7);
    expect(usage(() => coerceValue('x', ' ', { type: 'number' }))).toContain('x must be number');
  });
});
