/**
 * Building the page without innerHTML: every value the gateway returns (names, errors,
 * tool results) is set as text, so nothing it says can become markup or script.
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | boolean | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(key.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(key, '');
    else element.setAttribute(key, value);
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** A table with a header row; `rows` are cells. */
export function table(columns: string[], rows: Child[][], testId?: string): HTMLTableElement {
  return h(
    'table',
    { 'data-testid': testId },
    h('thead', {}, h('tr', {}, ...columns.map((column) => h('th', {}, column)))),
    h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((cell) => h('td', {}, cell))))),
  );
}

/** A status badge: its class is the status, so the stylesheet colours it. */
export function badge(text: string): HTMLSpanElement {
  return h('span', { class: `badge badge-${text.replace(/[^a-z-]/g, '')}` }, text);
}

export function errorBox(error: unknown): HTMLParagraphElement {
  return h('p', { class: 'error', role: 'alert' }, error instanceof Error ? error.message : String(error));
}

export function pre(value: unknown): HTMLPreElement {
  return h('pre', {}, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

/** replaceChildren that skips the empty children (null, undefined, false) `h` skips too. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}
