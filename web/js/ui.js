/* ui.js — DOM helpers shared by the pages.
 *
 * Everything is built with createElement and text nodes: no innerHTML, so
 * text from the server (file contents, user names, diffs) can never become
 * markup, and nothing needs an inline style (the CSP forbids them; widths
 * that depend on data use <meter>/<progress>).  Dialogs are native <dialog>
 * elements, which trap focus and close on Escape. */

/* h('tag#id.class', {attr: v, onclick: fn}, child, …): an element. */
export function h(spec, attrs, ...children) {
  let tag = 'div';
  let id = null;
  const classes = [];
  for (const [, mark, name] of spec.matchAll(/([.#]?)([^.#]+)/g)) {
    if (mark === '.') classes.push(name);
    else if (mark === '#') id = name;
    else tag = name;
  }
  const el = document.createElement(tag);
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idSeq = 0;
export const uid = (p = 'id') => `${p}-${++idSeq}`;

/* ---- formatting ---------------------------------------------------- */

export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${n < 0 ? '-' : ''}${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${u[i]}`;
}

/* "19 min", "6 h 31 min", "3 d 4 h": two units at most, as people say it. */
export function duration(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '–';
  s = Math.floor(s);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  if (d) return hh ? `${d} d ${hh} h` : `${d} d`;
  if (hh) return mm ? `${hh} h ${mm} min` : `${hh} h`;
  if (mm) return `${mm} min`;
  return `${s % 60} s`;
}

/* Words that are written in capitals, or spelled out, in labels. */
const WORDS = {
  id: 'ID', ip: 'IP', ips: 'IPs', tls: 'TLS', uid: 'UID', gid: 'GID', cpu: 'CPU', cpus: 'CPUs', os: 'OS',
  ntp: 'NTP', json: 'JSON', pid: 'PID', http: 'HTTP', api: 'API', utc: 'UTC', dst: 'DST', ssh: 'SSH',
  tcp: 'TCP', udp: 'UDP', dns: 'DNS', url: 'URL', ipv4: 'IPv4', ipv6: 'IPv6', auth: 'authentication',
  hostname: 'host name', fstype: 'type', rx: 'received', tx: 'sent', mem: 'memory', pct: '%',
};

/* A unit a status field's name ends with: how its value reads. */
const UNITS = [
  ['_seconds', (v) => duration(v)],
  ['_bytes', (v) => bytes(v)],
  ['_percent', (v) => `${Math.round(v * 10) / 10} %`],
  ['_ms', (v) => (Math.abs(v) >= 1000 ? `${Math.round(v / 100) / 10} s` : `${v} ms`)],
  ['_us', (v) => (Math.abs(v) >= 1e6 ? `${Math.round(v / 1e5) / 10} s` : Math.abs(v) >= 1000 ? `${Math.round(v / 100) / 10} ms` : `${v} µs`)],
];

/* "max_connections_per_ip" → "Max connections per IP"; a unit suffix goes
 * (the value, formatted by humanValue, says it) unless keepUnit (a form's
 * label: the input holds a bare number). */
export function humanize(key, keepUnit = false) {
  let k = String(key);
  if (!keepUnit) for (const [suffix] of UNITS) if (k.endsWith(suffix) && k.length > suffix.length) k = k.slice(0, -suffix.length);
  const words = k.split(/[_\s]+/).filter(Boolean).map((w) => WORDS[w.toLowerCase()] || w);
  const s = words.join(' ');
  return s ? s[0].toUpperCase() + s.slice(1) : String(key);
}

/* One value as people read it, by its key's unit suffix and its type. */
export function humanValue(key, v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') {
    for (const [suffix, fmt] of UNITS) if (String(key).endsWith(suffix)) return fmt(v);
    return Number.isInteger(v) ? v.toLocaleString('en-US') : String(Math.round(v * 100) / 100);
  }
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) return v.length ? v.join(', ') : 'none';
  return String(v);
}

const isScalar = (v) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'));

/* Any JSON answer as a definition list, tables and sections, never as JSON
 * text: scalars become "Label value" pairs, an array of objects a table, a
 * nested object its own titled block. */
export function valueView(v, depth = 0) {
  if (isScalar(v)) return h('span', humanValue('', v));
  if (Array.isArray(v)) {
    if (!v.length) return h('p.muted', 'None.');
    const keys = [...new Set(v.flatMap((o) => (o && typeof o === 'object' ? Object.keys(o) : [])))];
    return table(
      keys.map((k) => ({
        label: humanize(k),
        class: v.some((o) => o && typeof o[k] === 'number') ? 'num' : undefined,
        cell: (o) => (o && !isScalar(o[k]) ? valueView(o[k], depth + 1) : humanValue(k, o ? o[k] : null)),
      })),
      v,
      { class: 'result-table' },
    );
  }
  const entries = Object.entries(v);
  const flat = entries.filter(([, x]) => isScalar(x));
  const nested = entries.filter(([, x]) => !isScalar(x));
  const heading = depth ? 'h4' : 'h3';
  return h(
    'div.value-view',
    flat.length ? h('dl.facts', flat.map(([k, x]) => h('div', h('dt', humanize(k)), h('dd', { 'data-key': k }, humanValue(k, x))))) : null,
    nested.map(([k, x]) => h('section.value-group', h(heading, humanize(k)), valueView(x, depth + 1))),
  );
}

export function when(t) {
  if (!t) return '–';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/* ---- pieces -------------------------------------------------------- */

export function badge(text, kind) {
  return h('span.badge', { class: kind ? `badge-${kind}` : undefined }, text);
}

export function stateBadge(state, reason) {
  const kind =
    { running: 'ok', stopped: 'muted', degraded: 'warn', unavailable: 'bad' }[state] || 'muted';
  const b = badge(state || 'n/a', kind);
  /* Why a module is degraded or not available, when it says. */
  return reason ? h('span.state', b, ' ', h('span.reason', reason)) : b;
}

export function severityBadge(sev, text) {
  return badge(text || sev, { info: 'info', warning: 'warn', critical: 'bad' }[sev] || 'muted');
}

/* A table: columns [{label, cell: row => node|string, class?}]. */
export function table(columns, rows, opts = {}) {
  /* Focusable: a table wider than the screen scrolls, by keyboard too. */
  return h(
    'div.table-wrap',
    { tabIndex: 0, role: 'region', 'aria-label': opts.caption || opts.label || 'table' },
    h(
      'table',
      { class: opts.class },
      opts.caption ? h('caption', opts.caption) : null,
      h('thead', h('tr', columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h(
        'tbody',
        rows.length
          ? rows.map((r) => h('tr', columns.map((c) => h('td', { class: c.class }, c.cell(r)))))
          : h('tr', h('td.empty', { colSpan: columns.length }, opts.empty || 'Nothing here.')),
      ),
    ),
  );
}

/* A unified diff, line by line, with added/removed lines marked. */
export function diffView(text) {
  const lines = String(text || '').replace(/\n$/, '').split('\n');
  return h(
    'pre.diff',
    { tabIndex: 0, 'aria-label': 'changes' },
    lines.map((l) => {
      let cls = 'ctx';
      if (l.startsWith('+++') || l.startsWith('---')) cls = 'meta';
      else if (l.startsWith('@@')) cls = 'hunk';
      else if (l.startsWith('+')) cls = 'add';
      else if (l.startsWith('-')) cls = 'del';
      return h('span.line', { class: cls }, l + '\n');
    }),
  );
}

export function filesView(files) {
  if (!files || !files.length) return h('p.muted', 'No file changes.');
  return files.map((f) =>
    h('div.file', h('h4.path', f.path), f.diff ? diffView(f.diff) : h('p.muted', 'unchanged')),
  );
}

/* A status line for a page ("Saved", errors…), announced to screen readers. */
export function notice(kind, text) {
  return h('p.notice', { class: `notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function errorText(e) {
  if (!e) return '';
  if (e.status === 404 && (e.code === 'not_found' || e.code === 'http_404'))
    return 'This feature is not available on this server.';
  return e.message || String(e);
}

/* ---- dialogs ------------------------------------------------------- */

/* Opens a modal dialog; resolves with the button's value ('' on Escape). */
export function modal(title, body, buttons = [{ label: 'Close', value: 'close', primary: true }]) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const dlg = h(
      'dialog.modal',
      { 'aria-labelledby': titleId },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId }, title),
        h('div.modal-body', body),
        h(
          'div.buttons',
          buttons.map((b) =>
            h(
              'button',
              {
                type: 'submit',
                value: b.value,
                class: b.primary ? 'primary' : b.danger ? 'danger' : undefined,
                autofocus: b.primary ? true : undefined,
              },
              b.label,
            ),
          ),
        ),
      ),
    );
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue || '');
      dlg.remove();
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export async function confirm(title, body, label = 'Confirm', danger = false) {
  const v = await modal(title, body, [
    { label: 'Cancel', value: 'cancel' },
    { label, value: 'ok', primary: !danger, danger },
  ]);
  return v === 'ok';
}

/* A labelled form field with help text and a place for its error. */
export function field(label, input, help, opts = {}) {
  const id = input.id || (input.id = uid('f'));
  const helpId = uid('help');
  const errId = uid('err');
  const described = [help ? helpId : null, errId].filter(Boolean).join(' ');
  input.setAttribute('aria-describedby', described);
  const err = h('p.field-error', { id: errId, 'aria-live': 'polite' });
  const wrap = h(
    'div.field',
    { class: opts.inline ? 'field-inline' : undefined, 'data-field': opts.name },
    h('label', { for: id }, label, opts.badge || null),
    input,
    help ? h('p.help', { id: helpId }, help) : null,
    err,
  );
  wrap.setError = (msg) => {
    err.textContent = msg || '';
    if (msg) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };
  /* A refusal is about the value it was given: once the value is edited,
   * its message no longer describes what the field holds. */
  input.addEventListener('input', () => {
    if (err.textContent) wrap.setError('');
  });
  wrap.input = input;
  return wrap;
}

/* Disables a button while an async action runs. */
export async function busy(button, fn) {
  if (button) button.disabled = true;
  try {
    return await fn();
  } finally {
    if (button) button.disabled = false;
  }
}
