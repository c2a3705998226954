import { ApiError, storedToken, storeToken, whoami } from './api.js';
import { errorBox, h } from './dom.js';
import { auditPage } from './pages/audit.js';
import type { Context } from './pages/context.js';
import { overviewPage } from './pages/overview.js';
import { registerPage } from './pages/register.js';
import { servicePage } from './pages/service.js';
import { sessionsPage } from './pages/sessions.js';
import './style.css';

const app = document.getElementById('app')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;
let stopPage: (() => void) | undefined;

/** The routes: `#/`, `#/services/<name>`, `#/register`, `#/services/<name>/edit`, `#/sessions`, `#/audit`. */
async function route(context: Context): Promise<void> {
  stopPage?.();
  stopPage = undefined;
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  app.replaceChildren();
  const mount = (node: Node) => app.replaceChildren(node);
  try {
    if (parts.length === 0) stopPage = await overviewPage(context, mount);
    else if (parts[0] === 'services' && parts[1] !== undefined && parts[2] === 'edit') await registerPage(context, mount, parts[1]);
    else if (parts[0] === 'services' && parts[1] !== undefined) await servicePage(context, mount, parts[1], new URLSearchParams(query).get('tool'));
    else if (parts[0] === 'register') await registerPage(context, mount);
    else if (parts[0] === 'sessions') await sessionsPage(context, mount);
    else if (parts[0] === 'audit') await auditPage(context, mount);
    else mount(h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Back to the services')));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut('The gateway refused the token: sign in again.');
    mount(errorBox(error));
  }
}

function signOut(message?: string): void {
  storeToken(null);
  stopPage?.();
  stopPage = undefined;
  nav.hidden = true;
  showLogin(message);
}

function showLogin(message?: string): void {
  const input = h('input', { type: 'password', name: 'token', id: 'token', autocomplete: 'off', required: true });
  const form = h(
    'form',
    { class: 'login', 'data-testid': 'login' },
    h('h2', {}, 'Sign in'),
    h('p', {}, 'A gateway token (admin or client role). It stays in this tab (sessionStorage) and is sent as a Bearer.'),
    h('label', { for: 'token' }, 'Token'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    message === undefined ? null : h('p', { class: 'error', role: 'alert' }, message),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    storeToken(input.value);
    void start();
  });
  app.replaceChildren(form);
  input.focus();
}

async function start(): Promise<void> {
  if (storedToken() === null) return showLogin();
  let caller: { identity: string; roles: string[] };
  try {
    caller = await whoami();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut('The gateway refused the token.');
    app.replaceChildren(errorBox(error));
    return;
  }
  const context: Context = { admin: caller.roles.includes('admin') };
  document.body.dataset['role'] = context.admin ? 'admin' : 'client';
  who.textContent = `${caller.identity} (${caller.roles.join(', ')})`;
  for (const link of nav.querySelectorAll<HTMLElement>('[data-admin]')) link.hidden = !context.admin;
  nav.hidden = false;
  window.onhashchange = () => void route(context);
  await route(context);
}

document.getElementById('logout')!.addEventListener('click', () => signOut());
void start();
