import type { z } from 'zod';

/**
 * One environment variable, defined once: how it is parsed (its zod type, default
 * included) and how it is documented. The env schema and ENV_VARS, and through ENV_VARS
 * the table in docs/configuration.md, are all derived from these definitions.
 */
export interface Setting<S extends z.ZodType = z.ZodType> {
  /** Parses the variable's text; unset comes in as undefined. */
  readonly schema: S;
  /** The default as the docs show it: the schema's default value, or what unset means. */
  readonly default: string;
  /** What the variable does, in Markdown (one table cell). */
  readonly description: string;
}

/** What the docs show for one variable. */
export interface SettingDoc {
  readonly default: string;
  readonly description: string;
}

/**
 * A variable with a default value. The value is what the schema falls back to and, as
 * text, what the docs show, so the two cannot differ; `note` adds a word on it ("off").
 */
export function withDefault<T extends z.ZodType>(
  type: T,
  value: Exclude<z.output<T>, undefined>,
  description: string,
  note?: string,
): Setting<z.ZodDefault<T>> {
  const shown = String(value);
  // `default()` takes the output type of `this`, which TypeScript cannot relate to T's.
  const schema = (type as unknown as { default(value: unknown): z.ZodDefault<T> }).default(value);
  return { schema, default: note === undefined ? shown : `${shown} (${note})`, description };
}

/** A variable that may stay unset; `whenUnset` says what happens then, e.g. `(none: JWTs off)`. */
export function optional<T extends z.ZodType>(type: T, whenUnset: string, description: string): Setting<z.ZodOptional<T>> {
  return { schema: type.optional() as z.ZodOptional<T>, default: whenUnset, description };
}

/** The schema shape of a group of settings, for `z.object`. */
export type ShapeOf<S extends Record<string, Setting>> = { [K in keyof S]: S[K]['schema'] };

export function shapeOf<S extends Record<string, Setting>>(settings: S): ShapeOf<S> {
  return Object.fromEntries(Object.entries(settings).map(([name, setting]) => [name, setting.schema])) as ShapeOf<S>;
}

/** The documentation of a group of settings: name -> default and description. */
export function docsOf<S extends Record<string, Setting>>(settings: S): { readonly [K in keyof S]: SettingDoc } {
  return Object.fromEntries(Object.entries(settings).map(([name, setting]) => [name, { default: setting.default, description: setting.description }])) as {
    [K in keyof S]: SettingDoc;
  };
}
