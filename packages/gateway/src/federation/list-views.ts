import type { AllowList } from '../auth/allow-list.js';
import type { Catalog } from '../model/catalog.js';
import type { IndexEntry, ItemIndex } from '../model/item-index.js';
import { ListView } from '../model/paging.js';

/**
 * The list views of each catalog: for every list method, one view per way of seeing it
 * (everything; without task-only tools for sessions before tasks; and the same two per
 * allow-list), each made when first asked for and kept as long as its catalog (and, for
 * an allow-list view, its allow-list) lives. A catalog is rebuilt, with no views, when
 * anything changes, so a view never goes stale and a request never filters or serialises
 * a list (the pages are frozen results whose JSON the writer memoizes by identity).
 */
interface Views {
  all?: ListView<IndexEntry<unknown>, unknown>;
  withoutTasks?: ListView<IndexEntry<unknown>, unknown>;
}
const cache = new WeakMap<Catalog, Map<string, { unfiltered: Views; byAllowList: WeakMap<AllowList, Views> }>>();

export interface ViewOptions {
  /** The result's list key: `tools`, `prompts`, `resources` or `resourceTemplates`. */
  key: string;
  pageSize: number;
  allowList: AllowList | undefined;
  /** Leave out the items `hide` picks (task-only tools, for sessions before tasks). */
  withoutTasks: boolean;
  hide: (item: unknown) => boolean;
}

/** The view of `index` (the `method` list of `catalog`) that `options` describe. */
export function listView(catalog: Catalog, method: string, index: ItemIndex<unknown>, options: ViewOptions): ListView<IndexEntry<unknown>, unknown> {
  let perMethod = cache.get(catalog);
  if (perMethod === undefined) {
    perMethod = new Map();
    cache.set(catalog, perMethod);
  }
  let views = perMethod.get(method);
  if (views === undefined) {
    views = { unfiltered: {}, byAllowList: new WeakMap() };
    perMethod.set(method, views);
  }
  const { allowList, withoutTasks } = options;
  let set = views.unfiltered;
  if (allowList !== undefined) {
    set = views.byAllowList.get(allowList) ?? {};
    views.byAllowList.set(allowList, set);
  }
  const slot = withoutTasks ? 'withoutTasks' : 'all';
  let view = set[slot];
  if (view === undefined) {
    const filtered = allowList !== undefined || withoutTasks;
    const entries = !filtered
      ? index.entries
      : index.entries.filter((entry) => (allowList === undefined || allowList.allows(entry)) && !(withoutTasks && options.hide(entry.item)));
    view = new ListView({
      entries,
      keyOf: (entry) => entry.exposedName,
      itemOf: (entry) => entry.item,
      key: options.key,
      pageSize: options.pageSize,
      ...(filtered ? {} : { whole: index.items }),
    });
    set[slot] = view;
  }
  return view;
}
