import { rpc } from './api.js';
import { errorBox, h, pre, replace } from './dom.js';
import type { ToolDefinition } from './pages/types.js';
import { argumentsOf, type Field, fieldsOf } from './schema-values.js';

interface CallResult {
  content?: { type: string; text?: string }[];
  structuredContent?: unknown;
  isError?: boolean;
}

function inputFor(field: Field): HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement {
  const id = `arg-${field.name}`;
  const common = { id, name: field.name, 'data-testid': id, required: field.required && field.kind !== 'boolean' };
  switch (field.kind) {
    case 'boolean': {
      const input = h('input', { ...common, type: 'checkbox' });
      input.checked = field.initial === true;
      return input;
    }
    case 'enum':
      return h(
        'select',
        common,
        field.required ? null : h('option', { value: '' }, '(none)'),
        ...field.options.map((option) => {
          const value = JSON.stringify(option);
          return h('option', { value, selected: value === field.initial }, String(option));
        }),
      );
    case 'json':
      return h('textarea', { ...common, rows: '4', placeholder: 'JSON' }, String(field.initial));
    default:
      return h('input', {
        ...common,
        type: field.kind === 'string' ? 'text' : 'number',
        step: field.kind === 'integer' ? '1' : field.kind === 'number' ? 'any' : undefined,
        value: String(field.initial),
      });
  }
}

/** A form generated from the tool's input schema; the call goes through `/mcp` with the token, and the result shows with its structuredContent. */
export function tryToolForm(tool: ToolDefinition): HTMLElement {
  const fields = fieldsOf(tool.inputSchema);
  const inputs = new Map(fields.map((field) => [field.name, inputFor(field)]));
  const output = h('div', { 'data-testid': 'result' });
  const form = h(
    'form',
    { class: 'try', 'data-testid': 'try-form' },
    h('h3', {}, 'Try ', h('code', {}, tool.name)),
    ...fields.map((field) =>
      h(
        'div',
        { class: 'field' },
        h('label', { for: `arg-${field.name}` }, field.name, field.required ? ' *' : '', ` (${field.kind === 'json' ? 'JSON' : field.kind})`),
        inputs.get(field.name)!,
        field.description === undefined ? null : h('small', {}, field.description),
      ),
    ),
    fields.length === 0 ? h('p', { class: 'hint' }, 'This tool takes no arguments.') : null,
    h('button', { type: 'submit', 'data-testid': 'call' }, 'Call'),
    output,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const raw: Record<string, string | boolean> = {};
    for (const [name, input] of inputs) raw[name] = input instanceof HTMLInputElement && input.type === 'checkbox' ? input.checked : input.value;
    const parsed = argumentsOf(fields, raw);
    if (!parsed.ok) return output.replaceChildren(errorBox(parsed.message));
    output.replaceChildren(h('p', { class: 'hint' }, 'Calling…'));
    try {
      const result = await rpc<CallResult>('tools/call', { name: tool.name, arguments: parsed.value });
      replace(
        output,
        h('h4', {}, result.isError === true ? 'Tool error' : 'Result'),
        ...(result.content ?? []).map((item) => (item.type === 'text' ? pre(item.text ?? '') : pre(item))),
        result.structuredContent === undefined ? null : h('h4', {}, 'structuredContent'),
        result.structuredContent === undefined ? null : h('div', { 'data-testid': 'structured' }, pre(result.structuredContent)),
      );
    } catch (error) {
      output.replaceChildren(errorBox(error));
    }
  });
  return form;
}
