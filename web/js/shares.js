/* shares.js — file sharing (the shares module's page, #/shares).
 *
 * Share points (GET /api/v1/shares) as a table: protocol badges (SMB, NFS,
 * Time Machine; guest access as a warning), read-only or read-write, the
 * folder with its owner, group and mode, the share's warnings.  A form adds
 * or edits one: name, the folder (typed, or picked from the folders under
 * the module's roots, GET /api/v1/modules/shares/folders?under=ROOT), the
 * comment, an SMB section (allowed users and groups picked from the users
 * and groups collections, the write list, guest access, listing, dot files,
 * forbidden names, encryption, case sensitivity, the Time Machine switch
 * with its size in GB or TB) and an NFS section (its clients, each a host
 * with ro/rw, root squash and sync).  Every write is reviewed as a plan
 * first (plan.js); edit sends only the members that changed (nfs.clients
 * whole, as the API replaces it); an error naming a field is shown by it
 * ("nfs.clients[1].host" by the clients).  Each row: edit (or import, for
 * a share defined in smb.conf), the folder's permissions (the `folder`
 * action, reviewed), close the share for everyone, delete (confirmed, then
 * reviewed).
 *
 * Connected users (GET /api/v1/modules/shares/connections) stay live through
 * the `share_connections` event on the console's one event stream — no
 * polling; each row has a Disconnect button (DELETE …/connections/{id},
 * confirmed).  Samba accounts (GET /api/v1/modules/shares/smb-users): set a
 * password, enable, disable, remove, add a user (the `smb_account` command;
 * passwords go in the request body only, never in a URL).  Samba's global
 * settings are the module's settings page (#/modules/shares).
 *
 * Each part loads on its own: a part the server cannot answer says so and
 * the others still work. */
import { get, post, del, seg } from './api.js';
import { planned } from './plan.js';
import { h, clear, table, badge, notice, confirm, busy, errorText, field, uid, when } from './ui.js';

/* Samba's share-name rules (the server decides; this catches typing). */
const NAME_BAD = /[[\]/\\:*?"<>|\u0000-\u001f]/;
const NAME_RESERVED = ['global', 'homes', 'printers', 'ipc$'];

const CASE_CHOICES = [
  ['auto', 'as the client asks (auto)'],
  ['yes', 'yes'],
  ['no', 'no'],
];

const list = (s) =>
  String(s || '')
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/* "500G" → {n: 500, unit: 'G'}; "" → no limit. */
function parseSize(s) {
  const m = /^\s*(\d+)\s*([GT])?B?\s*$/i.exec(String(s || ''));
  return m ? { n: Number(m[1]), unit: (m[2] || 'G').toUpperCase() } : null;
}

function sizeText(s) {
  const p = parseSize(s);
  return p ? `${p.n} ${p.unit}B` : 'no limit';
}

/* An NFS client as the API gives it: an object, or "HOST(OPT,OPT)". */
function clientOf(c) {
  if (c && typeof c === 'object') return { host: c.host || '', options: Array.isArray(c.options) ? c.options : [] };
  const m = /^([^()]*)(?:\(([^)]*)\))?$/.exec(String(c || ''));
  return { host: m ? m[1] : String(c), options: m && m[2] ? m[2].split(',').filter(Boolean) : [] };
}

function clientText(c) {
  const { host, options } = clientOf(c);
  return options.length ? `${host} (${options.join(', ')})` : host;
}

/* ---- dialogs with a form that stays open until its answer is accepted ---- */

/* Opens a dialog holding content (form fields); onSubmit() runs on the
 * submit button and the dialog closes when it returns a truthy value
 * (which the promise resolves with); Cancel or Escape resolve null. */
function formDialog(title, content, submitLabel, onSubmit) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    let result = null;
    const submit = h('button.primary', { type: 'submit' }, submitLabel);
    const dlg = h(
      'dialog.modal',
      { 'aria-labelledby': titleId },
      h(
        'form',
        {
          novalidate: true,
          onsubmit: async (ev) => {
            ev.preventDefault();
            await busy(submit, async () => {
              const r = await onSubmit();
              if (r) {
                result = r;
                dlg.close();
              }
            });
          },
        },
        h('h2', { id: titleId }, title),
        h('div.modal-body', content),
        h('div.buttons', h('button', { type: 'button', onclick: () => dlg.close() }, 'Cancel'), submit),
      ),
    );
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(result);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/* ---- the folder picker ---------------------------------------------------- */

/* Lets the user walk the folders under the roots; resolves with the path
 * chosen, or null. */
async function pickFolder(roots, start) {
  const root = roots.find((r) => start && (start === r || start.startsWith(r.endsWith('/') ? r : `${r}/`))) || roots[0];
  let here = start && root ? start : root;
  const where = h('p.picker-here', { 'aria-live': 'polite' });
  const listEl = h('div.picker-list');
  const err = h('div');
  const rootSel =
    roots.length > 1
      ? h(
          'select',
          { onchange: () => go(rootSel.value) },
          roots.map((r) => h('option', { value: r, selected: r === root }, r)),
        )
      : null;
  const inRoot = (p) => roots.some((r) => p === r || p.startsWith(r.endsWith('/') ? r : `${r}/`));
  const up = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        const parent = here.replace(/\/[^/]+\/?$/, '') || '/';
        if (inRoot(parent)) go(parent);
      },
    },
    'Up one level',
  );

  async function go(path) {
    here = path;
    where.textContent = path;
    up.disabled = roots.includes(path);
    clear(err);
    clear(listEl, h('p.muted', 'Loading…'));
    try {
      const r = await get(`/api/v1/modules/shares/folders?under=${encodeURIComponent(path)}`);
      const folders = r.folders || [];
      clear(
        listEl,
        folders.length
          ? h(
              'ul.picker-folders',
              folders.map((f) =>
                h(
                  'li',
                  h('button.link', { type: 'button', 'data-path': f.path, 'aria-label': `Open ${f.path}`, onclick: () => go(f.path) }, f.path.replace(/^.*\//, '') || f.path),
                  ' ',
                  h('span.muted', `${f.owner || '?'}:${f.group || '?'} ${f.mode || ''}`),
                  h(
                    'button.small',
                    {
                      type: 'button',
                      'data-use': f.path,
                      'aria-label': `Use ${f.path}`,
                      onclick: (ev) => {
                        here = f.path;
                        ev.currentTarget.closest('form').requestSubmit();
                      },
                    },
                    'Use',
                  ),
                ),
              ),
            )
          : h('p.muted', 'No folders in here. Choose this folder, or make one on the server first.'),
      );
    } catch (e) {
      clear(listEl);
      clear(err, notice('error', errorText(e)));
    }
  }

  const picked = formDialog(
    'Choose a folder',
    [
      rootSel ? field('Shared folders live under', rootSel) : h('p.muted', `Shared folders live under ${root}. Open a folder to look inside; Use picks it.`),
      h('div.picker-head', h('span.muted', 'Folder: '), where, up),
      err,
      listEl,
    ],
    'Use this folder',
    async () => here,
  );
  await go(here);
  return picked;
}

/* ---- inputs ------------------------------------------------------------------ */

/* Names (users, @groups, patterns) as removable chips, added from a text
 * input with suggestions. */
function namesField(label, values, suggestions, help, name) {
  const listId = uid('names');
  const input = h('input', { list: suggestions.length ? listId : undefined, spellcheck: false, autocomplete: 'off', 'data-names': name });
  const chips = h('ul.chips', { 'aria-label': label });
  const vals = [...(values || [])];
  function draw() {
    clear(
      chips,
      vals.map((v, i) =>
        h(
          'li.chip',
          h('span', v),
          h(
            'button.chip-remove',
            {
              type: 'button',
              'aria-label': `Remove ${v} from ${label.toLowerCase()}`,
              onclick: () => {
                vals.splice(i, 1);
                draw();
                input.focus();
              },
            },
            '×',
          ),
        ),
      ),
    );
  }
  const add = () => {
    for (const v of list(input.value)) if (!vals.includes(v)) vals.push(v);
    input.value = '';
    draw();
  };
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      add();
    }
  });
  const wrap = field(label, input, help, { name });
  const row = h('div.chip-input');
  input.replaceWith(row);
  row.append(input, h('button', { type: 'button', 'aria-label': `Add to ${label.toLowerCase()}`, onclick: add }, 'Add'));
  row.after(chips);
  if (suggestions.length) wrap.append(h('datalist', { id: listId }, suggestions.map((s) => h('option', { value: s }))));
  draw();
  /* What the field holds, text still in the input included. */
  wrap.values = () => {
    add();
    return [...vals];
  };
  return wrap;
}

function check(label, checked, help, name, extra) {
  const input = h('input', { type: 'checkbox', checked: !!checked, name });
  const f = field(label, input, help, { inline: true, name, badge: extra });
  f.checked = () => input.checked;
  return f;
}

/* The NFS clients, one row each: host, ro/rw, root squash, sync, and any
 * other options as they were. */
function clientsField(clients) {
  const rows = [];
  const body = h('tbody');
  const wrap = h('div.field.nfs-clients', { 'data-field': 'nfs.clients' });
  const err = h('p.field-error', { 'aria-live': 'polite' });
  function addRow(c) {
    const { host, options } = clientOf(c);
    const known = ['ro', 'rw', 'root_squash', 'no_root_squash', 'sync', 'async'];
    const n = rows.length + 1;
    const r = {
      host: h('input', { value: host, spellcheck: false, 'aria-label': `Client ${n}: host, address or network`, placeholder: '192.0.2.0/24', maxLength: 255 }),
      access: h(
        'select',
        { 'aria-label': `Client ${n}: access` },
        h('option', { value: 'ro', selected: !options.includes('rw') }, 'read-only'),
        h('option', { value: 'rw', selected: options.includes('rw') }, 'read-write'),
      ),
      squash: h('input', { type: 'checkbox', checked: !options.includes('no_root_squash'), 'aria-label': `Client ${n}: root squash (root on the client is nobody here)` }),
      sync: h('input', { type: 'checkbox', checked: !options.includes('async'), 'aria-label': `Client ${n}: sync (writes reach the disk before the answer)` }),
      other: h('input', { value: options.filter((o) => !known.includes(o)).join(','), spellcheck: false, 'aria-label': `Client ${n}: other options`, placeholder: 'sec=sys' }),
    };
    r.tr = h(
      'tr',
      h('td', r.host),
      h('td', r.access),
      h('td.center', r.squash),
      h('td.center', r.sync),
      h('td', r.other),
      h(
        'td',
        h(
          'button.small',
          {
            type: 'button',
            'aria-label': `Remove client ${n}`,
            onclick: () => {
              rows.splice(rows.indexOf(r), 1);
              r.tr.remove();
              draw();
            },
          },
          'Remove',
        ),
      ),
    );
    rows.push(r);
    body.append(r.tr);
    draw();
    return r;
  }
  const empty = h('p.muted', 'No clients: nobody may mount this share over NFS. Add a host or a network.');
  function draw() {
    empty.hidden = rows.length > 0;
    tbl.hidden = rows.length === 0;
  }
  const tbl = h(
    'table.nfs-client-table',
    h(
      'thead',
      h(
        'tr',
        h('th', { scope: 'col' }, 'Host or network'),
        h('th', { scope: 'col' }, 'Access'),
        h('th', { scope: 'col' }, 'Root squash'),
        h('th', { scope: 'col' }, 'Sync'),
        h('th', { scope: 'col' }, 'Other options'),
        h('th', { scope: 'col' }, h('span.visually-hidden', 'Remove')),
      ),
    ),
    body,
  );
  const addBtn = h('button', { type: 'button', onclick: () => addRow({ host: '', options: ['ro', 'root_squash', 'sync'] }).host.focus() }, 'Add client');
  wrap.append(h('span.label', 'Clients'), h('div.table-wrap', { tabIndex: 0, role: 'region', 'aria-label': 'NFS clients' }, tbl), empty, addBtn, h('p.help', 'Hosts (server.example.org), addresses, networks (192.0.2.0/24), *.domain or @netgroup. Root squash maps root on the client to nobody; sync writes to disk before answering.'), err);
  for (const c of clients || []) addRow(c);
  draw();
  wrap.setError = (msg) => {
    err.textContent = msg || '';
    if (!msg) for (const r of rows) r.host.removeAttribute('aria-invalid');
  };
  wrap.input = addBtn;
  /* The field of the client at index i ("nfs.clients[1].host"): the error
   * under the table, that row's host marked and focused. */
  wrap.at = (i) =>
    rows[i]
      ? {
          setError: (msg) => {
            wrap.setError(msg);
            if (msg) rows[i].host.setAttribute('aria-invalid', 'true');
          },
          input: rows[i].host,
        }
      : wrap;
  wrap.values = () =>
    rows
      .filter((r) => r.host.value.trim())
      .map((r) => ({
        host: r.host.value.trim(),
        options: [r.access.value, r.squash.checked ? 'root_squash' : 'no_root_squash', r.sync.checked ? 'sync' : 'async', ...list(r.other.value)],
      }));
  wrap.focusFirst = () => (rows[0] ? rows[0].host : addBtn).focus();
  return wrap;
}

/* ---- the share form ------------------------------------------------------- */

/* An error's field ("nfs.clients[1].host", "smb.valid_users") → the form
 * field that shows it: itself, else the nearest field that holds it. */
function fieldLookup(fields) {
  return new Proxy(fields, {
    get(t, k) {
      if (typeof k !== 'string' || k in t) return t[k];
      /* An item of a list field that can point at its rows. */
      const item = /^(.*?)\[(\d+)\]/.exec(k);
      if (item && t[item[1]] && t[item[1]].at) return t[item[1]].at(Number(item[2]));
      let p = k;
      while (p) {
        p = p.replace(/(\[\d+\]|\.[^.[]*)$/, '');
        if (p in t) return t[p];
        if (!/[.[]/.test(p)) break;
      }
      return undefined;
    },
  });
}

function shareForm(s, env, onDone, status) {
  const isNew = !s;
  const smb = (s && s.smb) || { enabled: true, read_only: false, valid_users: [], write_list: [], guest_ok: false, browseable: true, hide_dot_files: true, veto_files: [], encryption_required: false, case_sensitive: 'auto', time_machine: false, time_machine_max_size: '' };
  const nfs = (s && s.nfs) || { enabled: false, clients: [] };
  const who = [...env.users.map((u) => u.name), ...env.groups.map((g) => `@${g.name}`)];

  const name = h('input', { value: s ? s.name : '', required: true, maxLength: 80, spellcheck: false, autocomplete: 'off', readOnly: !isNew });
  const path = h('input', { value: s ? s.path : '', required: true, maxLength: 4095, spellcheck: false, autocomplete: 'off', placeholder: `${env.roots[0] || '/srv'}/projects` });
  const comment = h('input', { value: (s && s.comment) || '', maxLength: 255 });
  const browse = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        const p = await pickFolder(env.roots, path.value.trim());
        if (p) path.value = p;
        path.focus();
      },
    },
    'Browse…',
  );

  const smbOn = h('input', { type: 'checkbox', checked: smb.enabled !== false, name: 'smb.enabled' });
  const nfsOn = h('input', { type: 'checkbox', checked: !!nfs.enabled, name: 'nfs.enabled' });
  const access = h(
    'select',
    h('option', { value: 'rw', selected: !smb.read_only }, 'read-write'),
    h('option', { value: 'ro', selected: !!smb.read_only }, 'read-only'),
  );
  const caseSel = h('select', CASE_CHOICES.map(([v, l]) => h('option', { value: v, selected: (smb.case_sensitive || 'auto') === v }, l)));
  const size = parseSize(smb.time_machine_max_size);
  const tmSize = h('input', { type: 'number', min: 1, max: 1024, step: 1, value: size ? size.n : '', 'aria-label': 'Time Machine size', placeholder: 'no limit' });
  const tmUnit = h(
    'select',
    { 'aria-label': 'Time Machine size unit' },
    h('option', { value: 'G', selected: !size || size.unit === 'G' }, 'GB'),
    h('option', { value: 'T', selected: !!size && size.unit === 'T' }, 'TB'),
  );
  const guestWarn = h('p.notice.notice-warn', { hidden: !smb.guest_ok }, 'Anyone who can reach this server may use this share without a password.');

  const fields = {
    name: field('Name', name, isNew ? 'What clients see: up to 80 bytes, none of [ ] / \\ : * ? " < > |.' : 'A share point keeps its name; add a new one to rename it.', { name: 'name' }),
    path: field('Folder', path, `An existing folder under ${env.roots.join(', ') || '/srv'}, not a link.`, { name: 'path' }),
    comment: field('Comment', comment, 'What clients see beside the name.', { name: 'comment' }),
    'smb.read_only': field('Access', access, 'Read-only: nobody may write, except those on the write list.', { name: 'smb.read_only' }),
    'smb.valid_users': namesField('Allowed users and groups', smb.valid_users, who, 'Nobody listed: every user with a Samba account. A group is @name.', 'smb.valid_users'),
    'smb.write_list': namesField('May write even when read-only', smb.write_list, who, 'Users and @groups.', 'smb.write_list'),
    'smb.guest_ok': check('Guest access', smb.guest_ok, 'No password asked: a finding on any server.', 'smb.guest_ok', [' ', badge('risky', 'warn')]),
    'smb.browseable': check('Listed', smb.browseable !== false, "Shown in the server's list of shares.", 'smb.browseable'),
    'smb.hide_dot_files': check('Hide dot files', smb.hide_dot_files !== false, 'Names starting with a dot are hidden.', 'smb.hide_dot_files'),
    'smb.veto_files': namesField('Forbidden names', smb.veto_files, [], 'Patterns (* and ?) that can be neither seen nor created, e.g. *.tmp or .DS_Store.', 'smb.veto_files'),
    'smb.encryption_required': check('Require encryption', smb.encryption_required, 'Clients that cannot encrypt (SMB 3) are refused.', 'smb.encryption_required'),
    'smb.case_sensitive': field('Case-sensitive names', caseSel, null, { name: 'smb.case_sensitive' }),
    'smb.time_machine': check('Time Machine destination', smb.time_machine, 'Macs may back up here (Apple extensions, advertised over Bonjour).', 'smb.time_machine'),
    'smb.time_machine_max_size': field('Most backups may take', tmSize, 'Empty: no limit.', { name: 'smb.time_machine_max_size' }),
    'nfs.clients': clientsField(nfs.clients),
  };
  fields.smb = fields['smb.read_only'];
  fields['smb.enabled'] = fields['smb.read_only'];
  fields.nfs = fields['nfs.clients'];
  fields['nfs.enabled'] = fields['nfs.clients'];
  const tmRow = h('div.tm-size');
  tmSize.replaceWith(tmRow);
  tmRow.append(tmSize, tmUnit);
  const tmCheck = fields['smb.time_machine'].querySelector('input');
  const syncTm = () => (fields['smb.time_machine_max_size'].hidden = !tmCheck.checked);
  tmCheck.addEventListener('change', syncTm);
  syncTm();
  fields['smb.guest_ok'].querySelector('input').addEventListener('change', (ev) => (guestWarn.hidden = !ev.target.checked));
  const pathRow = h('div.chip-input');
  fields.path.input.replaceWith(pathRow);
  pathRow.append(path, browse);

  /* Each protocol's switch heads its box; the settings below it are a
   * fieldset, disabled while the protocol is off (kept, not sent away). */
  const protocolBox = (on, title, set) => h('section.protocol', { 'aria-label': title }, h('div.protocol-head', h('label', on, ` ${title}`)), set);
  const smbSet = h(
    'fieldset.protocol-body',
    { disabled: !smbOn.checked },
    h('legend.visually-hidden', 'SMB settings'),
    fields['smb.read_only'],
    fields['smb.valid_users'],
    fields['smb.write_list'],
    fields['smb.guest_ok'],
    guestWarn,
    fields['smb.browseable'],
    fields['smb.hide_dot_files'],
    fields['smb.veto_files'],
    fields['smb.encryption_required'],
    fields['smb.case_sensitive'],
    fields['smb.time_machine'],
    fields['smb.time_machine_max_size'],
  );
  const nfsSet = h('fieldset.protocol-body', { disabled: !nfsOn.checked }, h('legend.visually-hidden', 'NFS settings'), fields['nfs.clients']);
  smbOn.addEventListener('change', () => (smbSet.disabled = !smbOn.checked));
  nfsOn.addEventListener('change', () => (nfsSet.disabled = !nfsOn.checked));

  function read() {
    const size = tmSize.value === '' ? '' : `${tmSize.value}${tmUnit.value}`;
    return {
      name: name.value.trim(),
      path: path.value.trim(),
      comment: comment.value,
      smb: {
        enabled: smbOn.checked,
        read_only: access.value === 'ro',
        valid_users: fields['smb.valid_users'].values(),
        write_list: fields['smb.write_list'].values(),
        guest_ok: fields['smb.guest_ok'].checked(),
        browseable: fields['smb.browseable'].checked(),
        hide_dot_files: fields['smb.hide_dot_files'].checked(),
        veto_files: fields['smb.veto_files'].values(),
        encryption_required: fields['smb.encryption_required'].checked(),
        case_sensitive: caseSel.value,
        time_machine: tmCheck.checked,
        time_machine_max_size: tmCheck.checked ? size : smb.time_machine_max_size || '',
      },
      nfs: { enabled: nfsOn.checked, clients: fields['nfs.clients'].values() },
    };
  }

  /* What the form says is wrong before anything is sent; true if fine. */
  function validate(v) {
    const bad = (f, msg) => {
      fields[f].setError(msg);
      (fields[f].focusFirst ? fields[f].focusFirst() : fields[f].input.focus());
      return false;
    };
    if (isNew && (!v.name || NAME_BAD.test(v.name) || new TextEncoder().encode(v.name).length > 80)) return bad('name', 'Give a name of 1 to 80 bytes without [ ] / \\ : * ? " < > |.');
    if (isNew && NAME_RESERVED.includes(v.name.toLowerCase())) return bad('name', `"${v.name}" is reserved by Samba.`);
    if (!v.path.startsWith('/')) return bad('path', 'Give the full path of the folder, starting with /.');
    if (v.smb.time_machine && tmSize.value !== '' && !(Number(tmSize.value) >= 1 && Number.isInteger(Number(tmSize.value)))) return bad('smb.time_machine_max_size', 'A whole number of GB or TB, or empty for no limit.');
    if (v.nfs.enabled && !v.nfs.clients.length) return bad('nfs.clients', 'Add at least one client, or turn NFS off.');
    return true;
  }

  /* Create: the whole share; edit: the members that changed. */
  function body(v) {
    if (isNew) {
      const b = { name: v.name, path: v.path, smb: v.smb, nfs: v.nfs };
      if (v.comment) b.comment = v.comment;
      if (!v.smb.time_machine_max_size) delete b.smb.time_machine_max_size;
      if (!v.nfs.clients.length) delete b.nfs.clients;
      return b;
    }
    const b = {};
    if (v.path !== s.path) b.path = v.path;
    if (v.comment !== (s.comment || '')) b.comment = v.comment;
    for (const part of ['smb', 'nfs']) {
      const was = s[part] || {};
      const changed = Object.fromEntries(Object.entries(v[part]).filter(([k, x]) => !same(x, was[k] ?? (Array.isArray(x) ? [] : x === '' ? '' : undefined))));
      if (part === 'nfs' && 'clients' in changed) changed.clients = v.nfs.clients;
      if (Object.keys(changed).length) b[part] = changed;
    }
    return b;
  }

  const submit = h('button.primary', { type: 'submit' }, isNew ? 'Review new share point…' : 'Review changes…');
  const lookup = fieldLookup(fields);
  return h(
    'form.panel.share-form',
    {
      'aria-label': isNew ? 'New share point' : `Edit ${s.name}`,
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        for (const f of Object.values(fields)) f.setError(null);
        clear(status);
        const v = read();
        if (!validate(v)) return;
        const b = body(v);
        if (!isNew && !Object.keys(b).length) {
          clear(status, notice('info', 'Nothing to change.'));
          return;
        }
        await busy(submit, async () => {
          const r = isNew
            ? await planned('POST', '/api/v1/shares', b, `Share ${v.path} as ${v.name}?`, lookup, status)
            : await planned('PATCH', `/api/v1/shares/${seg(s.name)}`, b, `Change ${s.name}?`, lookup, status);
          if (!r) return;
          onDone(false, isNew ? `${v.name} is shared.` : `${s.name} changed.`, r.audit_id);
        });
      },
    },
    h('h2', isNew ? 'New share point' : `Edit ${s.name}`),
    h('div.share-basics', fields.name, fields.path, fields.comment),
    h('div.protocols', protocolBox(smbOn, 'SMB — Windows, macOS, Linux', smbSet), protocolBox(nfsOn, 'NFS — Linux and Unix', nfsSet)),
    h('div.toolbar', submit, h('button', { type: 'button', onclick: () => onDone(true) }, 'Cancel')),
  );
}

/* ---- the folder's permissions --------------------------------------------- */

async function permissionsDialog(s, env, status) {
  const f = s.folder || {};
  const inputs = {
    owner: h('input', { value: f.owner || '', list: 'share-user-names', maxLength: 32, spellcheck: false, autocomplete: 'off' }),
    group: h('input', { value: f.group || '', list: 'share-group-names', maxLength: 32, spellcheck: false, autocomplete: 'off' }),
    mode: h('input', { value: f.mode || '', maxLength: 5, spellcheck: false, autocomplete: 'off', inputMode: 'numeric', pattern: '[0-7]{3,4}' }),
    acl: h('textarea', { rows: 4, spellcheck: false }, (f.acl || []).join('\n')),
  };
  const fields = {
    owner: field('Owner', inputs.owner, null, { name: 'owner' }),
    group: field('Group', inputs.group, null, { name: 'group' }),
    mode: field('Mode', inputs.mode, 'Octal, e.g. 2775: the owner and group may write, others read; 2 keeps the group on new files.', { name: 'mode' }),
    acl: field('Access control list', inputs.acl, 'One entry a line as setfacl takes them: u:alice:rwx, g:staff:rwx, d:g:staff:rwx for what new files inherit. Empty: no ACL.', { name: 'acl' }),
  };
  const current = h(
    'dl.kv',
    h('dt', 'Folder'),
    h('dd.mono', s.path),
    h('dt', 'Now'),
    h('dd', `${f.owner || '?'}:${f.group || '?'} ${f.mode || '?'}`),
    (f.default_acl || []).length ? [h('dt', 'Inherited ACL'), h('dd.mono', f.default_acl.join(', '))] : null,
  );
  let answer = null;
  const ok = await formDialog(`Permissions of ${s.name}`, [current, fields.owner, fields.group, fields.mode, fields.acl, h('datalist#share-user-names', env.users.map((u) => h('option', { value: u.name }))), h('datalist#share-group-names', env.groups.map((g) => h('option', { value: g.name })))], 'Review…', async () => {
    for (const x of Object.values(fields)) x.setError(null);
    const body = {};
    if (inputs.owner.value.trim() !== (f.owner || '')) body.owner = inputs.owner.value.trim();
    if (inputs.group.value.trim() !== (f.group || '')) body.group = inputs.group.value.trim();
    if (inputs.mode.value.trim() !== (f.mode || '')) {
      if (!/^[0-7]{3,4}$/.test(inputs.mode.value.trim())) {
        fields.mode.setError('Three or four octal digits, e.g. 2775.');
        inputs.mode.focus();
        return false;
      }
      body.mode = inputs.mode.value.trim();
    }
    const acl = inputs.acl.value
      .split('\n')
      .map((x) => x.trim())
      .filter(Boolean);
    if (!same(acl, f.acl || [])) body.acl = acl.join(',');
    if (!Object.keys(body).length) {
      fields.owner.setError('Nothing to change.');
      return false;
    }
    answer = await planned('POST', `/api/v1/shares/${seg(s.name)}/folder`, body, `Change the permissions of ${s.path}?`, fields, status);
    return !!answer;
  });
  return ok ? answer : null;
}

/* ---- share points ------------------------------------------------------------ */

function protocolBadges(s) {
  const smb = s.smb || {};
  const nfs = s.nfs || {};
  const out = [];
  if (smb.enabled) out.push(badge('SMB', 'info'));
  if (nfs.enabled) out.push(badge('NFS', 'info'));
  if (smb.enabled && smb.time_machine) out.push(h('span', { title: `Time Machine, ${sizeText(smb.time_machine_max_size)}` }, badge('Time Machine', 'ok')));
  if (smb.enabled && smb.guest_ok) out.push(h('span', { title: 'anyone may connect without a password' }, badge('Guest', 'warn')));
  if (!out.length) out.push(badge('not served', 'muted'));
  return h('span.protocols-cell', { 'data-protocols': s.protocols || '' }, out);
}

function accessCell(s) {
  const smb = s.smb || {};
  const nfs = s.nfs || {};
  const parts = [];
  if (smb.enabled) {
    parts.push(h('div', badge(smb.read_only ? 'read-only' : 'read-write', smb.read_only ? 'muted' : 'ok'), ' ', (smb.valid_users || []).length ? smb.valid_users.join(', ') : h('span.muted', 'every Samba user')));
    if (smb.time_machine) parts.push(h('div.muted', `Time Machine: ${sizeText(smb.time_machine_max_size)}`));
  }
  if (nfs.enabled) parts.push(h('div', h('span.muted', 'NFS: '), (nfs.clients || []).length ? nfs.clients.map(clientText).join('; ') : h('span.muted', 'no clients')));
  return parts.length ? parts : h('span.muted', '–');
}

function folderCell(s) {
  const f = s.folder || {};
  return [
    s.path ? h('div.mono', s.path) : h('span.muted', s.name === 'homes' ? "each user's home" : '–'),
    f.owner || f.mode ? h('div.muted', { 'data-folder': s.name }, `${f.owner || '?'}:${f.group || '?'} ${f.mode || ''}${(f.acl || []).length ? ' + ACL' : ''}`) : null,
  ];
}

function warningsCell(s) {
  const w = s.warnings || [];
  return w.length ? h('ul.share-warnings', w.map((x) => h('li', x))) : h('span.muted', 'none');
}

async function sharesPart(el, env, status, onChange) {
  const formEl = h('div');
  const listEl = h('div');
  const newBtn = h('button.primary#new-share', { type: 'button', onclick: () => openForm(null) }, 'New share point');

  function done(cancelled, message, auditId) {
    clear(formEl);
    newBtn.focus();
    if (cancelled) return;
    clear(status, notice('ok', auditId ? `${message.replace(/\.$/, '')} (audit record ${auditId}).` : message));
    load().catch((e) => clear(listEl, notice('error', errorText(e))));
    onChange();
  }

  async function openForm(s) {
    clear(formEl, shareForm(s, env, done, status));
    formEl.querySelector('input:not([readonly])').focus();
  }

  async function action(ev, fn) {
    await busy(ev.currentTarget, async () => {
      try {
        await fn();
      } catch (e) {
        clear(status, notice('error', errorText(e)));
      }
    });
  }

  function rowActions(s) {
    const managed = s.source !== 'smb.conf';
    return h(
      'div.toolbar.row-actions',
      managed
        ? h('button.small', { type: 'button', 'aria-label': `Edit ${s.name}`, onclick: async () => openForm(await get(`/api/v1/shares/${seg(s.name)}`).then((r) => r.share || r, () => s)) }, 'Edit')
        : s.importable !== false && h(
            'button.small',
            {
              type: 'button',
              'aria-label': `Import ${s.name} from smb.conf`,
              onclick: (ev) =>
                action(ev, async () => {
                  const r = await planned('PATCH', `/api/v1/shares/${seg(s.name)}`, { source: 'steward' }, `Manage ${s.name} here (move it out of smb.conf)?`, null, status);
                  if (r) done(false, `${s.name} is managed here now.`, r.audit_id);
                }),
            },
            'Import',
          ),
      /* homes has no folder of its own: each user's home is theirs. */
      s.path && h(
        'button.small',
        {
          type: 'button',
          'aria-label': `Change permissions of ${s.name}`,
          onclick: (ev) =>
            action(ev, async () => {
              const r = await permissionsDialog(s, env, status);
              if (r) done(false, `The permissions of ${s.path} changed.`, r.audit_id);
            }),
        },
        'Change permissions',
      ),
      h(
        'button.small',
        {
          type: 'button',
          'aria-label': `Close ${s.name} for everyone`,
          onclick: (ev) =>
            action(ev, async () => {
              if (!(await confirm(`Close ${s.name}?`, h('p', `Everyone using ${s.name} is disconnected from it now; their other shares stay open, and they may connect again.`), 'Close share', true))) return;
              await post(`/api/v1/shares/${seg(s.name)}/close`, {});
              clear(status, notice('ok', `${s.name} closed for everyone connected to it.`));
              onChange();
            }),
        },
        'Close share',
      ),
      managed
        ? h(
            'button.small',
            {
              type: 'button',
              'aria-label': `Delete ${s.name}`,
              onclick: (ev) =>
                action(ev, async () => {
                  if (!(await confirm(`Stop sharing ${s.name}?`, h('p', `Clients lose ${s.name} at once. The folder ${s.path} and its files stay.`), 'Review…', true))) return;
                  const r = await planned('DELETE', `/api/v1/shares/${seg(s.name)}`, undefined, `Delete the share point ${s.name}?`, null, status);
                  if (r) done(false, `${s.name} is no longer shared.`, r.audit_id);
                }),
            },
            'Delete',
          )
        : null,
    );
  }

  async function load() {
    const r = await get('/api/v1/shares');
    const shares = r.shares || [];
    clear(
      listEl,
      shares.length
        ? table(
            [
              { label: 'Name', cell: (s) => [h('strong', { 'data-share': s.name }, s.name), s.comment ? h('div.muted', s.comment) : null, s.source === 'smb.conf' ? h('div', badge('in smb.conf', 'muted')) : null] },
              { label: 'Folder', cell: folderCell },
              { label: 'Protocols', cell: protocolBadges },
              { label: 'Access', cell: accessCell },
              { label: 'Warnings', cell: warningsCell },
              env.admin ? { label: 'Actions', cell: rowActions } : null,
            ].filter(Boolean),
            shares,
            { class: 'shares', label: 'share points' },
          )
        : h('div.empty-state', h('p', 'No share points yet.'), h('p.muted', `Choose New share point to publish a folder under ${env.roots.join(', ') || '/srv'} over SMB (Windows, macOS, Linux) or NFS.`)),
    );
  }

  clear(
    el,
    h(
      'div.section-head',
      h('h2', 'Share points'),
      env.admin ? newBtn : h('span.muted', 'Changes need the admin role.'),
      h('a', { href: '#/modules/shares' }, 'SMB settings (workgroup, protocols, signing, encryption…)'),
    ),
    formEl,
    listEl,
  );
  try {
    await load();
  } catch (e) {
    newBtn.disabled = e.status === 404;
    clear(listEl, notice(e.status === 404 || e.status === 501 ? 'info' : 'error', errorText(e)));
  }
}

/* ---- connected users ------------------------------------------------------ */

function connectionsPart(el, status, admin) {
  const body = h('div');
  let last = null;

  /* Samba ends every session from the client's address (kill-client-ip),
   * so the confirmation says so; the answer names each that ended. */
  async function disconnect(c, button) {
    const who = `${c.user || 'an unknown user'} on ${c.client || 'an unknown machine'}`;
    const from = c.address || c.client || 'that machine';
    if (!(await confirm(`Disconnect ${who}?`, h('p', `Every SMB session from ${from} ends now, from every share of this server; files open there may lose unsaved changes. The client may connect again.`), 'Disconnect', true))) return;
    await busy(button, async () => {
      try {
        const r = await del(`/api/v1/modules/shares/connections/${seg(c.id)}`);
        const ended = ((r && r.ended) || []).map((e) => e.user).filter(Boolean);
        clear(status, notice('ok', `Disconnected ${ended.length ? [...new Set(ended)].join(', ') : who} (${from}).`));
        await load();
      } catch (e) {
        clear(status, notice('error', errorText(e)));
      }
    });
  }

  function show(r) {
    last = r;
    const conns = (r && r.connections) || [];
    clear(
      body,
      r && r.smbd_running === false ? notice('warn', 'Samba (smbd) is not running: SMB shares are not served. Start it from the services page.') : null,
      table(
        [
          { label: 'User', cell: (c) => h('strong', { 'data-connection': c.id }, c.user || (c.protocol === 'nfs' ? 'NFS client' : '–')) },
          { label: 'Client', cell: (c) => h('span.mono', c.client || '–') },
          { label: 'Share', cell: (c) => c.share || h('span.muted', c.protocol === 'nfs' ? '–' : 'none open') },
          { label: 'Protocol', cell: (c) => [badge((c.protocol || '?').toUpperCase(), 'info'), c.dialect ? h('span.muted', ` ${c.dialect}`) : null] },
          { label: 'Since', cell: (c) => (c.since ? when(c.since) : '–') },
          {
            label: 'Security',
            cell: (c) => (c.protocol === 'nfs' ? h('span.muted', '–') : [c.encrypted ? badge('encrypted', 'ok') : badge('not encrypted', 'warn'), c.signed ? badge('signed', 'ok') : null]),
          },
          { label: 'Open files', class: 'num', cell: (c) => (c.open_files === undefined ? '–' : String(Array.isArray(c.open_files) ? c.open_files.length : c.open_files)) },
          /* An NFS client mounts again while an export allows it: it is
           * ended by changing the share's clients. */
          admin
            ? {
                label: 'Actions',
                cell: (c) =>
                  c.protocol === 'nfs'
                    ? h('span.muted', 'change the share’s NFS clients')
                    : h('button.small', { type: 'button', 'aria-label': `Disconnect ${c.user || c.id} on ${c.client || '?'}`, onclick: (ev) => disconnect(c, ev.currentTarget) }, 'Disconnect'),
              }
            : null,
        ].filter(Boolean),
        conns,
        { class: 'connections', label: 'connected users', empty: 'Nobody is connected. Clients appear here as they connect.' },
      ),
    );
  }

  async function load() {
    try {
      show(await get('/api/v1/modules/shares/connections'));
    } catch (e) {
      clear(body, notice(e.status === 404 || e.status === 501 ? 'info' : 'error', `Who is connected cannot be shown: ${errorText(e)}`));
    }
  }

  clear(el, h('div.section-head', h('h2', 'Connected users'), h('span.muted.live-note', 'Updates as clients come and go.')), body);
  return { load, show, current: () => last };
}

/* ---- Samba accounts ----------------------------------------------------------- */

function passwordFields() {
  const pw = h('input', { type: 'password', autocomplete: 'new-password', maxLength: 256 });
  const again = h('input', { type: 'password', autocomplete: 'new-password', maxLength: 256 });
  const fields = { password: field('SMB password', pw, 'Samba keeps its own passwords; this one is for file sharing only.', { name: 'password' }), again: field('Again', again) };
  fields.read = () => {
    fields.password.setError(null);
    fields.again.setError(null);
    if (!pw.value) {
      fields.password.setError('Enter a password.');
      pw.focus();
      return null;
    }
    if (pw.value !== again.value) {
      fields.again.setError('The two passwords differ.');
      again.focus();
      return null;
    }
    return pw.value;
  };
  return fields;
}

function accountsPart(el, env, status) {
  const body = h('div');
  const command = (args) => post('/api/v1/modules/shares/commands/smb_account', args);

  async function run(fn) {
    try {
      await fn();
    } catch (e) {
      clear(status, notice('error', errorText(e)));
    }
  }

  async function setPassword(user) {
    const f = passwordFields();
    const done = await formDialog(`SMB password of ${user}`, [f.password, f.again], 'Set password', async () => {
      const pw = f.read();
      if (!pw) return false;
      try {
        await command({ user, password: pw });
        return true;
      } catch (e) {
        f.password.setError(errorText(e));
        return false;
      }
    });
    if (done) {
      clear(status, notice('ok', `The SMB password of ${user} is set.`));
      await load();
    }
  }

  async function addAccount(known) {
    const candidates = env.users.map((u) => u.name).filter((n) => !known.includes(n));
    const user = h('input', { list: 'smb-account-candidates', spellcheck: false, autocomplete: 'off', maxLength: 32 });
    const fu = field('User', user, 'A user of this server.', { name: 'user' });
    const f = passwordFields();
    const done = await formDialog('Give a user SMB access', [fu, h('datalist#smb-account-candidates', candidates.map((n) => h('option', { value: n }))), f.password, f.again], 'Add', async () => {
      fu.setError(null);
      if (!user.value.trim()) {
        fu.setError('Name a user.');
        user.focus();
        return false;
      }
      const pw = f.read();
      if (!pw) return false;
      try {
        await command({ user: user.value.trim(), password: pw });
        return user.value.trim();
      } catch (e) {
        (e.field === 'user' ? fu : f.password).setError(errorText(e));
        return false;
      }
    });
    if (done) {
      clear(status, notice('ok', `${done} may use SMB shares now.`));
      await load();
    }
  }

  async function load() {
    let r;
    try {
      r = await get('/api/v1/modules/shares/smb-users');
    } catch (e) {
      clear(body, notice(e.status === 404 || e.status === 501 ? 'info' : 'error', `Samba's accounts cannot be shown: ${errorText(e)}`));
      return;
    }
    const accounts = r.smb_users || [];
    clear(
      body,
      env.admin ? h('div.toolbar', h('button#add-smb-account', { type: 'button', onclick: () => addAccount(accounts.map((a) => a.name)) }, 'Give a user SMB access…')) : null,
      table(
        [
          { label: 'User', cell: (a) => h('strong', { 'data-smb-user': a.name }, a.name) },
          { label: 'Full name', cell: (a) => a.full_name || '' },
          { label: 'SMB access', cell: (a) => badge(a.enabled === false ? 'disabled' : 'enabled', a.enabled === false ? 'muted' : 'ok') },
          env.admin
            ? {
                label: 'Actions',
                cell: (a) =>
                  h(
                    'div.toolbar.row-actions',
                    h('button.small', { type: 'button', 'aria-label': `Set the SMB password of ${a.name}`, onclick: () => run(() => setPassword(a.name)) }, 'Set password…'),
                    h(
                      'button.small',
                      {
                        type: 'button',
                        'aria-label': `${a.enabled === false ? 'Enable' : 'Disable'} SMB for ${a.name}`,
                        onclick: (ev) =>
                          busy(ev.currentTarget, () =>
                            run(async () => {
                              const enable = a.enabled === false;
                              if (!enable && !(await confirm(`Disable SMB for ${a.name}?`, h('p', `${a.name} can no longer connect to SMB shares; the password is kept.`), 'Disable', true))) return;
                              await command({ user: a.name, enabled: enable });
                              clear(status, notice('ok', `SMB ${enable ? 'enabled' : 'disabled'} for ${a.name}.`));
                              await load();
                            }),
                          ),
                      },
                      a.enabled === false ? 'Enable' : 'Disable',
                    ),
                    h(
                      'button.small',
                      {
                        type: 'button',
                        'aria-label': `Remove the Samba account of ${a.name}`,
                        onclick: (ev) =>
                          busy(ev.currentTarget, () =>
                            run(async () => {
                              if (!(await confirm(`Remove ${a.name} from Samba?`, h('p', `${a.name}'s SMB password is forgotten; the user account stays.`), 'Remove', true))) return;
                              await command({ user: a.name, remove: true });
                              clear(status, notice('ok', `${a.name} removed from Samba.`));
                              await load();
                            }),
                          ),
                      },
                      'Remove',
                    ),
                  ),
              }
            : null,
        ].filter(Boolean),
        accounts,
        { class: 'smb-users', label: 'Samba accounts', empty: 'No user has an SMB password yet: give one SMB access, or users cannot connect (except to guest shares).' },
      ),
    );
  }

  clear(el, h('div.section-head', h('h2', 'Samba accounts')), body);
  return { load };
}

/* ---- the page ----------------------------------------------------------------- */

async function environment(ctx) {
  const [settings, users, groups] = await Promise.all([
    get('/api/v1/modules/shares/settings').catch(() => ({})),
    get('/api/v1/users?limit=2000').catch(() => ({ users: [] })),
    get('/api/v1/groups').catch(() => ({ groups: [] })),
  ]);
  const roots = Array.isArray(settings.roots) && settings.roots.length ? settings.roots.filter((r) => typeof r === 'string') : ['/srv'];
  /* Changes are an admin's (the API says so too): others get no buttons. */
  return { roots, users: users.users || [], groups: groups.groups || [], admin: ctx?.me?.role === 'admin' };
}

export async function render(view, ctx) {
  const status = h('div.page-status', { 'aria-live': 'polite' });
  const sharesEl = h('section.panel', { 'aria-label': 'Share points' });
  const connEl = h('section.panel', { 'aria-label': 'Connected users' });
  const acctEl = h('section.panel', { 'aria-label': 'Samba accounts' });
  const title = h('h1', 'File sharing');
  clear(view, title, status, sharesEl, connEl, acctEl);
  const env = await environment(ctx);
  const conns = connectionsPart(connEl, status, env.admin);
  const accounts = accountsPart(acctEl, env, status);
  /* The connections list as the route answers it, each time it changes. */
  const onConnections = (ev) => {
    if (ev.detail && typeof ev.detail === 'object') conns.show(ev.detail);
  };
  ctx.bus.addEventListener('share_connections', onConnections);
  await Promise.all([sharesPart(sharesEl, env, status, () => conns.load()), conns.load(), accounts.load()]);
  /* Every part has answered (the browser tests wait for this). */
  title.dataset.loaded = '';
  return () => ctx.bus.removeEventListener('share_connections', onConnections);
}
