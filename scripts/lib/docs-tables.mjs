// The docs' generated tables: how each is rendered from the code, and where it goes.
// Pure functions, shared by `npm run docs:tables` (which writes) and test/docs.test.ts
// (which only reads and compares).

/** One Markdown table cell: a `|` would end the cell, a line break the row. */
function cell(text) {
  return String(text).replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function table(header, rows) {
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The configuration table: every variable of ENV_VARS, in its order, with default and meaning. */
export function envVarTable(envVars) {
  return table(
    ['Variable', 'Default', 'Meaning'],
    Object.entries(envVars).map(([name, { default: value, description }]) => [`\`${name}\``, value, description]),
  );
}

/** The error catalogue: every code of GATEWAY_ERRORS with its HTTP status and JSON-RPC code. */
export function errorTable(errors) {
  return table(
    ['Code', 'HTTP', 'JSON-RPC', 'When'],
    Object.entries(errors).map(([code, { status, rpc, summary }]) => [`\`${code}\``, status, rpc, summary]),
  );
}

/** Each generated section: its marker name, the file (from the repository root) and its table. */
export const GENERATED_SECTIONS = [
  { name: 'env-vars', file: 'docs/configuration.md', render: (gateway) => envVarTable(gateway.ENV_VARS) },
  { name: 'errors', file: 'docs/errors.md', render: (gateway) => errorTable(gateway.GATEWAY_ERRORS) },
];

const markers = (name) => ({ open: `<!-- generated:${name} -->`, close: `<!-- /generated:${name} -->` });

/**
 * The text between a section's markers, without the blank lines around it; a result,
 * since a missing or doubled marker is a docs mistake to report, not to guess around.
 */
export function readSection(text, name) {
  const { open, close } = markers(name);
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < 0 || end < start || text.indexOf(open, start + 1) >= 0 || text.indexOf(close, end + 1) >= 0) {
    return { ok: false, message: `expected one ${open} … ${close} pair` };
  }
  return { ok: true, value: text.slice(start + open.length, end).trim(), start: start + open.length, end };
}

/** The text with a section's body replaced by `body`, markers kept. */
export function replaceSection(text, name, body) {
  const section = readSection(text, name);
  if (!section.ok) return section;
  return { ok: true, value: `${text.slice(0, section.start)}\n\n${body}\n\n${text.slice(section.end)}` };
}
