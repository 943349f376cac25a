/* logs.js — the journal: filters (unit, priority, since/until, text), a
 * table of entries newest first with severity colours, "Load older" by
 * cursor, and live follow through the event stream (no polling): the page
 * opens its own EventSource for `logs` events with the same filters and the
 * cursor of the newest entry it shows, and reopens it from the newest
 * cursor if it drops.  Below, the text files under /var/log with a tail of
 * the one picked.  #/logs/UNIT opens with that unit's entries, #/logs/UNIT/TEXT
 * (UNIT may be empty) with those holding TEXT (the mail page's queue ids).
 *
 * Logs need an operator (docs/api.md); a monitor sees the server's
 * refusal. */
import { get, seg } from './api.js';
import { h, clear, table, badge, busy, errorText, field, notice } from './ui.js';

const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
const PAGE = 200;
const MAX_ROWS = 5000; /* the oldest rows go when live entries push past this */

function levelKind(p) {
  if (p === null || p === undefined) return 'muted';
  if (p <= 3) return 'bad';
  if (p === 4) return 'warn';
  if (p === 5) return 'info';
  return p === 7 ? 'muted' : 'plain';
}

function timeText(e) {
  const d = new Date(Math.floor((e.realtime_usec || 0) / 1000));
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function entryRow(e) {
  const kind = levelKind(e.priority);
  const who = `${e.identifier || '?'}${e.pid ? `[${e.pid}]` : ''}`;
  return h(
    'tr',
    { class: `log-entry log-${kind}`, 'data-priority': String(e.priority ?? ''), 'data-cursor': e.cursor },
    h('td.mono.log-time', { title: e.time }, timeText(e)),
    h('td', badge(e.priority === null || e.priority === undefined ? '–' : LEVELS[e.priority], kind === 'plain' ? 'muted' : kind)),
    h('td.log-source', h('span.mono', who), e.unit ? h('div.muted', e.unit) : null),
    h('td.log-message.mono', e.message),
  );
}

export async function render(view, ctx, initialUnit, initialText) {
  const unit = h('input', { name: 'unit', id: 'logs-unit', placeholder: 'nginx.service', value: initialUnit || '', autocomplete: 'off' });
  const priority = h(
    'select',
    { name: 'priority', id: 'logs-priority' },
    h('option', { value: '' }, 'any'),
    LEVELS.map((l, i) => h('option', { value: l }, i === 7 ? l : `${l} and worse`)),
  );
  const since = h('input', { name: 'since', id: 'logs-since', placeholder: '-1h, today, 2026-12-04 06:00' });
  const until = h('input', { name: 'until', id: 'logs-until', placeholder: 'now' });
  const grep = h('input', { name: 'grep', id: 'logs-grep', placeholder: 'text, any case', type: 'search', value: initialText || '' });
  const followBox = h('input', { type: 'checkbox', name: 'follow', id: 'logs-follow', checked: true });
  const fields = {
    unit: field('Unit', unit, null, { inline: true, name: 'unit' }),
    priority: field('Priority', priority, null, { inline: true, name: 'priority' }),
    since: field('Since', since, null, { inline: true, name: 'since' }),
    until: field('Until', until, null, { inline: true, name: 'until' }),
    grep: field('Text', grep, null, { inline: true, name: 'grep' }),
  };
  const apply = h('button.primary', { type: 'submit' }, 'Show');
  const status = h('p.muted.logs-status', { 'aria-live': 'polite' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load older');
  const filesEl = h('div.logs-files');

  let next = null;
  let newest = null;
  let source = null;
  let retry = null;
  let gone = false;

  function params() {
    const p = new URLSearchParams();
    if (unit.value.trim()) p.set('unit', unit.value.trim());
    if (priority.value) p.set('priority', priority.value);
    if (since.value.trim()) p.set('since', since.value.trim());
    if (until.value.trim()) p.set('until', until.value.trim());
    if (grep.value) p.set('grep', grep.value);
    return p;
  }

  function showError(e) {
    const f = e && e.field && fields[e.field];
    if (f) f.setError(e.message);
    else status.replaceChildren(notice('error', errorText(e)));
  }

  function stopFollow() {
    if (retry) clearTimeout(retry);
    retry = null;
    if (source) source.close();
    source = null;
  }

  function addLive(entries) {
    for (const e of entries) {
      tbody.prepend(entryRow(e));
      newest = e.cursor;
    }
    if (tbody.querySelector('td.empty')) tbody.querySelector('td.empty').parentElement.remove();
    while (tbody.children.length > MAX_ROWS) tbody.lastElementChild.remove();
  }

  /* The stream continues from the newest entry shown; without one, from now
   * (not from `since`: a stream starts at most an hour back, and what came
   * before is the page's). */
  function startFollow() {
    stopFollow();
    if (!followBox.checked || until.value.trim() || gone) return;
    const p = params();
    p.delete('until');
    p.delete('since');
    if (newest) p.set('cursor', newest);
    p.set('types', 'logs');
    const src = new EventSource(`/api/v1/events?${p.toString()}`);
    source = src;
    src.addEventListener('logs', (ev) => {
      try {
        addLive(JSON.parse(ev.data).entries || []);
      } catch {
        /* not ours to show */
      }
    });
    src.onopen = () => status.replaceChildren(h('span', badge('live', 'ok'), ' new entries appear at the top'));
    src.onerror = () => {
      if (src !== source) return;
      status.replaceChildren(h('span', badge('reconnecting', 'warn')));
      src.close();
      source = null;
      retry = setTimeout(() => !gone && startFollow(), 3000);
    };
  }

  async function load(append) {
    for (const f of Object.values(fields)) f.setError(null);
    const p = params();
    p.set('limit', String(PAGE));
    if (append && next) p.set('cursor', next);
    let r;
    try {
      r = await get(`/api/v1/logs?${p.toString()}`);
    } catch (e) {
      showError(e);
      return;
    }
    if (!append) {
      tbody.replaceChildren();
      newest = r.entries.length ? r.entries[0].cursor : null;
    }
    for (const e of r.entries) tbody.append(entryRow(e));
    if (!tbody.children.length) tbody.append(h('tr', h('td.empty', { colSpan: 4 }, 'No entries match.')));
    next = r.next || null;
    more.hidden = !next;
    if (r.truncated) status.replaceChildren(notice('info', 'The search stopped after 2 seconds of scanning: "Load older" goes on from there.'));
    else if (!append) status.replaceChildren();
    if (!append) startFollow();
  }

  async function showFiles() {
    let r;
    try {
      r = await get('/api/v1/logs/files');
    } catch (e) {
      clear(filesEl, notice('error', errorText(e)));
      return;
    }
    const pick = h('select', { id: 'logs-file', name: 'file' }, r.files.map((f) => h('option', { value: f.name }, f.name)));
    const lines = h('input', { type: 'number', min: 1, max: 10000, value: 100, id: 'logs-file-lines', name: 'lines' });
    const out = h('pre.log-file', { tabIndex: 0 });
    const show = h('button', { type: 'submit' }, 'Show the end');
    const form = h(
      'form.filters',
      field('File', pick, null, { inline: true }),
      field('Lines', lines, null, { inline: true }),
      show,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(show, async () => {
        try {
          const path = pick.value.split('/').map(seg).join('/');
          const t = await get(`/api/v1/logs/files/${path}?lines=${encodeURIComponent(lines.value)}`);
          out.textContent = t.lines.join('\n');
        } catch (e) {
          out.textContent = errorText(e);
        }
      });
    });
    clear(filesEl, r.files.length ? [form, out] : h('p.muted', 'No text log files under /var/log.'));
  }

  const form = h('form.filters.logs-filters', Object.values(fields), h('label.check', followBox, ' Follow'), apply);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(apply, () => load(false));
  });
  followBox.addEventListener('change', () => (followBox.checked ? startFollow() : (stopFollow(), status.replaceChildren())));
  more.addEventListener('click', () => busy(more, () => load(true)));

  clear(
    view,
    h('h1', 'Logs'),
    form,
    status,
    h(
      'div.table-wrap',
      { tabIndex: 0, role: 'region', 'aria-label': 'journal entries' },
      h(
        'table.logs',
        h('thead', h('tr', ['Time', 'Level', 'Source', 'Message'].map((l) => h('th', { scope: 'col' }, l)))),
        tbody,
      ),
    ),
    more,
    h('h2', 'Log files'),
    filesEl,
  );
  await load(false);
  showFiles();
  return () => {
    gone = true;
    stopFollow();
  };
}
