/* modules.js — every module with its state and its start/stop/restart
 * actions (from its schema), and the way into each module's settings page
 * (settings.js, #/modules/NAME), and to each of its collections' generic
 * page (collection.js, #/collections/NAME).  Nothing here names a module. */
import { get, post, seg } from './api.js';
import { h, clear, stateBadge, table, notice, confirm, busy, errorText, humanize } from './ui.js';

export async function render(view, ctx, name) {
  if (name) {
    const mod = await import('./settings.js');
    return mod.render(view, ctx, name);
  }
  const status = h('div', { 'aria-live': 'polite' });
  const list = h('div', h('p.muted', 'Loading…'));
  clear(view, h('h1', 'Modules'), status, list);

  async function load() {
    const { modules } = await get('/api/v1/modules');
    const schemas = await Promise.all(modules.map((m) => get(`/api/v1/modules/${seg(m.name)}/schema`).catch(() => null)));
    const rows = modules.map((m, i) => ({ ...m, schema: schemas[i] }));
    clear(
      list,
      table(
        [
          { label: 'Module', cell: (m) => h('a', { href: `#/modules/${seg(m.name)}` }, m.name) },
          { label: 'State', cell: (m) => h('span', { 'data-state': m.name }, stateBadge(m.state, m.reason || m.error)) },
          { label: 'What it covers', cell: (m) => m.summary },
          {
            label: 'Settings',
            class: 'num',
            cell: (m) => (m.schema ? String((m.schema.settings || []).length) : '–'),
          },
          {
            label: 'Actions',
            cell: (m) => {
              const actions = (m.schema && m.schema.actions) || [];
              return h(
                'div.toolbar',
                h('a', { href: `#/modules/${seg(m.name)}`, 'aria-label': `${m.name} settings and commands` }, 'Settings'),
                /* Each collection on its generic page (collection.js). */
                ((m.schema && m.schema.collections) || []).map((c) => h('a', { href: `#/collections/${seg(c.name)}`, 'aria-label': `${m.name}: the ${c.name}` }, humanize(c.name))),
                actions.map((a) =>
                  h(
                    'button',
                    {
                      type: 'button',
                      'aria-label': `${a} ${m.name}`,
                      onclick: async (ev) => {
                        if (!(await confirm(`${a[0].toUpperCase() + a.slice(1)} ${m.name}?`, h('p', `This will ${a} the ${m.name} service.`), a, a === 'stop')))
                          return;
                        await busy(ev.target, async () => {
                          try {
                            await post(`/api/v1/modules/${seg(m.name)}/${a}`);
                            clear(status, notice('ok', `${m.name}: ${a} done.`));
                          } catch (e) {
                            clear(status, notice('error', `${m.name}: ${errorText(e)}`));
                          }
                          await load();
                        });
                      },
                    },
                    humanize(a),
                  ),
                ),
              );
            },
          },
        ],
        rows,
        { class: 'modules', label: 'modules' },
      ),
    );
  }
  try {
    await load();
  } catch (e) {
    clear(list, notice('error', errorText(e)));
  }
}
