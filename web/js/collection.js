/* collection.js — the generic page of a collection (users, groups, …),
 * built from the schema its module publishes (GET
 * /api/v1/modules/{m}/schema, "collection_schemas"): the list table from
 * its columns, a name filter when it takes a prefix, a select for each query
 * argument with choices (the server filters), a form from the fields
 * it lets one write (create: the create fields; edit: the modify fields,
 * filled from the item, and only what changed is sent; an object field's
 * described members each an input, sent nested), and delete.  Every
 * write goes through the review-before-apply dialog (plan.js).  Each item
 * action the collection declares ("actions": POST
 * /api/v1/{collection}/{id}/{action}) is a button on the item's row
 * (actionButtons, which other pages use too): its arguments asked in a
 * dialog, a confirmation naming the item, and for an action that changes
 * state the dry run's plan first.  Nothing here names a collection.
 *
 * Routes: #/collections/NAME, and any page that embeds a collection
 * (collectionView). */
import { get, post, seg } from './api.js';
import { planned, showPassword, showError } from './plan.js';
import { h, clear, table, notice, busy, errorText, field, humanValue, humanize, modal, confirm, when } from './ui.js';

const ROLES = ['monitor', 'operator', 'admin'];
/* "expire-password" → "Expire password". */
const actionLabel = (name) => humanize(String(name).replace(/-/g, '_'));

const words = (s) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/* The module each collection found belongs to (its page may be the one
 * made for it). */
const ownerOf = new Map();

/* The schema of a collection: in the module of its name, else in any. */
export async function collectionSchema(name) {
  const find = (m) => (m.collection_schemas || []).find((c) => c.name === name);
  try {
    const s = find(await get(`/api/v1/modules/${seg(name)}/schema`));
    if (s) {
      ownerOf.set(name, name);
      return s;
    }
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  const { modules } = await get('/api/v1/modules');
  for (const m of modules) {
    const s = find(await get(`/api/v1/modules/${seg(m.name)}/schema`));
    if (s) {
      ownerOf.set(name, m.name);
      return s;
    }
  }
  return null;
}

function cellText(v) {
  if (Array.isArray(v)) return v.join(', ');
  if (v === true) return 'yes';
  if (v === false) return 'no';
  if (v === null || v === undefined) return '';
  return String(v);
}

/* An input for a field, and how to read it back. */
function inputFor(f, value) {
  if (f.type === 'boolean') {
    const i = h('input', { type: 'checkbox', checked: value === true });
    return { input: i, read: () => i.checked, inline: true };
  }
  if (f.type === 'enum') {
    const i = h('select', h('option', { value: '' }, '—'), (f.choices || []).map((c) => h('option', { value: c, selected: c === value }, c)));
    return { input: i, read: () => i.value || undefined };
  }
  if (f.type === 'integer') {
    const i = h('input', { type: 'number', step: 1, min: f.min, max: f.max, value: value ?? '' });
    return { input: i, read: () => (i.value === '' ? undefined : Number(i.value)) };
  }
  if (f.type === 'string_array') {
    const i = h('input', { value: Array.isArray(value) ? value.join(' ') : '', spellcheck: false });
    return { input: i, read: () => words(i.value) };
  }
  const i = h('input', {
    type: f.secret ? 'password' : 'text',
    value: value ?? '',
    maxLength: f.max || undefined,
    spellcheck: false,
    autocomplete: f.secret ? 'new-password' : 'off',
  });
  return { input: i, read: () => (i.value === '' ? undefined : i.value) };
}

/* What an action reports, in one line: "Restart nginx.service: job result
 * done (audit record 12)". */
function actionOutcome(schema, a, id, r) {
  const said = Object.entries(r || {})
    .filter(([k, v]) => k !== 'audit_id' && k !== 'plan' && k !== schema.item && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${humanize(k).toLowerCase()} ${cellText(v)}`);
  const audit = typeof r?.audit_id === 'number' ? ` (audit record ${r.audit_id})` : '';
  return `${actionLabel(a.name)} ${schema.item} ${id}: ${said.length ? said.join(', ') : 'done'}${audit}.`;
}

/* Runs action a on the item id: its arguments in a dialog (if it takes
 * any), then the dry run's plan (changes_state) or a confirmation naming
 * the item; resolves with the answer, or null. */
async function runAction(schema, a, id, status) {
  const path = `/api/v1/${seg(schema.name)}/${seg(id)}/${seg(a.name)}`;
  const title = `${actionLabel(a.name)} ${schema.item} ${id}?`;
  const inputs = (a.args || []).map((arg) => ({ arg, ...inputFor(arg, undefined) }));
  const body = {};
  if (inputs.length) {
    const fields = inputs.map(({ arg, input, inline }) => field(humanize(arg.name, true) + (arg.required ? '' : ' (optional)'), input, arg.description || null, { name: arg.name, inline }));
    const v = await modal(title, [h('p', a.summary || ''), fields], [
      { label: 'Cancel', value: 'cancel' },
      { label: a.changes_state ? 'Review…' : 'Continue', value: 'ok', primary: true },
    ]);
    if (v !== 'ok') return null;
    for (const { arg, read } of inputs) {
      const x = read();
      if (x !== undefined && !(x === false && !arg.required)) body[arg.name] = x;
    }
  }
  if (a.changes_state) return planned('POST', path, body, title, null, status);
  if (!inputs.length && !(await confirm(title, h('p', a.summary || ''), actionLabel(a.name)))) return null;
  try {
    return (await post(path, body)) || {};
  } catch (e) {
    showError(e, null, status);
    return null;
  }
}

/* A button per action of the collection for one item; role (the user's)
 * disables those it may not run.  onDone(answer) after one ran. */
export function actionButtons(schema, item, { status, onDone, role } = {}) {
  const id = String(item[schema.id]);
  return (schema.actions || []).map((a) => {
    const allowed = !role || ROLES.indexOf(role) >= ROLES.indexOf(a.min_role);
    return h(
      'button',
      {
        type: 'button',
        'data-action': a.name,
        'aria-label': `${actionLabel(a.name)} ${schema.item} ${id}`,
        title: allowed ? a.summary || a.name : `${a.summary || a.name} (needs the role ${a.min_role})`,
        disabled: !allowed,
        onclick: async (ev) => {
          await busy(ev.target, async () => {
            const r = await runAction(schema, a, id, status);
            if (!r) return;
            const n = notice('ok', actionOutcome(schema, a, id, r));
            n.tabIndex = -1;
            clear(status, n);
            n.focus();
            if (onDone) await onDone(r);
          });
        },
      },
      actionLabel(a.name),
    );
  });
}

/* The create form (item null) or the edit form of an item. */
function itemForm(schema, item, onDone, status) {
  const isNew = !item;
  const may = (f) => (isNew ? f.create : f.modify) && f.type !== 'object' && f.type !== 'object_array';
  /* The fields it may write; an object's described members each get an
   * input of their own ("SMB: Read-only", named smb.read_only as errors
   * name it), lists of objects being left to the module's own page. */
  const writable = schema.fields.flatMap((f) =>
    f.type === 'object' && Array.isArray(f.fields) && (isNew ? f.create : f.modify)
      ? f.fields.filter(may).map((m) => ({ ...m, name: `${f.name}.${m.name}`, label: (m.label || m.name) === (f.label || f.name) ? m.label || m.name : `${f.label || f.name}: ${m.label || m.name}`, path: [f.name, m.name] }))
      : may(f)
        ? [{ ...f, path: [f.name] }]
        : [],
  );
  const fields = {};
  const readers = [];
  for (const f of writable) {
    const start = isNew ? undefined : f.path.reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), item);
    const { input, read, inline } = inputFor(f, start);
    fields[f.name] = field(f.label || f.name, input, f.description || null, { name: f.name, inline });
    readers.push({ f, read, start });
  }
  const put = (body, path, v) => {
    const o = path.slice(0, -1).reduce((x, k) => (x[k] ??= {}), body);
    o[path[path.length - 1]] = v;
  };
  const submit = h('button.primary', { type: 'submit' }, 'Review…');
  const what = `${schema.item} ${isNew ? '' : item[schema.id]}`.trim();
  return h(
    'form.panel',
    {
      class: `${schema.item}-form`,
      'aria-label': isNew ? `New ${schema.item}` : `Edit ${what}`,
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        const body = {};
        for (const { f, read, start } of readers) {
          const v = read();
          if (v === undefined || (Array.isArray(v) && !v.length && start === undefined) || (v === false && start === undefined)) continue;
          if (!isNew && JSON.stringify(v) === JSON.stringify(start)) continue;
          put(body, f.path, v);
        }
        await busy(submit, async () => {
          const r = isNew
            ? await planned('POST', `/api/v1/${seg(schema.name)}`, body, `Create ${schema.item} ${body[schema.id] || ''}?`, fields, status)
            : await planned('PATCH', `/api/v1/${seg(schema.name)}/${seg(item[schema.id])}`, body, `Change ${what}?`, fields, status);
          if (r) {
            clear(status, notice('ok', isNew ? `${schema.item} ${body[schema.id] || ''} created.` : `${what} changed.`));
            await showPassword(body[schema.id] || item?.[schema.id], r.password);
            onDone();
          }
        });
      },
    },
    h('h3', isNew ? `New ${schema.item}` : `Edit ${what}`),
    Object.values(fields),
    h('div.toolbar', submit, h('button', { type: 'button', onclick: () => onDone(true) }, 'Cancel')),
  );
}

/* The list, its filter, its forms, in el; status hears of the outcome. */
export async function collectionView(el, status, name, me) {
  const schema = await collectionSchema(name);
  if (!schema) {
    clear(el, notice('info', `This server has no collection "${name}".`));
    return;
  }
  const listEl = h('div');
  const formEl = h('div');
  const prefix = schema.query.some((q) => q.name === 'prefix') ? h('input', { type: 'search', spellcheck: false, autocomplete: 'off' }) : null;
  /* A query argument with choices is a filter the server applies; the page
   * starts with its first choice. */
  const filters = schema.query
    .filter((q) => q.type === 'enum' && (q.choices || []).length)
    .map((q) => ({ q, input: h('select', q.choices.map((c) => h('option', { value: c }, c))) }));
  const canCreate = schema.fields.some((f) => f.create);
  const canEdit = schema.fields.some((f) => f.modify);
  const id = (x) => String(x[schema.id]);
  let all = [];

  const actions = {
    label: 'Actions',
    cell: (x) =>
      h(
        'div.toolbar',
        canEdit ? h('button', { type: 'button', 'aria-label': `Edit ${schema.item} ${id(x)}`, onclick: () => clear(formEl, itemForm(schema, x, done, status)) }, 'Edit') : null,
        actionButtons(schema, x, { status, role: me?.role, onDone: () => load().catch((e) => clear(status, notice('error', errorText(e)))) }),
        h(
          'button',
          {
            type: 'button',
            'aria-label': `Delete ${schema.item} ${id(x)}`,
            onclick: async (ev) => {
              await busy(ev.target, async () => {
                const r = await planned('DELETE', `/api/v1/${seg(schema.name)}/${seg(id(x))}`, undefined, `Delete ${schema.item} ${id(x)}?`, null, status);
                if (r) {
                  clear(status, notice('ok', `${schema.item} ${id(x)} deleted.`));
                  await load();
                }
              });
            },
          },
          'Delete',
        ),
      ),
  };
  function draw() {
    const p = prefix ? prefix.value.trim() : '';
    const rows = all.filter((x) => !p || id(x).startsWith(p));
    /* A column whose unit reads in words ("bytes", "seconds") is shown in
     * it (1.2 GiB, 19 min); another unit goes in the header. */
    const readable = (c) => c.unit && ['seconds', 'bytes', 'percent', 'ms', 'us'].includes(c.unit);
    const text = (c, v) =>
      c.unit === 'timestamp' && typeof v === 'number' ? (v ? when(v) : '–') : readable(c) && typeof v === 'number' ? humanValue(`_${c.unit}`, v) : cellText(v);
    const cols = schema.columns.map((c) => ({
      label: c.unit && !readable(c) && c.unit !== 'timestamp' ? `${c.label} (${c.unit})` : c.label,
      class: schema.fields.find((f) => f.name === c.field)?.type === 'integer' ? 'num' : undefined,
      cell: (x) => (c.field === schema.id ? h('strong', text(c, x[c.field])) : text(c, x[c.field])),
    }));
    clear(listEl, table([...cols, actions], rows, { class: schema.name, label: schema.name, empty: `No ${schema.name} match.` }));
  }
  async function load() {
    const list = [];
    const base = filters.map((f) => `${encodeURIComponent(f.q.name)}=${encodeURIComponent(f.input.value)}`);
    let q = base.length ? `?${base.join('&')}` : '';
    /* Every page (a cursor names where the last one ended). */
    for (let i = 0; i < 1000; i++) {
      const r = await get(`/api/v1/${seg(schema.name)}${q}`);
      list.push(...(r[schema.name] || []));
      if (typeof r.next !== 'string') break;
      q = `?${[...base, `cursor=${encodeURIComponent(r.next)}`].join('&')}`;
    }
    all = list;
    draw();
  }
  function done(cancelled) {
    clear(formEl);
    if (!cancelled) load().catch((e) => clear(status, notice('error', errorText(e))));
  }
  if (prefix) prefix.addEventListener('input', draw);
  for (const f of filters) f.input.addEventListener('change', () => load().catch((e) => clear(status, notice('error', errorText(e)))));
  clear(
    el,
    h(
      'div.inline-form',
      prefix ? field('Name starts with', prefix) : null,
      filters.map((f) => field(f.q.name.charAt(0).toUpperCase() + f.q.name.slice(1).replace(/_/g, ' '), f.input, null, { name: `filter-${f.q.name}` })),
      h('span.spacer'),
      canCreate ? h('button.primary', { type: 'button', id: `new-${schema.item}`, onclick: () => clear(formEl, itemForm(schema, null, done, status)) }, `New ${schema.item}`) : null,
    ),
    formEl,
    listEl,
  );
  await load();
}

/* #/collections/NAME: a collection on a page of its own. */
export async function render(view, ctx, name) {
  const status = h('div', { 'aria-live': 'polite' });
  const body = h('div');
  /* A title, not a route segment: "time_zones" reads "Time zones". */
  const title = name ? name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, ' ') : 'Collection';
  /* A module that ships a page for its collections (shares: File
   * sharing; alerts for alert_rules) says so; the generic page stays for
   * what the schema alone can do. */
  const madeFor = () => (ctx?.pages || []).find((p) => p.name === name || p.name === ownerOf.get(name));
  const link = h('div');
  clear(view, h('h1', title), link, status, body);
  try {
    await collectionView(body, status, name, ctx?.me);
  } catch (e) {
    clear(body, notice(e.status === 404 ? 'info' : 'error', errorText(e)));
  }
  /* Known once the schema was found: its module's own page, if any. */
  const own = madeFor();
  if (own) clear(link, h('p.muted', h('a', { href: `#/${own.name}` }, own.title), ' is the page made for these.'));
}
