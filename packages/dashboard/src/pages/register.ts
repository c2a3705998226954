import { api } from '../api.js';
import { errorBox, h } from '../dom.js';
import type { Context, Mount } from './context.js';
import type { ServiceView } from './types.js';

const TRANSPORTS = ['auto', 'streamable-http', 'sse'];

/** The credential textarea: empty is "none given" (registration) or "unchanged" (update); else JSON like {"bearer": "…"}. */
function credentialOf(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, message: 'credential must be JSON, e.g. {"bearer": "the-token"} or {"headers": {"X-Api-Key": "…"}}' };
  }
}

/**
 * Registers a URL service (`POST /register`), or with `existing` updates one (`PUT
 * /services/{name}`). Admin only: the client role never sees the page's link, and the API
 * refuses its changes anyway. Command services are registered through the API or the CLI.
 */
export async function registerPage(context: Context, mount: Mount, existing?: string): Promise<void> {
  if (!context.admin) {
    mount(h('p', { class: 'error', role: 'alert' }, 'Registering and updating services needs a token with the admin role.'));
    return;
  }
  const current = existing === undefined ? undefined : await api<ServiceView>('GET', `/services/${encodeURIComponent(existing)}`);
  const name = h('input', {
    id: 'name',
    name: 'name',
    required: true,
    pattern: '[a-z0-9][a-z0-9\\-]{0,62}',
    value: current?.name ?? '',
    disabled: current !== undefined,
  });
  const url = h('input', {
    id: 'url',
    name: 'url',
    type: 'url',
    required: current === undefined,
    placeholder: 'http://host:3000/mcp',
    value: current?.url ?? '',
  });
  const transport = h(
    'select',
    { id: 'transport', name: 'transport' },
    h('option', { value: '' }, current === undefined ? '(default: auto)' : '(unchanged)'),
    ...TRANSPORTS.map((value) => h('option', { value }, value)),
  );
  const credential = h('textarea', { id: 'credential', name: 'credential', rows: '3', placeholder: '{"bearer": "the-service-token"}' });
  const message = h('div', { 'data-testid': 'form-message' });
  const form = h(
    'form',
    { class: 'register', 'data-testid': 'register-form' },
    h('h2', {}, current === undefined ? 'Register a service' : `Update ${current.name}`),
    h('div', { class: 'field' }, h('label', { for: 'name' }, 'Name'), name),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'url' }, 'MCP URL'),
      url,
      h('small', {}, 'A base URL gets /mcp appended; a URL with a path is the endpoint itself.'),
    ),
    h('div', { class: 'field' }, h('label', { for: 'transport' }, 'Transport'), transport),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'credential' }, 'Credential (JSON)'),
      credential,
      h('small', {}, current === undefined ? 'None by default: the gateway lends no token unless one is given.' : 'Empty: unchanged.'),
    ),
    h('button', { type: 'submit', 'data-testid': 'submit' }, current === undefined ? 'Register' : 'Update'),
    message,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const secret = credentialOf(credential.value);
    if (!secret.ok) return message.replaceChildren(errorBox(secret.message));
    const body: Record<string, unknown> = {
      ...(current === undefined ? { name: name.value } : {}),
      ...(url.value === '' ? {} : { url: url.value }),
      ...(transport.value === '' ? {} : { transport: transport.value }),
      ...(secret.value === undefined ? {} : { credential: secret.value }),
    };
    try {
      const saved =
        current === undefined
          ? await api<ServiceView>('POST', '/register', body)
          : await api<ServiceView>('PUT', `/services/${encodeURIComponent(current.name)}`, body);
      location.hash = `#/services/${encodeURIComponent(saved.name)}`;
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  });
  mount(h('section', {}, h('p', {}, h('a', { href: '#/' }, '← Services')), form));
}
