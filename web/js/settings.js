/* settings.js — a module's settings page, generated from its schema
 * (GET /api/v1/modules/{m}/schema), so every module gets one without code of
 * its own.
 *
 * Each setting gets the input of its type (string → text, integer → number
 * with min/max, boolean → checkbox, enum → select, string_array → one item a
 * line), its bounds enforced before anything is sent, and its description as
 * help.  Save sends only what changed, first with ?dry_run=1: the plan (the
 * files' diffs) is shown, and the change is applied only on confirmation.  An
 * error naming a field is shown next to that field.  The module's commands
 * get generated forms the same way, and their answers are shown as lists and
 * tables (valueView), never as JSON.
 *
 * Labels are the keys in words ("Max connections"; the key itself stays in
 * the field's title and beside it, for the CLI); the module's status facts
 * read with their units (ui.js humanValue).  A string setting whose schema
 * names choices_from gets a picker of that collection's items (the time
 * zone: the timezones collection), grouped by region.  The Review button and
 * the answer of Apply live in a bar that stays at the bottom of the window
 * on a long form, and focus moves to the answer. */
import { get, patch, post, seg } from './api.js';
import { h, clear, field, notice, badge, stateBadge, filesView, modal, busy, errorText, humanize, valueView } from './ui.js';

function treeGet(tree, key) {
  let v = tree;
  for (const k of key.split(':')) {
    if (v === null || typeof v !== 'object' || !(k in v)) return undefined;
    v = v[k];
  }
  return v;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/* An input for one setting or command argument; returns {el, read(), write(v)}. */
export function inputFor(def, idBase) {
  const id = `${idBase}-${def.key || def.name}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const ro = !!def.read_only;
  let el;
  let read;
  let write;
  switch (def.type) {
    case 'boolean':
      el = h('input', { id, type: 'checkbox', disabled: ro });
      read = () => el.checked;
      write = (v) => (el.checked = !!v);
      break;
    case 'integer':
      el = h('input', { id, type: 'number', step: 1, inputMode: 'numeric', disabled: ro, min: def.min, max: def.max });
      read = () => (el.value.trim() === '' ? null : Number(el.value));
      write = (v) => (el.value = v === undefined || v === null ? '' : String(v));
      break;
    case 'enum':
      el = h('select', { id, disabled: ro }, (def.choices || []).map((c) => h('option', { value: c }, c)));
      read = () => el.value;
      write = (v) => (el.value = v === undefined || v === null ? '' : String(v));
      break;
    case 'string_array':
      el = h('textarea', { id, rows: 3, disabled: ro, spellcheck: false });
      read = () =>
        el.value
          .split('\n')
          .map((s) => s.trim())
          .filter((s) => s !== '');
      write = (v) => (el.value = Array.isArray(v) ? v.join('\n') : '');
      break;
    default:
      if (def.options) {
        /* A picker over the usual values (choices_from), grouped by region. */
        const groups = new Map();
        for (const o of def.options) {
          const g = o.value.includes('/') ? o.value.split('/')[0] : '';
          if (!groups.has(g)) groups.set(g, []);
          groups.get(g).push(h('option', { value: o.value }, o.label));
        }
        el = h('select', { id, disabled: ro }, [...groups].map(([g, opts]) => (g ? h('optgroup', { label: g }, opts) : opts)));
        read = () => el.value;
        write = (v) => {
          const s = v === undefined || v === null ? '' : String(v);
          if (s && ![...el.options].some((o) => o.value === s)) el.prepend(h('option', { value: s }, s));
          el.value = s;
        };
        break;
      }
      el = h('input', { id, type: 'text', disabled: ro, spellcheck: false, minLength: def.min || undefined, maxLength: def.max || undefined });
      read = () => el.value;
      write = (v) => (el.value = v === undefined || v === null ? '' : String(v));
  }
  if (def.required) el.required = true;
  return { el, read, write };
}

/* The schema's bounds, checked here so that a bad value never leaves the
 * browser; the server checks again. */
export function checkValue(def, v) {
  if (def.type === 'integer') {
    if (v === null || !Number.isInteger(v)) return 'Enter a whole number.';
    if (def.min !== undefined && v < def.min) return `At least ${def.min}.`;
    if (def.max !== undefined && v > def.max) return `At most ${def.max}.`;
  } else if (def.type === 'string') {
    if (def.required && v === '') return 'Required.';
    if (def.min !== undefined && v.length < def.min && (def.required || v !== '' || def.key)) return `At least ${def.min} characters.`;
    if (def.max !== undefined && v.length > def.max) return `At most ${def.max} characters.`;
  } else if (def.type === 'enum') {
    if (!(def.choices || []).includes(v)) return `One of: ${(def.choices || []).join(', ')}.`;
  } else if (def.type === 'string_array') {
    if (def.min !== undefined && v.length < def.min) return `At least ${def.min} items.`;
    if (def.max !== undefined && v.length > def.max) return `At most ${def.max} items, one a line.`;
  }
  return null;
}

function helpText(def) {
  const parts = [def.description || ''];
  if (def.type === 'integer' && (def.min !== undefined || def.max !== undefined)) parts.push(`(${def.min ?? '…'} to ${def.max ?? '…'})`);
  if (def.type === 'string_array') parts.push(`— one a line${def.max !== undefined ? `, at most ${def.max}` : ''}`);
  return parts.filter(Boolean).join(' ');
}

export function planView(plan) {
  return [
    plan.changed && plan.changed.length ? h('p', 'Changes: ', plan.changed.map((k) => h('code', k)).reduce((a, b) => [a, ', ', b])) : null,
    plan.restart_required ? h('p', badge('needs restart', 'warn'), ' Some of these take effect only after stewardd restarts.') : null,
    filesView(plan.files),
  ];
}

function commandForm(m, cmd, status) {
  const inputs = (cmd.args || []).map((a) => ({ def: a, ...inputFor(a, `cmd-${m}-${cmd.name}`) }));
  const fields = inputs.map((i) => field(humanize(i.def.name, true) + (i.def.required ? '' : ' (optional)'), i.el, helpText(i.def), { name: i.def.name }));
  const out = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, `Run ${humanize(cmd.name).toLowerCase()}`);
  return h(
    'form.panel.command',
    {
      'aria-label': `command ${cmd.name}`,
      onsubmit: async (ev) => {
        ev.preventDefault();
        const args = {};
        let bad = false;
        inputs.forEach((i, k) => {
          const v = i.read();
          const blank = v === '' || v === null;
          const err = blank && !i.def.required ? null : checkValue(i.def, v);
          fields[k].setError(err);
          if (err) bad = true;
          if (!blank) args[i.def.name] = v;
        });
        if (bad) return;
        if (cmd.changes_state) {
          const ok = await modal(`Run ${humanize(cmd.name).toLowerCase()} on ${m}?`, h('p', cmd.summary), [
            { label: 'Cancel', value: 'cancel' },
            { label: 'Run', value: 'ok', primary: true },
          ]);
          if (ok !== 'ok') return;
        }
        await busy(button, async () => {
          try {
            const r = await post(`/api/v1/modules/${seg(m)}/commands/${seg(cmd.name)}`, args);
            clear(out, h('div.result', { tabIndex: -1 }, h('h4', 'Result'), valueView(r)));
            out.firstChild.focus();
          } catch (e) {
            const f = e.field && fields[inputs.findIndex((i) => i.def.name === e.field)];
            if (f) f.setError(e.message);
            else clear(out, notice('error', errorText(e)));
          }
        });
      },
    },
    h(
      'h3',
      humanize(cmd.name),
      ' ',
      cmd.changes_state ? badge('changes state', 'warn') : null,
      ' ',
      cmd.min_role ? h('span', { 'data-min-role': cmd.min_role, title: `who may run it: ${cmd.min_role} and up` }, badge(`${cmd.min_role}+`, 'muted')) : null,
      ' ',
      h('code.key', cmd.name),
    ),
    h('p.muted', cmd.summary),
    fields,
    button,
    out,
  );
}

/* The usual values of settings that name a collection (choices_from), as
 * {value, label}; a setting whose list cannot be read keeps a text field. */
async function loadOptions(defs) {
  await Promise.all(
    defs
      .filter((d) => d.type === 'string' && d.choices_from && !d.read_only)
      .map(async (d) => {
        try {
          const r = await get(`/api/v1/${seg(d.choices_from)}`);
          const items = r[d.choices_from] || [];
          d.options = items
            .filter((it) => it && typeof it.name === 'string')
            .map((it) => ({ value: it.name, label: it.utc_offset_now ? `${it.name} (UTC${it.utc_offset_now})` : it.name }));
          if (!d.options.length) delete d.options;
        } catch {
          delete d.options;
        }
      }),
  );
}

const groupTitle = (g) => (g === 'general' ? 'General' : g.split(':').map(humanize).join(' › '));

export async function render(view, ctx, name) {
  const [schema, st] = await Promise.all([get(`/api/v1/modules/${seg(name)}/schema`), get(`/api/v1/modules/${seg(name)}`)]);
  let current = await get(`/api/v1/modules/${seg(name)}/settings`);
  const defs = schema.settings || [];
  await loadOptions(defs);
  const status = h('div.action-status', { 'aria-live': 'polite', tabIndex: -1 });
  const items = defs.map((def) => {
    const inp = inputFor(def, `set-${name}`);
    const badges = [def.restart ? badge('needs restart', 'warn') : null, def.read_only ? badge('read-only', 'muted') : null].filter(Boolean);
    const f = field(humanize(def.key.split(':').pop(), true), inp.el, [helpText(def), ' ', h('code.key', def.key)], {
      name: def.key,
      badge: badges.length ? [' ', ...badges] : null,
    });
    f.title = def.key;
    return { def, ...inp, f };
  });
  const fill = () => {
    for (const it of items) {
      it.write(treeGet(current, it.def.key));
      it.f.setError(null);
      it.f.classList.remove('changed');
    }
  };
  for (const it of items) {
    it.el.addEventListener('input', () => it.f.classList.toggle('changed', !same(it.read(), treeGet(current, it.def.key))));
    it.el.addEventListener('change', () => it.f.classList.toggle('changed', !same(it.read(), treeGet(current, it.def.key))));
  }

  /* Group by the key's leading components. */
  const groups = new Map();
  for (const it of items) {
    const g = it.def.key.includes(':') ? it.def.key.split(':').slice(0, -1).join(':') : 'general';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(it);
  }

  const save = h('button.primary', { type: 'submit' }, 'Review changes…');
  const reset = h('button', { type: 'button', onclick: () => { fill(); clear(status); } }, 'Discard');
  const form = h(
    'form.settings-form',
    { novalidate: true, 'aria-label': `${name} settings`, onsubmit: (ev) => { ev.preventDefault(); review(); } },
    [...groups].map(([g, its]) => h('fieldset', h('legend', groupTitle(g)), its.map((it) => it.f))),
    defs.length ? h('div.action-bar', h('div.toolbar', save, reset), status) : h('p.muted', 'This module has no settings.'),
  );

  /* An answer next to the buttons, focused so that it is read and seen. */
  function say(...nodes) {
    clear(status, ...nodes);
    status.focus({ preventScroll: true });
  }

  async function review() {
    clear(status);
    const changes = {};
    let bad = null;
    for (const it of items) {
      if (it.def.read_only) continue;
      const v = it.read();
      if (same(v, treeGet(current, it.def.key))) {
        it.f.setError(null);
        continue;
      }
      const err = checkValue(it.def, v);
      it.f.setError(err);
      if (err && !bad) bad = it;
      changes[it.def.key] = v;
    }
    if (bad) {
      bad.el.focus();
      return;
    }
    if (!Object.keys(changes).length) {
      say(notice('info', 'Nothing to save: no value differs from the current one.'));
      return;
    }
    await busy(save, async () => {
      let plan;
      try {
        plan = await patch(`/api/v1/modules/${seg(name)}/settings?dry_run=1`, changes);
      } catch (e) {
        showError(e);
        return;
      }
      const v = await modal(`Apply these changes to ${name}?`, h('div.plan', planView(plan)), [
        { label: 'Cancel', value: 'cancel' },
        { label: 'Apply', value: 'apply', primary: true },
      ]);
      if (v !== 'apply') {
        say(notice('info', 'Nothing was changed.'));
        return;
      }
      try {
        const r = await patch(`/api/v1/modules/${seg(name)}/settings`, changes);
        current = await get(`/api/v1/modules/${seg(name)}/settings`);
        fill();
        say(
          notice('ok', `Applied: ${(r.changed || []).map((k) => humanize(k.split(':').pop())).join(', ')}.${r.restart_required ? ' A restart is needed for some of it.' : ''}`),
          r.audit_id ? h('a', { href: `#/audit/${r.audit_id}` }, `Audit record #${r.audit_id}`) : null,
        );
      } catch (e) {
        showError(e);
      }
    });
  }

  function showError(e) {
    const it = e.field && items.find((i) => i.def.key === e.field);
    if (it) {
      it.f.setError(e.message);
      clear(status, notice('error', `Not saved: ${e.message}`));
      it.el.focus();
    } else say(notice('error', `Not saved: ${errorText(e)}`));
  }

  fill();
  const facts = Object.fromEntries(Object.entries(st).filter(([k]) => !['name', 'summary', 'state', 'reason', 'error'].includes(k)));
  clear(
    view,
    h('p', h('a', { href: '#/modules' }, '← Modules')),
    h('h1', `${name} `, stateBadge(st.state, st.reason || st.error)),
    h('p.muted', schema.summary),
    Object.keys(facts).length ? h('section.panel.status', { 'aria-label': `${name} status` }, valueView(facts)) : null,
    (schema.collections || []).length
      ? h('p.collections', 'Lists: ', schema.collections.map((c) => h('a', { href: `#/collections/${seg(c.name)}` }, humanize(c.name))).reduce((a, b) => [a, ' · ', b]))
      : null,
    h('h2', 'Settings'),
    form,
    (schema.commands || []).length ? [h('h2', 'Commands'), schema.commands.map((c) => commandForm(name, c, status))] : null,
  );
}
