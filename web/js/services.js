/* services.js — systemd's units (the services module's page).
 *
 * #/services: the list (GET /api/v1/services) with a type and a state filter,
 * a search box over names and descriptions, state badges, and start / stop /
 * restart buttons on each row (with a confirmation naming the unit).
 * #/services/UNIT: the unit page — its facts, its dependencies both ways,
 * every action its role allows (operators: start, stop, restart, reload,
 * try-restart, reset-failed; admins also enable, disable, mask, unmask,
 * whose plan is reviewed first), the drop-in settings form (review before
 * apply, services only, admins) and a live log pane (the links the unit's
 * show answer gives: its journal, then its live events on a stream of the pane's
 * own, filtered for the unit and resumed from the last line's cursor).
 *
 * Everything stays live through the event streams (ctx.bus's "services"
 * events, the pane's own), never by polling: an event for a unit on the
 * page reloads what it shows, at most once per 300 ms.
 *
 * A guarded unit (stewardd, dbus, the journal, ssh from the network) is
 * refused with 409 needs_force: the page says why, and offers to force to
 * admins only (force is theirs, 403 below).  Operators get the action
 * buttons on services, sockets and timers only; the API refuses the rest
 * (targets, systemd's own units…) and the page shows its reason. */
import { api, get, seg } from './api.js';
import { h, clear, table, badge, notice, confirm, busy, errorText, field, bytes, duration, when } from './ui.js';
import { planned } from './plan.js';

const JOBS = ['start', 'stop', 'restart', 'reload', 'try-restart', 'reset-failed'];
const FILES = ['enable', 'disable', 'mask', 'unmask'];
const RESTART = ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'];

/* The overview's findings: failed units. */
export const overviewEvents = ['services'];

export async function overviewFindings() {
  let r;
  try {
    r = await get('/api/v1/services?state=failed&type=all');
  } catch (e) {
    if (e.status === 503) return [];
    return [h('li', badge('services', 'warn'), ' ', errorText(e))];
  }
  return (r.services || []).map((u) =>
    h('li', { 'data-finding': 'failed-unit' }, badge('failed', 'bad'), ' ', h('a', { href: `#/services/${encodeURIComponent(u.name)}` }, u.name), ` — ${u.description || ''}`),
  );
}

function stateKind(s) {
  return { active: 'ok', reloading: 'ok', failed: 'bad', activating: 'warn', deactivating: 'warn', inactive: 'muted' }[s] || 'muted';
}

export function unitBadge(u) {
  return h('span.unit-state', { 'data-state': u.active_state }, badge(u.active_state || '?', stateKind(u.active_state)), ' ', h('span.muted', u.sub_state || ''));
}

function canAct(ctx, action, u) {
  const role = (ctx.me && ctx.me.role) || 'monitor';
  if (role === 'admin') return true;
  if (FILES.includes(action) || role !== 'operator') return false;
  return !u || !u.type || ['service', 'socket', 'timer'].includes(u.type);
}

/* Runs an action on a unit after the user agreed: changes to unit files
 * show their plan first; a guard's refusal asks an admin whether to force,
 * and tells anyone else that forcing is an admin's. */
async function runAction(ctx, unit, action, status) {
  const path = `/api/v1/services/${seg(unit)}/${seg(action)}`;
  let body = {};
  try {
    if (FILES.includes(action)) {
      const r = await planned('POST', path, body, `${action} ${unit}?`, {}, status);
      if (!r) return null;
      clear(status, notice('ok', `${action} ${unit}: ${r.job_result || 'done'}${(r.changes || []).length ? ` (${r.changes.length} link${r.changes.length > 1 ? 's' : ''} changed)` : ''}.`));
      return r;
    }
    const dry = await api('POST', `${path}?dry_run=1`, body);
    const warnings = (dry.plan && dry.plan.warnings) || [];
    if (warnings.length && (!ctx.me || ctx.me.role !== 'admin')) {
      clear(status, notice('error', `${action} ${unit} needs force, which is for admins: ${warnings.join('; ')}`));
      return null;
    }
    if (!(await confirm(`${action} ${unit}?`, [h('p', `${action} ${unit} and wait for the job's result.`), warnings.map((w) => notice('warn', w))], action, action !== 'start')))
      return null;
    if (warnings.length) body = { force: true };
    const r = await api('POST', path, body);
    const kind = r.job_result === 'done' ? 'ok' : 'error';
    clear(status, notice(kind, `${action} ${unit}: ${r.job_result}; now ${r.service ? `${r.service.active_state} (${r.service.sub_state})` : ''}.`));
    return r;
  } catch (e) {
    clear(status, notice('error', errorText(e)));
    return null;
  }
}

/* Calls fn at most once per ms; the last call always runs. */
function debounce(fn, ms) {
  let t = null;
  return () => {
    if (t) return;
    t = setTimeout(() => {
      t = null;
      fn();
    }, ms);
  };
}

/* ---- the list ------------------------------------------------------- */

async function renderList(view, ctx) {
  const status = h('div', { 'aria-live': 'polite' });
  const listEl = h('div', h('p.muted', 'Loading…'));
  const typeSel = h('select', { id: 'svc-type', name: 'type' }, ['service', 'socket', 'timer', 'mount', 'path', 'target', 'all'].map((t) => h('option', { value: t }, t)));
  const stateSel = h('select', { id: 'svc-state', name: 'state' }, ['all', 'active', 'failed', 'inactive'].map((t) => h('option', { value: t }, t)));
  const search = h('input', { type: 'search', id: 'svc-search', name: 'search', placeholder: 'name or description', autocomplete: 'off' });
  let units = [];

  function rowActions(u) {
    const acts = u.active_state === 'active' || u.active_state === 'reloading' ? ['restart', 'stop'] : ['start'];
    return acts.filter((a) => canAct(ctx, a, u)).map((a) =>
      h('button.small', { type: 'button', 'data-action': a, 'aria-label': `${a} ${u.name}`, onclick: async (ev) => { await busy(ev.target, () => runAction(ctx, u.name, a, status)); } }, a),
    );
  }

  function show() {
    const q = search.value.trim().toLowerCase();
    const rows = q ? units.filter((u) => u.name.toLowerCase().includes(q) || (u.description || '').toLowerCase().includes(q)) : units;
    clear(
      listEl,
      h('p.muted', `${rows.length} of ${units.length} units.`),
      table(
        [
          { label: 'Unit', cell: (u) => h('a', { href: `#/services/${encodeURIComponent(u.name)}` }, u.name) },
          { label: 'State', cell: unitBadge },
          { label: 'Enabled', cell: (u) => u.unit_file_state || h('span.muted', '–') },
          { label: 'Memory', class: 'num', cell: (u) => (u.memory_bytes == null ? h('span.muted', { title: 'no memory figure for this unit (the kernel keeps none here)' }, '–') : bytes(u.memory_bytes)) },
          { label: 'Description', cell: (u) => u.description || '' },
          { label: 'Actions', cell: rowActions },
        ],
        rows,
        { class: 'services', label: 'units', empty: 'No unit matches.' },
      ),
    );
  }

  /* Answers may arrive out of order (a filter changed while a listing
   * was on its way): only the latest request's answer is shown. */
  let latest = 0;
  async function load() {
    const n = ++latest;
    const r = await get(`/api/v1/services?type=${seg(typeSel.value)}&state=${seg(stateSel.value)}`);
    if (n !== latest) return;
    units = r.services || [];
    show();
  }
  const reload = () => load().catch((e) => clear(listEl, notice('error', errorText(e))));
  typeSel.addEventListener('change', reload);
  stateSel.addEventListener('change', reload);
  search.addEventListener('input', show);

  clear(
    view,
    h('h1', 'Services'),
    status,
    h(
      'section.panel',
      { 'aria-labelledby': 'svc-list-title' },
      h('h2#svc-list-title', 'Units'),
      h('div.filters', field('Type', typeSel, null, { inline: true }), field('State', stateSel, null, { inline: true }), field('Search', search, null, { inline: true })),
      listEl,
    ),
  );
  const onEvent = debounce(reload, 300);
  ctx.bus.addEventListener('services', onEvent);
  await reload();
  return () => ctx.bus.removeEventListener('services', onEvent);
}

/* ---- one unit --------------------------------------------------------- */

function facts(u) {
  const rows = [
    ['Description', u.description],
    ['State', unitBadge(u)],
    ['Since', when(u.since)],
    ['Enabled', u.unit_file_state],
    ['Loaded', u.load_state],
    ['Main PID', u.main_pid || null],
    ['Memory', u.memory_bytes == null ? null : bytes(u.memory_bytes)],
    ['CPU', u.cpu_seconds == null ? null : duration(u.cpu_seconds)],
    ['Tasks', u.tasks],
    ['Restarts', u.restarts],
    ['Last result', u.result == null ? null : `${u.result}${u.exec_main_status ? ` (exit status ${u.exec_main_status})` : ''}`],
    ['Last run', u.last_trigger ? when(u.last_trigger) : null],
    ['Next run', u.next_elapse ? when(u.next_elapse) : null],
    ['Unit file', u.fragment_path ? h('span.mono', u.fragment_path) : null],
    ['Drop-ins', (u.drop_in_paths || []).length ? u.drop_in_paths.map((p) => h('div.mono', p)) : null],
    ['ExecStart', (u.exec_start || []).length ? u.exec_start.map((e) => h('div.mono', (e.argv || [e.path]).join(' '))) : null],
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');
  const wide = new Set(['Description', 'Unit file', 'Drop-ins', 'ExecStart']);
  return h('dl.facts.unit-facts', rows.map(([k, v]) => h('div', { class: wide.has(k) ? 'wide' : undefined }, h('dt', k), h('dd', { 'data-fact': k }, v))));
}

function deps(u) {
  const d = u.dependencies || {};
  const list = (names) => (names && names.length ? names.map((n) => h('a.dep', { href: `#/services/${encodeURIComponent(n)}` }, n)) : h('span.muted', 'none'));
  return h(
    'dl.facts.deps',
    [
      ['Requires', d.requires],
      ['Wants', d.wants],
      ['After', d.after],
      ['Required by', d.required_by],
      ['Wanted by', d.wanted_by],
      ['Before', d.before],
      ['Triggers', d.triggers],
      ['Triggered by', d.triggered_by],
    ].map(([k, v]) => h('div', h('dt', k), h('dd', list(v)))),
  );
}

/* The drop-in form: inputs pre-filled with what Steward's drop-in sets;
 * an empty input removes the key.  Sends only what changed, reviewed. */
function settingsForm(unit, u, status, onApplied) {
  const cur = u.steward_settings || {};
  const inForce = u.settings || {};
  const num = (name, min, max) => h('input', { type: 'number', name, id: `svc-${name}`, min, max, step: 1, value: cur[name] == null ? '' : String(cur[name]) });
  const inputs = {
    restart: h('select', { name: 'restart', id: 'svc-restart' }, h('option', { value: '' }, '(not set)'), RESTART.map((r) => h('option', { value: r, selected: cur.restart === r }, r))),
    restart_sec: num('restart_sec', 0, 86400),
    memory_max: num('memory_max', 1048576, 2 ** 50),
    cpu_quota: num('cpu_quota', 1, 10000),
    tasks_max: num('tasks_max', 1, 4194304),
    nice: num('nice', -20, 19),
    environment: h('textarea', { name: 'environment', id: 'svc-environment', rows: 3 }, (cur.environment || []).join('\n')),
  };
  const help = {
    restart: `Restart= (in force: ${inForce.restart || 'no'})`,
    restart_sec: `RestartSec=, seconds (in force: ${inForce.restart_sec ?? '–'})`,
    memory_max: 'MemoryMax=, bytes',
    cpu_quota: 'CPUQuota=, percent of one CPU',
    tasks_max: `TasksMax= (in force: ${inForce.tasks_max ?? '–'})`,
    nice: `Nice=, -20 to 19 (in force: ${inForce.nice ?? 0})`,
    environment: 'Environment=, one KEY=VALUE a line',
  };
  const labels = { restart: 'Restart', restart_sec: 'Restart delay', memory_max: 'Memory limit', cpu_quota: 'CPU quota', tasks_max: 'Tasks limit', nice: 'Nice', environment: 'Environment' };
  const fields = {};
  for (const k of Object.keys(inputs)) fields[k] = field(labels[k], inputs[k], help[k], { name: k });
  const button = h('button.primary', { type: 'submit' }, 'Review changes');

  function changes() {
    const body = {};
    for (const [k, el] of Object.entries(inputs)) {
      let v = el.value.trim();
      if (k === 'environment') {
        const list = v ? v.split('\n').map((s) => s.trim()).filter(Boolean) : [];
        if (JSON.stringify(list) !== JSON.stringify(cur.environment || [])) body[k] = list;
        continue;
      }
      if (k === 'restart') v = v || null;
      else v = v === '' ? null : Number(v);
      if (v !== (cur[k] ?? null)) body[k] = v;
    }
    return body;
  }

  return h(
    'form.svc-settings',
    {
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        const body = changes();
        if (!Object.keys(body).length) {
          clear(status, notice('info', 'Nothing changed.'));
          return;
        }
        await busy(button, async () => {
          const r = await planned('PATCH', `/api/v1/services/${seg(unit)}`, body, `Change the settings of ${unit}?`, fields, status);
          if (r) {
            clear(status, notice('ok', `Settings of ${unit} applied${r.audit_id ? ` (audit record ${r.audit_id})` : ''}; systemd reloaded.`));
            onApplied();
          }
        });
      },
    },
    h('p.help', 'Written to ', h('span.mono', `/etc/systemd/system/${unit}.d/50-steward.conf`), ', checked with systemd-analyze verify, audited and reversible. An empty field removes the setting.'),
    Object.values(fields),
    h('div.actions', button),
  );
}

/* The settings a drop-in may change, as systemd has them now. */
function settingsInForce(st) {
  const rows = [
    ['Restart', st.restart],
    ['Restart delay', st.restart_sec == null ? null : duration(st.restart_sec)],
    ['Memory limit', st.memory_max == null ? 'none' : bytes(st.memory_max)],
    ['CPU quota', st.cpu_quota == null ? 'none' : `${st.cpu_quota} %`],
    ['Tasks limit', st.tasks_max == null ? 'none' : String(st.tasks_max)],
    ['Nice', st.nice == null ? null : String(st.nice)],
    ['Environment', (st.environment || []).length ? st.environment.map((e) => h('div.mono', e)) : 'none'],
  ].filter(([, v]) => v !== null && v !== undefined);
  return h('dl.facts', rows.map(([k, v]) => h('div', h('dt', k), h('dd', v))));
}

const PRIORITY = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

function logLines(entries) {
  if (!entries.length) return h('p.muted', 'No log lines.');
  return h(
    'div.log-lines',
    /* Focusable: the pane scrolls, by keyboard too. */
    { role: 'log', tabIndex: 0, 'aria-label': 'log lines' },
    entries.map((e) => h('div.log-line', { 'data-priority': String(e.priority), class: `prio-${PRIORITY[e.priority] || 'info'}` }, h('span.muted', when(e.time)), ' ', e.identifier ? `${e.identifier}: ` : '', e.message)),
  );
}

async function renderUnit(view, ctx, unit) {
  const status = h('div', { 'aria-live': 'polite' });
  const factsEl = h('div', h('p.muted', 'Loading…'));
  const actionsEl = h('div.unit-actions');
  const depsEl = h('div');
  const settingsEl = h('div');
  const logsEl = h('div', h('p.muted', 'Loading…'));
  let formShown = false;

  let links = null; /* the unit's log links, from its show answer */
  async function load() {
    const r = await get(`/api/v1/services/${seg(unit)}`);
    const u = r.service;
    links = { logs: u.logs, events: u.log_events };
    clear(factsEl, facts(u));
    clear(depsEl, deps(u));
    clear(
      actionsEl,
      [...JOBS, ...FILES]
        .filter((a) => canAct(ctx, a, u))
        .map((a) => h('button', { type: 'button', 'data-action': a, onclick: async (ev) => { const res = await busy(ev.target, () => runAction(ctx, unit, a, status)); if (res) await load(); } }, a)),
    );
    if (!formShown) {
      formShown = true;
      if (u.type !== 'service') clear(settingsEl, h('p.muted', 'Settings are for services.'));
      else if (ctx.me.role !== 'admin') clear(settingsEl, h('p.muted', 'Changing settings needs the admin role.'), settingsInForce(u.settings || {}));
      else clear(settingsEl, settingsForm(unit, u, status, () => { formShown = false; load(); }));
    }
    return u;
  }

  /* The log pane: the last lines (GET /api/v1/logs?unit=), then new ones
   * from a stream of its own that follows the journal for this unit from
   * the last line shown (the logs event type is filtered per stream). */
  let entries = [];
  let follow = null;
  function showLogs() {
    clear(logsEl, logLines(entries));
    const box = logsEl.querySelector('.log-lines');
    if (box) box.scrollTop = box.scrollHeight;
  }
  async function loadLogs() {
    if (!links || !links.logs) {
      clear(logsEl, h('p.muted', 'No log for this unit on this server.'));
      return;
    }
    try {
      const r = await get(`${links.logs}&limit=50&order=desc`);
      entries = (r.entries || []).slice().reverse();
      showLogs();
    } catch (e) {
      clear(logsEl, e.status === 404 ? h('p.muted', 'The logs module is not on this server.') : e.status === 403 ? h('p.muted', 'Reading logs needs the operator role.') : notice('error', errorText(e)));
      return;
    }
    const last = entries.length ? entries[entries.length - 1].cursor : null;
    if (!links.events) return;
    follow = new EventSource(`${links.events.url}${last ? `&cursor=${seg(last)}` : ''}`);
    follow.addEventListener(links.events.type, (ev) => {
      let d;
      try {
        d = JSON.parse(ev.data);
      } catch {
        return;
      }
      entries = entries.concat(d.entries || []).slice(-200);
      showLogs();
    });
    follow.onerror = () => {
      if (follow && follow.readyState === EventSource.CLOSED) follow = null;
    };
  }

  clear(
    view,
    h('p', h('a', { href: '#/services' }, '← Services')),
    h('h1', unit),
    status,
    h('section.panel', { 'aria-labelledby': 'unit-facts-title' }, h('h2#unit-facts-title', 'Facts'), factsEl, actionsEl),
    h('section.panel', { 'aria-labelledby': 'unit-logs-title' }, h('h2#unit-logs-title', 'Log'), logsEl),
    h('section.panel', { 'aria-labelledby': 'unit-settings-title' }, h('h2#unit-settings-title', 'Settings'), settingsEl),
    h('section.panel', { 'aria-labelledby': 'unit-deps-title' }, h('h2#unit-deps-title', 'Dependencies'), depsEl),
  );
  const onService = debounce(() => load().catch(() => {}), 300);
  const svcListener = (ev) => {
    if (!ev.detail || !ev.detail.name || ev.detail.name === unit) onService();
  };
  ctx.bus.addEventListener('services', svcListener);
  try {
    await load();
  } catch (e) {
    clear(factsEl, notice('error', errorText(e)));
  }
  await loadLogs();
  return () => {
    ctx.bus.removeEventListener('services', svcListener);
    if (follow) follow.close();
  };
}

export async function render(view, ctx, unit) {
  if (unit) return renderUnit(view, ctx, unit);
  return renderList(view, ctx);
}
