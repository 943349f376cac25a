/* users.js — user accounts and groups (/api/v1/users, /api/v1/groups).
 *
 * Users: a page written by hand, as its design needs more than the schema
 * says (a password mode: generate, set or locked; the SSH keys listed from
 * the user's own record, each removed by its fingerprint; lock and unlock
 * buttons).  Lists with search (a name prefix) and a regular/system filter;
 * create, edit, lock/unlock and delete users.  Groups: the generic page of a
 * collection (collection.js), built from the groups' schema.  Every write is first sent with ?dry_run=1 and its plan (the
 * commands with their argv, the files' diffs, warnings) is shown; only a
 * confirmation applies it.  A generated password is shown once, in a dialog.
 * The edit form lists the user's SSH keys (from the user's own record), each
 * with a Remove button that removes it by its fingerprint.
 * Errors naming a field are shown next to it.  On a server without these
 * routes (404) the page says the feature is not available. */
import { get, seg } from './api.js';
import { collectionView, collectionSchema, actionButtons } from './collection.js';
import { planned, showPassword } from './plan.js';
import { h, clear, table, badge, notice, modal, busy, errorText, field } from './ui.js';

const lines = (s) =>
  s
    .split('\n')
    .map((x) => x.trim())
    .filter(Boolean);
const words = (s) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/* ---- users --------------------------------------------------------- */

function userForm(u, groups, onDone, status) {
  const isNew = !u;
  const inputs = {
    name: h('input', { value: u ? u.name : '', required: true, maxLength: 32, spellcheck: false, autocomplete: 'off' }),
    full_name: h('input', { value: (u && u.full_name) || '', maxLength: 200 }),
    shell: h('input', { value: (u && u.shell) || '/bin/bash', spellcheck: false }),
    groups: h('input', { value: u ? (u.groups || []).join(' ') : '', spellcheck: false, list: 'group-names' }),
    ssh_keys: h('textarea', { rows: 3, spellcheck: false }),
  };
  const pwMode = h(
    'select',
    isNew ? h('option', { value: 'generate' }, 'generate one (shown once)') : h('option', { value: 'keep' }, 'keep as it is'),
    h('option', { value: 'set' }, 'set this password'),
    isNew ? h('option', { value: 'locked' }, 'none: account locked') : h('option', { value: 'generate' }, 'generate a new one (shown once)'),
  );
  const pw = h('input', { type: 'password', autocomplete: 'new-password', disabled: true });
  pwMode.addEventListener('change', () => (pw.disabled = pwMode.value !== 'set'));
  const createHome = h('input', { type: 'checkbox', checked: true });
  const fields = {
    name: field(isNew ? 'User name' : 'Name', inputs.name, 'Lower-case letters, digits, _ and -, starting with a letter.', { name: 'name' }),
    full_name: field('Full name', inputs.full_name, null, { name: 'full_name' }),
    shell: field('Shell', inputs.shell, null, { name: 'shell' }),
    groups: field('Groups', inputs.groups, 'Supplementary groups, separated by spaces.', { name: 'groups' }),
    password: field('Password', pwMode, null, { name: 'password_mode' }),
    password_value: field('New password', pw, null, { name: 'password' }),
    ssh_keys: field(isNew ? 'SSH keys' : 'Add SSH keys', inputs.ssh_keys, 'One public key a line.', { name: 'ssh_keys' }),
  };
  fields.new_name = fields.name;
  fields.add_ssh_keys = fields.ssh_keys;
  fields.remove_ssh_keys = fields.ssh_keys;
  /* The keys there are (from the user's own record), each removed on its own. */
  const keyList =
    !isNew && Array.isArray(u.ssh_key_list) && u.ssh_key_list.length
      ? h(
          'div.ssh-keys',
          h('h4#ssh-keys-label', 'SSH keys'),
          h(
            'ul',
            { 'aria-labelledby': 'ssh-keys-label' },
            u.ssh_key_list.map((k) =>
              h(
                'li',
                { 'data-fingerprint': k.fingerprint },
                h('span', k.type),
                ' ',
                h('span', k.comment || '(no comment)'),
                ' ',
                h('code', k.fingerprint),
                ' ',
                h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `Remove key ${k.comment || k.fingerprint}`,
                    onclick: async (ev) => {
                      await busy(ev.target, async () => {
                        const r = await planned('PATCH', `/api/v1/users/${seg(u.name)}`, { remove_ssh_keys: [k.fingerprint] }, `Remove an SSH key of ${u.name}?`, fields, status);
                        if (!r) return;
                        clear(status, notice('ok', `Key ${k.fingerprint} of ${u.name} removed.`));
                        onDone();
                      });
                    },
                  },
                  'Remove',
                ),
              ),
            ),
          ),
        )
      : null;
  fields.generate_password = fields.password;
  const submit = h('button.primary', { type: 'submit' }, isNew ? 'Review new user…' : 'Review changes…');
  return h(
    'form.panel.user-form',
    {
      'aria-label': isNew ? 'New user' : `Edit ${u.name}`,
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        for (const f of Object.values(fields)) f.setError(null);
        if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(inputs.name.value)) {
          fields.name.setError('1 to 32 lower-case letters, digits, _ or -, starting with a letter or _.');
          inputs.name.focus();
          return;
        }
        if (pwMode.value === 'set' && !pw.value) {
          fields.password_value.setError('Enter the password, or choose another option.');
          pw.focus();
          return;
        }
        const body = {};
        if (isNew) {
          body.name = inputs.name.value;
          if (inputs.full_name.value) body.full_name = inputs.full_name.value;
          if (inputs.shell.value) body.shell = inputs.shell.value;
          if (words(inputs.groups.value).length) body.groups = words(inputs.groups.value);
          body.create_home = createHome.checked;
          if (lines(inputs.ssh_keys.value).length) body.ssh_keys = lines(inputs.ssh_keys.value);
          if (pwMode.value === 'generate') body.generate_password = true;
          else if (pwMode.value === 'set') body.password = pw.value;
          else body.locked = true;
        } else {
          if (inputs.name.value !== u.name) body.new_name = inputs.name.value;
          if (inputs.full_name.value !== (u.full_name || '')) body.full_name = inputs.full_name.value;
          if (inputs.shell.value !== (u.shell || '')) body.shell = inputs.shell.value;
          const g = words(inputs.groups.value);
          if (g.join(' ') !== (u.groups || []).join(' ')) body.groups = g;
          if (lines(inputs.ssh_keys.value).length) body.add_ssh_keys = lines(inputs.ssh_keys.value);
          if (pwMode.value === 'generate') body.generate_password = true;
          else if (pwMode.value === 'set') body.password = pw.value;
          if (!Object.keys(body).length) {
            clear(status, notice('info', 'Nothing to change.'));
            return;
          }
        }
        await busy(submit, async () => {
          const r = isNew
            ? await planned('POST', '/api/v1/users', body, `Create user ${body.name}?`, fields, status)
            : await planned('PATCH', `/api/v1/users/${seg(u.name)}`, body, `Change user ${u.name}?`, fields, status);
          pw.value = '';
          if (!r) return;
          await showPassword(body.new_name || body.name || u.name, r.password);
          clear(status, notice('ok', isNew ? `User ${body.name} created.` : `User ${u.name} changed.`));
          onDone();
        });
      },
    },
    h('h3', isNew ? 'New user' : `Edit ${u.name}`),
    fields.name,
    fields.full_name,
    fields.shell,
    fields.groups,
    h('datalist#group-names', groups.map((g) => h('option', { value: g.name }))),
    isNew ? field('Create the home directory', createHome, null, { inline: true }) : null,
    fields.password,
    fields.password_value,
    keyList,
    fields.ssh_keys,
    h('div.toolbar', submit, h('button', { type: 'button', onclick: () => onDone(true) }, 'Cancel')),
  );
}

async function usersTab(el, status, me) {
  /* The collection's schema: its item actions are buttons on each row. */
  const schema = await collectionSchema('users').catch(() => null);
  const search = h('input', { type: 'search', name: 'prefix', spellcheck: false, autocomplete: 'off' });
  /* 'system': system accounts, not the module */
  const type = h('select', { name: 'type' }, h('option', { value: 'regular' }, 'regular'), h('option', { value: 'system' }, 'system'), h('option', { value: 'all' }, 'all'));
  const listEl = h('div');
  const formEl = h('div');
  const moreBtn = h('button', { type: 'button', hidden: true }, 'More');
  let cursor = null;
  let groups = [];

  async function load(reset = true) {
    const q = new URLSearchParams({ type: type.value, limit: '200' });
    if (search.value.trim()) q.set('prefix', search.value.trim());
    if (!reset && cursor) q.set('cursor', cursor);
    const [r, g] = await Promise.all([get(`/api/v1/users?${q}`), get('/api/v1/groups').catch(() => ({ groups: [] }))]);
    groups = g.groups || [];
    cursor = r.next || null;
    moreBtn.hidden = !cursor;
    const rows = r.users || [];
    const t = table(
      [
        { label: 'Name', cell: (u) => h('strong', u.name) },
        { label: 'UID', class: 'num', cell: (u) => String(u.uid) },
        { label: 'Full name', cell: (u) => u.full_name || '' },
        { label: 'Groups', cell: (u) => [u.group, ...(u.groups || []).filter((x) => x !== u.group)].filter(Boolean).join(', ') },
        { label: 'Shell', cell: (u) => h('span.mono', u.shell || '') },
        {
          label: 'Password',
          cell: (u) => h('span', { 'data-password-state': u.name }, badge(u.password_state, { set: 'ok', locked: 'warn', expired: 'bad' }[u.password_state] || 'muted')),
        },
        { label: 'SSH keys', class: 'num', cell: (u) => String(u.ssh_keys ?? 0) },
        {
          label: 'Actions',
          cell: (u) =>
            h(
              'div.toolbar',
              h('button', { type: 'button', 'aria-label': `Edit ${u.name}`, onclick: async () => clear(formEl, userForm(await get(`/api/v1/users/${seg(u.name)}`).catch(() => u), groups, done, status)) }, 'Edit'),
              h(
                'button',
                {
                  type: 'button',
                  'aria-label': `${u.password_state === 'locked' ? 'Unlock' : 'Lock'} ${u.name}`,
                  'data-action': u.password_state === 'locked' ? 'unlock' : 'lock',
                  onclick: async (ev) => {
                    const lock = u.password_state !== 'locked';
                    await busy(ev.target, async () => {
                      const r2 = await planned('PATCH', `/api/v1/users/${seg(u.name)}`, { locked: lock }, `${lock ? 'Lock' : 'Unlock'} ${u.name}?`, null, status);
                      if (r2) {
                        clear(status, notice('ok', `${u.name} ${lock ? 'locked' : 'unlocked'}.`));
                        await load();
                      }
                    });
                  },
                },
                u.password_state === 'locked' ? 'Unlock' : 'Lock',
              ),
              schema ? actionButtons(schema, u, { status, role: me?.role, onDone: () => load() }) : null,
              h('button', { type: 'button', 'aria-label': `Delete ${u.name}`, onclick: (ev) => remove(u, ev.target) }, 'Delete'),
            ),
        },
      ],
      rows,
      { class: 'users', label: 'users', empty: 'No users match.' },
    );
    if (reset) clear(listEl, t);
    else listEl.append(t);
  }

  async function remove(u, button) {
    const home = h('input', { type: 'checkbox' });
    const v = await modal(`Delete user ${u.name}?`, [h('p', `The account ${u.name} (uid ${u.uid}) will be removed.`), field(`Also remove ${u.home || 'the home directory'}`, home, null, { inline: true })], [
      { label: 'Cancel', value: 'cancel' },
      { label: 'Review…', value: 'ok', primary: true },
    ]);
    if (v !== 'ok') return;
    await busy(button, async () => {
      const r = await planned('DELETE', `/api/v1/users/${seg(u.name)}${home.checked ? '?remove_home=1' : ''}`, undefined, `Delete ${u.name}?`, null, status);
      if (r) {
        clear(status, notice('ok', `${u.name} deleted.`));
        await load();
      }
    });
  }

  function done(cancelled) {
    clear(formEl);
    if (!cancelled) load().catch((e) => clear(status, notice('error', errorText(e))));
  }

  moreBtn.addEventListener('click', () => load(false));
  clear(
    el,
    h(
      'form.inline-form',
      { role: 'search', 'aria-label': 'Users', onsubmit: (ev) => { ev.preventDefault(); load(); } },
      field('Name starts with', search),
      field('Type', type),
      h('button', { type: 'submit' }, 'Search'),
      h('span.spacer'),
      h('button.primary', { type: 'button', id: 'new-user', onclick: () => clear(formEl, userForm(null, groups, done, status)) }, 'New user'),
    ),
    formEl,
    listEl,
    moreBtn,
  );
  type.addEventListener('change', () => load());
  await load();
}

export async function render(view, ctx, tab) {
  const status = h('div', { 'aria-live': 'polite' });
  const body = h('div', { role: 'tabpanel', id: 'users-panel' });
  const tabs = ['users', 'groups'].map((t) =>
    h('button', { type: 'button', role: 'tab', id: `tab-${t}`, 'aria-controls': 'users-panel', 'aria-selected': 'false', onclick: () => show(t) }, t === 'users' ? 'Users' : 'Groups'),
  );
  clear(view, h('h1', 'Users & groups'), status, h('div.tabs', { role: 'tablist', 'aria-label': 'Users or groups' }, tabs), body);

  const { modules } = await get('/api/v1/modules');
  if (!modules.some((m) => m.name === 'users')) {
    try {
      await get('/api/v1/users?limit=1');
    } catch (e) {
      if (e.status === 404) {
        clear(body, notice('info', 'User and group management is not available on this server.'));
        body.dataset.unavailable = '';
        return;
      }
    }
  }

  async function show(t) {
    for (const b of tabs) b.setAttribute('aria-selected', String(b.id === `tab-${t}`));
    body.setAttribute('aria-labelledby', `tab-${t}`);
    clear(status);
    clear(body, h('p.muted', 'Loading…'));
    history.replaceState(null, '', `#/users/${t}`);
    try {
      if (t === 'groups') await collectionView(body, status, 'groups', ctx?.me);
      else await usersTab(body, status, ctx?.me);
    } catch (e) {
      clear(body, notice(e.status === 404 ? 'info' : 'error', errorText(e)));
    }
  }
  await show(tab === 'groups' ? 'groups' : 'users');
}
