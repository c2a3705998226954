import { api, rpc } from '../api.js';
import { badge, errorBox, h, pre, table } from '../dom.js';
import { tryToolForm } from '../try-tool.js';
import type { Context, Mount } from './context.js';
import type { HeldChange, ServiceView, SurfaceView, ToolDefinition } from './types.js';

/** Every tool the token may call, across pages of `tools/list`. */
async function allTools(): Promise<ToolDefinition[]> {
  const tools: ToolDefinition[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const result = await rpc<{ tools: ToolDefinition[]; nextCursor?: string }>('tools/list', cursor === undefined ? {} : { cursor });
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (cursor === undefined) break;
  }
  return tools;
}

/** One service: its tools (with input schemas, and a form to try each), prompts, resources, clashes and rejected items. */
export async function servicePage(context: Context, mount: Mount, name: string, toolToTry: string | null): Promise<void> {
  const [service, tools] = await Promise.all([api<ServiceView>('GET', `/services/${encodeURIComponent(name)}`), allTools()]);
  const own = new Set(service.tools.map((tool) => tool.name));
  const definitions = tools.filter((tool) => own.has(tool.name));
  const trySlot = h('div', { id: 'try' });
  const showTry = (tool: ToolDefinition) => {
    trySlot.replaceChildren(tryToolForm(tool));
    history.replaceState(null, '', `#/services/${encodeURIComponent(name)}?tool=${encodeURIComponent(tool.name)}`);
    trySlot.scrollIntoView();
  };

  const toolRows = definitions.map((tool) => [
    h('code', {}, tool.name),
    tool.description ?? '',
    h('details', {}, h('summary', {}, 'input schema'), pre(tool.inputSchema ?? {})),
    h('button', { type: 'button', 'data-testid': `try-${tool.name}`, onclick: () => showTry(tool) }, 'Try'),
  ]);
  const names = (list: { name: string; upstreamName?: string }[]) =>
    list.length === 0 ? h('p', { class: 'hint' }, 'None.') : h('ul', {}, ...list.map((item) => h('li', {}, h('code', {}, item.name))));

  const actions = context.admin
    ? h(
        'p',
        { class: 'actions' },
        h('a', { class: 'button', href: `#/services/${encodeURIComponent(name)}/edit`, 'data-testid': 'edit' }, 'Update'),
        deregisterButton(name, mount),
      )
    : null;

  mount(
    h(
      'section',
      {},
      h('p', {}, h('a', { href: '#/' }, '← Services')),
      h('h2', {}, service.name, ' ', badge(service.status)),
      h(
        'dl',
        { class: 'facts' },
        ...fact('Where', service.url ?? (service.command === undefined ? undefined : [service.command.command, ...service.command.args].join(' '))),
        ...fact('Source', service.source),
        ...fact('Circuit', service.circuit),
        ...fact('Last error', service.lastError ?? undefined),
        ...fact('Last seen', service.lastSeenAt ?? undefined),
      ),
      actions,
      h('h3', {}, `Tools (${definitions.length})`),
      definitions.length === 0 ? h('p', { class: 'hint' }, 'None.') : table(['Name', 'Description', 'Input', ''], toolRows, 'tools'),
      trySlot,
      h('h3', {}, 'Prompts'),
      names(service.prompts),
      h('h3', {}, 'Resources'),
      names([...service.resources, ...service.resourceTemplates]),
      service.clashes === undefined ? null : h('h3', {}, 'Clashes'),
      service.clashes === undefined ? null : service.clashes.length === 0 ? h('p', { class: 'hint' }, 'None.') : pre(service.clashes),
      service.rejected === undefined ? null : h('h3', {}, 'Rejected items'),
      service.rejected === undefined ? null : service.rejected.length === 0 ? h('p', { class: 'hint' }, 'None.') : pre(service.rejected),
      ...(service.surface === undefined ? [] : surfaceSections(context, mount, name, service.surface)),
    ),
  );
  const wanted = definitions.find((tool) => tool.name === toolToTry);
  if (wanted !== undefined) showTry(wanted);
}

/** Held changes of pinned tools (admin: approve each, with the digest shown), flagged descriptions, overrides that did not apply. */
function surfaceSections(context: Context, mount: Mount, name: string, surface: SurfaceView): (Node | null)[] {
  const approve = (change: HeldChange) =>
    h(
      'button',
      {
        type: 'button',
        'data-testid': `approve-${change.tool}`,
        onclick: async () => {
          try {
            await api('POST', `/services/${encodeURIComponent(name)}/tools/${encodeURIComponent(change.tool)}/approve`, { digest: change.digest });
            await servicePage(context, mount, name, null);
          } catch (error) {
            mount(errorBox(error));
          }
        },
      },
      'Approve',
    );
  const held = surface.held.map((change) =>
    h(
      'div',
      { class: 'held', 'data-testid': `held-${change.tool}` },
      h('p', {}, h('code', {}, change.tool), ` (${change.served})`),
      pre(change.changes),
      context.admin ? approve(change) : null,
    ),
  );
  return [
    h('h3', {}, `Held changes (pinning: ${surface.pin})`),
    held.length === 0 ? h('p', { class: 'hint' }, 'None.') : h('div', {}, ...held),
    h('h3', {}, 'Flagged descriptions'),
    surface.flags.length === 0 ? h('p', { class: 'hint' }, 'None.') : pre(surface.flags),
    surface.overrideProblems.length === 0 ? null : h('h3', {}, 'Overrides not applied'),
    surface.overrideProblems.length === 0 ? null : pre(surface.overrideProblems),
  ];
}

function fact(term: string, value: string | undefined): Node[] {
  return value === undefined ? [] : [h('dt', {}, term), h('dd', {}, value)];
}

/** Deregistering asks once more on the page itself (no window.confirm). */
function deregisterButton(name: string, mount: Mount): HTMLElement {
  const holder = h('span', {});
  const first = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      'data-testid': 'deregister',
      onclick: () =>
        holder.replaceChildren(
          h('span', {}, `Deregister ${name}? `),
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              'data-testid': 'deregister-confirm',
              onclick: async () => {
                try {
                  await api('DELETE', `/services/${encodeURIComponent(name)}`);
                  location.hash = '#/';
                } catch (error) {
                  mount(errorBox(error));
                }
              },
            },
            'Yes, deregister',
          ),
          h('button', { type: 'button', onclick: () => holder.replaceChildren(first) }, 'Cancel'),
        ),
    },
    'Deregister',
  );
  holder.append(first);
  return holder;
}
