/**
 * The "try a tool" form's model, pure (no DOM): which input each property of a tool's
 * input schema gets, and how the typed text becomes the call's arguments.
 */

/** The part of a JSON Schema the form understands; anything else is edited as JSON. */
export interface PropertySchema {
  type?: string | string[];
  enum?: unknown[];
  description?: string;
  default?: unknown;
  [key: string]: unknown;
}

export interface ObjectSchema {
  type?: string;
  properties?: Record<string, PropertySchema>;
  required?: string[];
}

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

export interface Field {
  name: string;
  kind: FieldKind;
  required: boolean;
  description: string | undefined;
  /** The choices of an enum, as they are sent. */
  options: unknown[];
  /** What the input starts with (the schema's default, else empty). */
  initial: string | boolean;
}

function typeOf(schema: PropertySchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((type) => type !== 'null');
  return schema.type;
}

export function kindOf(schema: PropertySchema): FieldKind {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return 'enum';
  const type = typeOf(schema);
  if (type === 'string' || type === 'number' || type === 'integer' || type === 'boolean') return type;
  return 'json';
}

/** The form's fields, in the schema's order. */
export function fieldsOf(schema: ObjectSchema | undefined): Field[] {
  const required = new Set(schema?.required ?? []);
  return Object.entries(schema?.properties ?? {}).map(([name, property]) => {
    const kind = kindOf(property);
    const fallback = kind === 'boolean' ? false : '';
    const initial =
      property.default === undefined
        ? fallback
        : kind === 'boolean'
          ? property.default === true
          : kind === 'json'
            ? JSON.stringify(property.default, null, 2)
            : kind === 'enum'
              ? JSON.stringify(property.default)
              : String(property.default);
    return {
      name,
      kind,
      required: required.has(name),
      description: property.description,
      options: property.enum ?? [],
      initial,
    };
  });
}

export type Parsed = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

/**
 * The arguments from the inputs' raw values (text, or checked for a boolean). An empty
 * optional field is left out; an empty required one, a non-number or invalid JSON is an
 * error naming the field. Enum values arrive as the JSON of the chosen option.
 */
export function argumentsOf(fields: readonly Field[], raw: Record<string, string | boolean>): Parsed {
  const value: Record<string, unknown> = {};
  for (const field of fields) {
    const input = raw[field.name];
    if (field.kind === 'boolean') {
      value[field.name] = input === true;
      continue;
    }
    const text = typeof input === 'string' ? input : '';
    if (text.trim() === '') {
      if (field.required) return { ok: false, message: `${field.name} is required` };
      continue;
    }
    switch (field.kind) {
      case 'string':
        value[field.name] = text;
        break;
      case 'number':
      case 'integer': {
        const number = Number(text);
        if (!Number.isFinite(number)) return { ok: false, message: `${field.name} must be a number` };
        if (field.kind === 'integer' && !Number.isInteger(number)) return { ok: false, message: `${field.name} must be an integer` };
        value[field.name] = number;
        break;
      }
      case 'enum':
      case 'json':
        try {
          value[field.name] = JSON.parse(text);
        } catch {
          return { ok: false, message: `${field.name} must be valid JSON` };
        }
        break;
    }
  }
  return { ok: true, value };
}
