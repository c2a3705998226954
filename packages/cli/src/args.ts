/**
 * Tool arguments from the command line, typed by the tool's input schema: `id=123` is the
 * string "123" when the schema says string and the number 123 when it says number or
 * integer; `flag=true` a boolean; objects and arrays are JSON. One JSON object is taken
 * as the whole arguments. Pure, so table tests pin every rule.
 */
import { usageError } from './errors.js';

/** The parts of a JSON Schema the typing looks at. */
export interface PropertySchema {
  type?: string | string[];
  anyOf?: PropertySchema[];
  oneOf?: PropertySchema[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
}

export interface InputSchema {
  type?: string;
  properties?: Record<string, PropertySchema>;
  required?: string[];
  additionalProperties?: unknown;
}

/** The JSON types a property may take, in the order a value is tried: anything but string first, string last. */
export function typesOf(schema: PropertySchema | undefined): string[] {
  if (schema === undefined) return [];
  const found = new Set<string>();
  const add = (type: unknown) => {
    if (typeof type === 'string') found.add(type);
  };
  if (Array.isArray(schema.type)) schema.type.forEach(add);
  else add(schema.type);
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) for (const type of typesOf(branch)) found.add(type);
  for (const value of [...(schema.enum ?? []), ...('const' in schema ? [schema.const] : [])]) add(jsonType(value));
  const order = ['integer', 'number', 'boolean', 'null', 'object', 'array', 'string'];
  return [...found].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

type Coerced = { ok: true; value: unknown } | { ok: false };
const NO: Coerced = { ok: false };

function coerceAs(type: string, raw: string): Coerced {
  switch (type) {
    case 'string':
      return { ok: true, value: raw };
    case 'integer':
      return /^-?\d+$/.test(raw.trim()) && Number.isSafeInteger(Number(raw)) ? { ok: true, value: Number(raw) } : NO;
    case 'number': {
      const value = Number(raw);
      return raw.trim() !== '' && Number.isFinite(value) ? { ok: true, value } : NO;
    }
    case 'boolean':
      return raw === 'true' ? { ok: true, value: true } : raw === 'false' ? { ok: true, value: false } : NO;
    case 'null':
      return raw === 'null' ? { ok: true, value: null } : NO;
    case 'object':
    case 'array': {
      try {
        const value: unknown = JSON.parse(raw);
        return jsonType(value) === type ? { ok: true, value } : NO;
      } catch {
        return NO;
      }
    }
    default:
      return NO;
  }
}

/**
 * One `key=value`'s value, typed by the property's schema. A property the schema does not
 * type (or does not name) keeps the text: the tool's own validation has the last word.
 */
export function coerceValue(key: string, raw: string, schema: PropertySchema | undefined): unknown {
  const types = typesOf(schema);
  if (types.length === 0) return raw;
  for (const type of types) {
    const coerced = coerceAs(type, raw);
    if (coerced.ok) return coerced.value;
  }
  const wanted = types.map((type) => (type === 'object' || type === 'array' ? `${type} (as JSON)` : type)).join(' or ');
  throw usageError(`${key} must be ${wanted}, got ${JSON.stringify(raw)}`);
}

/**
 * The arguments of `meshgate call <tool> …`: either one JSON object, or `key=value` pairs
 * typed by `schema`. Names the schema does not know are refused when it forbids extra
 * properties; missing required ones are refused with the list of what the tool takes.
 */
export function parseToolArguments(inputs: readonly string[], schema: InputSchema | undefined): Record<string, unknown> {
  const properties = schema?.properties ?? {};
  const takes = () => {
    const names = Object.keys(properties).map((name) => (schema?.required?.includes(name) ? name : `[${name}]`));
    return names.length === 0 ? 'it takes no arguments' : `it takes ${names.join(' ')}`;
  };
  let args: Record<string, unknown>;
  if (inputs.length === 1 && inputs[0]!.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(inputs[0]!);
    } catch {
      throw usageError('the arguments look like JSON but do not parse; give one JSON object, or key=value pairs');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError('the JSON arguments must be one object');
    args = parsed as Record<string, unknown>;
  } else {
    args = {};
    for (const input of inputs) {
      const at = input.indexOf('=');
      if (at <= 0) throw usageError(`${JSON.stringify(input)} is not key=value (or one JSON object); ${takes()}`);
      const key = input.slice(0, at);
      if (Object.hasOwn(args, key)) throw usageError(`${key} is given twice`);
      if (!Object.hasOwn(properties, key) && schema?.additionalProperties === false) throw usageError(`the tool has no argument ${key}; ${takes()}`);
      // defineProperty: a key such as __proto__ is plain data, never a prototype change.
      Object.defineProperty(args, key, {
        value: coerceValue(key, input.slice(at + 1), Object.hasOwn(properties, key) ? properties[key] : undefined),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  const missing = (schema?.required ?? []).filter((name) => !Object.hasOwn(args, name));
  if (missing.length > 0) throw usageError(`missing ${missing.map((name) => `${name}=…`).join(' ')}; ${takes()}`);
  return args;
}
