/* tokens.js — login sessions and API tokens.  Sessions: listed with the
 * current one marked, and ended (ending the current one is a logout).
 * Tokens: created (the secret is shown once, in a dialog, and kept nowhere)
 * and revoked.  An admin sees every user's sessions and tokens, others their
 * own (the server decides).
 *
 * With hundreds of sessions the list stays usable: password sessions are
 * shown a page at a time (the current one first, then the most recently
 * used), filtered by account, and local-socket connections (one per open
 * `steward` command) are counted apart, in a list of their own that opens on
 * demand.  The API answers the whole list; paging is the page's. */
import { get, post, del, seg } from './api.js';
import { h, clear, table, notice, confirm, modal, busy, errorText, when, field } from './ui.js';

const ROLES = ['monitor', 'operator', 'admin'];
// Every token expires; 0 asks for the server's longest allowed lifetime
// (stewardd:auth:max_token_lifetime, 90 days unless changed).
const LIFETIMES = [
  ['1 day', 86400],
  ['30 days', 30 * 86400],
  ['the longest allowed', 0],
];


export async function render(view, ctx) {
  const me = ctx.me;
  const status = h('div', { 'aria-live': 'polite' });
  const listEl = h('div', h('p.muted', 'Loading…'));
  const sessionsEl = h('div', h('p.muted', 'Loading…'));

  async function endSession(ev, s) {
    const body = s.current
      ? h('p', 'This is the session you are using: ending it logs you out.')
      : h('p', `Whoever uses it (${s.user}, from ${s.source || 'an unknown place'}) must log in again.`);
    if (!(await confirm(`End session ${s.id}?`, body, 'End session', true))) return;
    await busy(ev.target, async () => {
      try {
        await del(`/api/v1/sessions/${seg(s.id)}`);
      } catch (e) {
        clear(status, notice('error', errorText(e)));
        await loadSessions().catch(() => {});
        return;
      }
      if (s.current) {
        await ctx.logout('You ended this session. Log in again to continue.');
        return;
      }
      clear(status, notice('ok', `Session ${s.id} ended.`));
      await loadSessions();
    });
  }

  const PAGE = 20;
  const view_ = { page: 0, user: '' };
  let sessions = [];

  const sessionColumns = (withUser) => [
    { label: 'ID', class: 'num', cell: (s) => h('span', { 'data-session': s.id }, String(s.id)) },
    withUser ? { label: 'User', cell: (s) => s.user } : null,
    { label: 'From', cell: (s) => h('span.mono', s.source || '–') },
    { label: 'Signed in', cell: (s) => when(s.created) },
    { label: 'Last used', cell: (s) => when(s.last_used) },
    { label: 'Expires', cell: (s) => (s.expires_at ? when(s.expires_at) : 'never') },
    { label: '', cell: (s) => (s.current ? h('span.badge.badge-info', 'this session') : '') },
    {
      label: '',
      cell: (s) =>
        h(
          'button',
          {
            type: 'button',
            'aria-label': s.current ? `End session ${s.id} (this session)` : `End session ${s.id}`,
            onclick: (ev) => endSession(ev, s),
          },
          'End',
        ),
    },
  ].filter(Boolean);

  function drawSessions() {
    const order = (a, b) => (b.current ? 1 : 0) - (a.current ? 1 : 0) || String(b.last_used).localeCompare(String(a.last_used)) || Number(b.id) - Number(a.id);
    const password = sessions.filter((s) => s.kind !== 'peer').sort(order);
    const local = sessions.filter((s) => s.kind === 'peer').sort(order);
    const users = [...new Set(password.map((s) => s.user))].sort();
    if (view_.user && !users.includes(view_.user)) view_.user = '';
    const shown = password.filter((s) => !view_.user || s.user === view_.user);
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    view_.page = Math.min(view_.page, pages - 1);
    const from = view_.page * PAGE;
    const rows = shown.slice(from, from + PAGE);
    const go = (p) => {
      view_.page = p;
      drawSessions();
      sessionsEl.querySelector('.pager')?.focus();
    };
    const userFilter =
      users.length > 1
        ? field(
            'Account',
            h(
              'select',
              {
                id: 'sessions-user',
                onchange: (ev) => {
                  view_.user = ev.target.value;
                  view_.page = 0;
                  drawSessions();
                },
              },
              h('option', { value: '' }, `All accounts (${password.length})`),
              users.map((u) => h('option', { value: u, selected: u === view_.user }, `${u} (${password.filter((s) => s.user === u).length})`)),
            ),
          )
        : null;
    const pager =
      shown.length > PAGE
        ? h(
            'div.pager',
            { tabIndex: -1, role: 'group', 'aria-label': 'Pages of sessions' },
            h('button', { type: 'button', disabled: view_.page === 0, onclick: () => go(view_.page - 1) }, '← Newer'),
            h('span', { 'data-range': `${from + 1}-${from + rows.length}` }, `${from + 1}–${from + rows.length} of ${shown.length}`),
            h('button', { type: 'button', disabled: view_.page >= pages - 1, onclick: () => go(view_.page + 1) }, 'Older →'),
          )
        : null;
    clear(
      sessionsEl,
      h('div.inline-form', userFilter, h('span.spacer'), pager),
      table(sessionColumns(users.length > 1 || me.role === 'admin'), rows, { class: 'sessions', label: 'Login sessions', empty: 'No login sessions.' }),
      local.length
        ? h(
            'details.local-sessions',
            h('summary', `Local connections: ${local.length} (one per open steward command on the server)`),
            table(sessionColumns(true), local, { class: 'sessions-local', label: 'Local connections' }),
          )
        : null,
    );
  }

  async function loadSessions() {
    const r = await get('/api/v1/sessions');
    sessions = r.sessions || [];
    drawSessions();
  }
  const name = h('input', { name: 'name', required: true, maxLength: 64, spellcheck: false, autocomplete: 'off' });
  const role = h('select', { name: 'role' }, ROLES.slice(0, ROLES.indexOf(me.role) + 1).map((r) => h('option', { value: r }, r)));
  const life = h('select', { name: 'expires' }, LIFETIMES.map(([l, s]) => h('option', { value: String(s) }, l)));
  const nameField = field('Name', name, 'What uses it: letters, digits, space and _ - . @ (up to 64).', { name: 'name' });
  const create = h('button.primary', { type: 'submit' }, 'Create token');

  async function load() {
    const r = await get('/api/v1/tokens');
    clear(
      listEl,
      table(
        [
          { label: 'ID', class: 'num', cell: (t) => String(t.id) },
          { label: 'Name', cell: (t) => t.name },
          { label: 'User', cell: (t) => t.user },
          { label: 'Role', cell: (t) => t.role },
          { label: 'Created', cell: (t) => when(t.created) },
          { label: 'Expires', cell: (t) => (t.expires_at ? when(t.expires_at) : 'never') },
          { label: 'Last used', cell: (t) => (t.last_used ? when(t.last_used) : 'never') },
          {
            label: '',
            cell: (t) =>
              h(
                'button',
                {
                  type: 'button',
                  'aria-label': `Revoke token ${t.name}`,
                  onclick: async (ev) => {
                    if (!(await confirm(`Revoke "${t.name}"?`, h('p', 'Anything using this token loses access at once.'), 'Revoke', true))) return;
                    await busy(ev.target, async () => {
                      try {
                        await del(`/api/v1/tokens/${seg(t.id)}`);
                        clear(status, notice('ok', `Token "${t.name}" revoked.`));
                      } catch (e) {
                        clear(status, notice('error', errorText(e)));
                      }
                      await load();
                    });
                  },
                },
                'Revoke',
              ),
          },
        ],
        r.tokens || [],
        { class: 'tokens', label: 'API tokens', empty: 'No API tokens.' },
      ),
    );
  }

  clear(
    view,
    h('h1', 'Sessions & tokens'),
    h(
      'section.panel',
      { 'aria-labelledby': 'session-title' },
      h('h2#session-title', 'This session'),
      h('dl.facts', h('div', h('dt', 'User'), h('dd', me.user)), h('div', h('dt', 'Role'), h('dd', me.role)), h('div', h('dt', 'From'), h('dd.mono', me.source)), h('div', h('dt', 'Signed in with'), h('dd', me.auth === 'cookie' ? 'password (browser session)' : me.auth))),
      h('p.muted', 'Log out ends this session on the server at once.'),
    ),
    h(
      'section.panel',
      { 'aria-labelledby': 'sessions-title' },
      h('h2#sessions-title', me.role === 'admin' ? 'Login sessions (all users)' : 'Your login sessions'),
      h('p.muted', 'Ending a session signs it out at once, wherever it is used.'),
      sessionsEl,
    ),
    status,
    h(
      'section.panel',
      { 'aria-labelledby': 'new-token-title' },
      h('h2#new-token-title', 'New API token'),
      h(
        'form.inline-form',
        {
          novalidate: true,
          onsubmit: async (ev) => {
            ev.preventDefault();
            nameField.setError(null);
            if (!/^[A-Za-z0-9_.@ -]{1,64}$/.test(name.value)) {
              nameField.setError('1 to 64 letters, digits, spaces or _ - . @');
              name.focus();
              return;
            }
            const body = { name: name.value, role: role.value };
            if (Number(life.value)) body.expires_in = Number(life.value);
            await busy(create, async () => {
              try {
                const t = await post('/api/v1/tokens', body);
                name.value = '';
                await modal('Token created', [
                  h('p', `Copy the token for "${t.name}" now: it is shown only once.`),
                  h('p.secret', { tabIndex: 0, 'data-secret': '' }, t.token),
                  h('p.muted', `Role ${t.role}; ${t.expires_at ? `expires ${when(t.expires_at)}` : 'does not expire'}. Use it as Authorization: Bearer TOKEN.`),
                ]);
                await load();
              } catch (e) {
                if (e.field === 'name') nameField.setError(e.message);
                else clear(status, notice('error', errorText(e)));
              }
            });
          },
        },
        nameField,
        field('Role', role),
        field('Expires', life),
        create,
      ),
    ),
    h('section.panel', { 'aria-labelledby': 'tokens-title' }, h('h2#tokens-title', 'API tokens'), listEl),
  );
  await Promise.all([
    load().catch((e) => clear(listEl, notice('error', errorText(e)))),
    loadSessions().catch((e) => clear(sessionsEl, notice('error', errorText(e)))),
  ]);
}
