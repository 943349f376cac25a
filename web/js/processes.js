/* processes.js — the machine's processes (the processes module's page).
 *
 * #/processes: a live top-like table.  With no filter and no tree it is fed
 * by the `processes` event alone (the top ten by CPU or by memory, each
 * sampler tick; GET /api/v1/modules/processes/top fills it at once);
 * with a filter (command, user or unit) or the tree it is the list
 * (GET /api/v1/processes?sort=&limit=&name=|user=|unit=&tree=1), read again
 * when an event says a tick passed, at most every 2 s.  Sort by CPU or by
 * memory; a row's PID opens its detail (GET /api/v1/processes/{pid}: the
 * command line for admins, its unit linked to the services page, memory,
 * listening ports linked to the ports page, open files, sockets, limits).
 * #/processes/PID opens with that detail.
 *
 * Signal… and Renice… (operators and admins) ask what to send, then show
 * the action's dry run — the process it reaches and its warnings (the main
 * process of a service, whose unit has its own restart) — and act only on
 * confirmation, with the start_ticks the page saw, so a pid taken by another
 * process meanwhile is refused (409) rather than signalled.  The outcome
 * is announced in the page's status and focused.  Everything the server
 * says is shown as text, with human units; never as JSON. */
import { api, get, seg } from './api.js';
import { h, clear, table, badge, notice, confirm, modal, busy, errorText, field, bytes } from './ui.js';

const SIGNALS = [
  ['TERM', 'ask it to end (it may clean up first)'],
  ['INT', 'interrupt it, as Ctrl-C does'],
  ['HUP', 'hang up: many daemons reload their configuration'],
  ['KILL', 'end it at once (no clean-up)'],
  ['STOP', 'pause it'],
  ['CONT', 'resume it after STOP'],
  ['USR1', 'user signal 1 (meaning depends on the program)'],
  ['USR2', 'user signal 2 (meaning depends on the program)'],
];

const STATES = {
  R: ['running', 'ok'],
  S: ['sleeping', 'muted'],
  D: ['disk wait', 'warn'],
  Z: ['zombie', 'bad'],
  T: ['stopped', 'warn'],
  t: ['traced', 'warn'],
  I: ['idle', 'muted'],
  X: ['dead', 'bad'],
};

const TOP_LIMIT = 25;

function stateBadgeOf(p) {
  const [word, kind] = STATES[p.state] || [p.state || '?', 'muted'];
  return h('span.proc-state', { 'data-state': p.state, title: `state ${p.state}` }, badge(word, kind));
}

function percent(v) {
  return v === null || v === undefined ? '–' : `${Number(v).toFixed(1)} %`;
}

/* "16:02" today, "Dec 03" this year, "2025" before: as ps prints START. */
function started(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString([], { month: 'short', day: '2-digit' });
  return String(d.getFullYear());
}

/* Admins act on any process; operators on their own account's (the
 * server checks the uids; the buttons follow the user name). */
const canAct = (ctx, p) => {
  const role = ctx.me && ctx.me.role;
  return role === 'admin' || (role === 'operator' && (!p || p.user === ctx.me.user));
};
const isAdmin = (ctx) => ctx.me && ctx.me.role === 'admin';

function unitLink(unit) {
  return unit ? h('a.mono', { href: `#/services/${encodeURIComponent(unit)}` }, unit) : h('span.muted', '–');
}

function label(p) {
  return `${p.command || '?'} (PID ${p.pid})`;
}

/* What an action's answer says of the process afterwards. */
function after(p) {
  if (!p) return 'it is gone.';
  if (p.state === 'Z') return 'it has ended (its parent has not collected it yet).';
  const [word] = STATES[p.state] || [p.state];
  return `now ${word}, nice ${p.nice}.`;
}

function say(status, kind, text) {
  const n = notice(kind, text);
  n.tabIndex = -1;
  clear(status, n);
  n.focus();
}

/* Runs the action: dry run (its plan: the process, the warnings), the
 * confirmation, then the action with the start_ticks seen. */
async function act(p, action, args, words, status) {
  const path = `/api/v1/processes/${seg(p.pid)}/${action}`;
  const body = { ...args, start_ticks: p.start_ticks };
  let dry;
  try {
    dry = await api('POST', `${path}?dry_run=1`, body);
  } catch (e) {
    say(status, 'error', e.code === 'process_changed' ? `PID ${p.pid} is another process now; the list is read again.` : errorText(e));
    return e.code === 'process_changed';
  }
  const q = dry.process || p;
  const warnings = (dry.plan && dry.plan.warnings) || [];
  const facts = [`${q.command || '?'}, PID ${q.pid}, user ${q.user ?? q.uid}`, q.unit ? `, unit ${q.unit}` : '', '.'].join('');
  const danger = action === 'signal' && ['KILL', 'TERM', 'INT', 'STOP'].includes(args.signal);
  if (!(await confirm(words.title(label(q)), [h('p', facts), warnings.map((w) => notice('warn', w))], words.button, danger))) return false;
  try {
    const r = await api('POST', path, body);
    const audit = r.audit_id ? ` (audit record ${r.audit_id})` : '';
    say(status, 'ok', `${words.done(label(q))}: ${after(r.process)}${audit}`);
    return true;
  } catch (e) {
    say(status, 'error', e.code === 'process_changed' ? `PID ${p.pid} is another process now: nothing was sent; the list is read again.` : errorText(e));
    return true;
  }
}

async function signalDialog(ctx, p, status) {
  const sel = h('select', { name: 'signal', id: 'proc-signal' }, SIGNALS.map(([s, d]) => h('option', { value: s }, `${s} — ${d}`)));
  const v = await modal(`Signal ${label(p)}`, [field('Signal', sel, 'The process gets the signal; the next step shows what it reaches, and asks again.')], [
    { label: 'Cancel', value: 'cancel' },
    { label: 'Review…', value: 'ok', primary: true },
  ]);
  if (v !== 'ok') return false;
  const sig = sel.value;
  return act(p, 'signal', { signal: sig }, { title: (l) => `Send ${sig} to ${l}?`, button: `Send ${sig}`, done: (l) => `Sent ${sig} to ${l}` }, status);
}

async function reniceDialog(ctx, p, status) {
  const input = h('input', { type: 'number', name: 'nice', id: 'proc-nice', min: -20, max: 19, step: 1, value: String(Math.min(19, (p.nice ?? 0) + 5)) });
  const help = `Now ${p.nice}. -20 runs first, 19 last.${isAdmin(ctx) ? '' : ' Lowering it (a higher priority) needs the admin role.'}`;
  const v = await modal(`Renice ${label(p)}`, [field('Nice', input, help)], [
    { label: 'Cancel', value: 'cancel' },
    { label: 'Review…', value: 'ok', primary: true },
  ]);
  const nice = Number(input.value);
  if (v !== 'ok') return false;
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) {
    say(status, 'error', 'Nice is a whole number from -20 to 19.');
    return false;
  }
  return act(p, 'renice', { nice }, { title: (l) => `Renice ${l} to ${nice}?`, button: 'Renice', done: (l) => `Reniced ${l} to ${nice}` }, status);
}

function actionButtons(ctx, p, status, onDone) {
  if (!canAct(ctx, p) || p.kernel_thread) return [];
  const run = (dialog) => async (ev) => {
    if (await busy(ev.target, () => dialog(ctx, p, status))) onDone();
  };
  return [
    h('button.small', { type: 'button', 'data-action': 'signal', 'aria-label': `Signal ${label(p)}`, onclick: run(signalDialog) }, 'Signal…'),
    h('button.small', { type: 'button', 'data-action': 'renice', 'aria-label': `Renice ${label(p)}`, onclick: run(reniceDialog) }, 'Renice…'),
  ];
}

/* ---- the detail ---------------------------------------------------------- */

function listening(l) {
  if (!l || !l.length) return h('span.muted', 'none');
  return l.map((s) => h('a.dep', { href: `#/ports/${s.port}` }, `${s.protocol} ${s.family === 'ipv6' ? `[${s.address}]` : s.address}:${s.port}`));
}

function limitsView(c) {
  if (!c) return null;
  const rows = [
    ['Memory limit', c.memory_max == null ? 'none' : bytes(c.memory_max)],
    ['Memory used (cgroup)', c.memory_current == null ? null : bytes(c.memory_current)],
    ['Swap limit', c.memory_swap_max == null ? 'none' : bytes(c.memory_swap_max)],
    ['CPU limit', c.cpu_max ? c.cpu_max : 'none'],
    ['Tasks limit', c.pids_max == null ? 'none' : String(c.pids_max)],
  ].filter(([, v]) => v !== null);
  return h('dl.facts', rows.map(([k, v]) => h('div', h('dt', k), h('dd', v))));
}

function detailView(ctx, p, status, onDone) {
  const facts = [
    ['Command', p.command],
    ['Command line', Array.isArray(p.cmdline) ? (p.cmdline.length ? h('span.mono', p.cmdline.join(' ')) : h('span.muted', 'none (a kernel thread, or it has ended)')) : isAdmin(ctx) ? null : h('span.muted', 'admins only')],
    ['User', p.user ? `${p.user} (${p.uid})` : String(p.uid)],
    ['State', stateBadgeOf(p)],
    ['Parent', h('a', { href: `#/processes/${p.ppid}` }, String(p.ppid))],
    ['Started', p.start_time ? `${started(p.start_time)} (${p.start_time})` : null],
    ['CPU', percent(p.cpu_percent)],
    ['Memory (resident)', bytes(p.rss_bytes)],
    ['Memory (proportional)', p.pss_bytes == null ? null : bytes(p.pss_bytes)],
    ['Swap', bytes(p.swap_bytes)],
    ['Threads', p.threads],
    ['Nice', p.nice],
    ['Unit', unitLink(p.unit)],
    ['Container', p.container],
    ['Cgroup', p.cgroup ? h('span.mono', p.cgroup) : null],
    ['Disk read', p.io_read_bytes == null ? null : bytes(p.io_read_bytes)],
    ['Disk written', p.io_write_bytes == null ? null : bytes(p.io_write_bytes)],
    ['Open files', p.open_files],
    ['Listening', listening(p.listening)],
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');
  const wide = new Set(['Command line', 'Cgroup', 'Listening']);
  const files = (p.files || []).slice(0, 50);
  return [
    h('dl.facts.proc-facts', facts.map(([k, v]) => h('div', { class: wide.has(k) ? 'wide' : undefined }, h('dt', k), h('dd', { 'data-fact': k }, v)))),
    h('div.unit-actions', actionButtons(ctx, p, status, onDone)),
    p.unit && p.unit.endsWith('.service') ? h('p.help', 'It runs in ', unitLink(p.unit), ': restarting the unit from its page is usually better than signalling its processes.') : null,
    p.cgroup_limits ? [h('h3', 'Limits of its cgroup'), limitsView(p.cgroup_limits)] : null,
    (p.sockets || []).length
      ? [h('h3', 'Sockets'), table([
          { label: 'FD', class: 'num', cell: (s) => String(s.fd) },
          { label: 'Protocol', cell: (s) => s.protocol },
          { label: 'Local', cell: (s) => h('span.mono', s.local || '') },
          { label: 'Peer', cell: (s) => h('span.mono', s.peer || '–') },
          { label: 'State', cell: (s) => s.state || '' },
        ], p.sockets.slice(0, 50), { label: 'sockets' })]
      : null,
    files.length
      ? [h('h3', `Open files${(p.files || []).length > files.length ? ` (the first ${files.length})` : ''}`), table([
          { label: 'FD', class: 'num', cell: (f) => String(f.fd) },
          { label: 'Type', cell: (f) => f.type },
          { label: 'Path', cell: (f) => h('span.mono', f.path || '') },
        ], files, { label: 'open files' })]
      : null,
  ];
}

/* ---- the page -------------------------------------------------------------- */

export async function render(view, ctx, pidArg) {
  const status = h('div.page-status', { 'aria-live': 'polite' });
  const title = h('h1', 'Processes');
  const listEl = h('div', h('p.muted', 'Loading…'));
  const detailEl = h('section.panel', { 'aria-labelledby': 'proc-detail-title', hidden: true });
  const liveEl = h('span.muted', { 'data-live': '' });
  const sortBtns = {};
  const by = h('select', { id: 'proc-filter-by', name: 'by' }, [['name', 'command'], ['user', 'user'], ['unit', 'unit']].map(([v, t]) => h('option', { value: v }, t)));
  const text = h('input', { type: 'search', id: 'proc-filter', name: 'filter', placeholder: 'part of the command, a user, a unit', autocomplete: 'off' });
  const tree = h('input', { type: 'checkbox', id: 'proc-tree', name: 'tree' });
  let sort = 'cpu';
  let rows = [];
  let listed = false; /* rows come from the list, not the event */
  let selected = pidArg ? Number(pidArg) : null;

  const filtered = () => text.value.trim() !== '' || tree.checked;

  function show() {
    clear(
      listEl,
      h('p.muted', listed ? `${rows.length} process${rows.length === 1 ? '' : 'es'}${rows.length >= TOP_LIMIT && !tree.checked ? ` (the first ${TOP_LIMIT})` : ''}.` : `The ten busiest by ${sort === 'cpu' ? 'CPU' : 'memory'}.`),
      table(
        [
          { label: 'PID', class: 'num', cell: (p) => h('button.link', { type: 'button', 'data-pid': String(p.pid), 'aria-label': `Details of ${label(p)}`, onclick: () => open(p.pid) }, String(p.pid)) },
          { label: 'User', cell: (p) => p.user ?? String(p.uid) },
          { label: 'State', cell: stateBadgeOf },
          { label: 'CPU', class: 'num', cell: (p) => percent(p.cpu_percent) },
          { label: 'Memory', class: 'num', cell: (p) => bytes(p.rss_bytes) },
          { label: 'Threads', class: 'num', cell: (p) => String(p.threads ?? '') },
          { label: 'Nice', class: 'num', cell: (p) => String(p.nice ?? '') },
          { label: 'Started', cell: (p) => started(p.start_time) },
          { label: 'Unit', cell: (p) => unitLink(p.unit) },
          { label: 'Command', cell: (p) => h('span.proc-command', { 'data-depth': tree.checked ? String(p.depth ?? 0) : undefined }, tree.checked && p.depth ? `${'\u00a0\u00a0\u00a0'.repeat(p.depth - 1)}└ ` : '', p.kernel_thread ? `[${p.command}]` : p.command) },
          { label: 'Actions', cell: (p) => h('span.row-actions', actionButtons(ctx, p, status, done)) },
        ],
        rows,
        { class: 'processes', label: 'processes', empty: 'No process matches.' },
      ),
    );
    title.dataset.loaded = '';
  }

  /* Answers may arrive out of order: only the latest request's is shown. */
  let latest = 0;
  async function loadList() {
    const n = ++latest;
    const q = [`sort=${sort}`];
    if (!tree.checked) q.push(`limit=${TOP_LIMIT}`);
    if (text.value.trim()) q.push(`${by.value}=${seg(text.value.trim())}`);
    if (tree.checked) q.push('tree=1');
    const r = await get(`/api/v1/processes?${q.join('&')}`);
    if (n !== latest) return;
    rows = r.processes || [];
    listed = true;
    show();
  }

  async function loadTop() {
    const n = ++latest;
    const r = await get('/api/v1/modules/processes/top');
    if (n !== latest) return;
    fromEvent(r);
  }

  function fromEvent(ev) {
    rows = (sort === 'cpu' ? ev.by_cpu : ev.by_memory) || [];
    listed = false;
    if (ev.time) clear(liveEl, `live · ${ev.total ?? '?'} processes · ${started(ev.time)}${ev.interval_seconds ? ` (every ${ev.interval_seconds} s)` : ''}`);
    show();
  }

  function refresh() {
    const p = filtered() ? loadList() : loadTop();
    p.catch((e) => clear(listEl, notice('error', errorText(e))));
  }

  /* After an action: the list, and the detail if one is open. */
  function done() {
    refresh();
    if (selected) loadDetail();
  }

  async function loadDetail() {
    const pid = selected;
    try {
      const r = await get(`/api/v1/processes/${seg(pid)}`);
      if (pid !== selected) return;
      clear(detailEl, h('h2#proc-detail-title', `${label(r.process)}`), h('button.small.close', { type: 'button', onclick: closeDetail }, 'Close'), detailView(ctx, r.process, status, done));
    } catch (e) {
      clear(detailEl, h('h2#proc-detail-title', `PID ${pid}`), h('button.small.close', { type: 'button', onclick: closeDetail }, 'Close'), notice(e.status === 404 ? 'info' : 'error', e.status === 404 ? `PID ${pid} is gone.` : errorText(e)));
    }
    detailEl.hidden = false;
  }

  function open(pid) {
    selected = pid;
    history.replaceState(null, '', `#/processes/${pid}`);
    loadDetail().then(() => detailEl.scrollIntoView({ block: 'nearest' }));
  }

  function closeDetail() {
    selected = null;
    detailEl.hidden = true;
    history.replaceState(null, '', '#/processes');
  }

  for (const [key, name] of [['cpu', 'CPU'], ['mem', 'Memory']]) {
    sortBtns[key] = h('button', { type: 'button', 'data-sort': key, 'aria-pressed': String(key === sort), onclick: () => {
      sort = key;
      for (const [k, b] of Object.entries(sortBtns)) b.setAttribute('aria-pressed', String(k === sort));
      refresh();
    } }, `By ${name}`);
  }
  let typing = null;
  text.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(refresh, 300);
  });
  by.addEventListener('change', refresh);
  tree.addEventListener('change', refresh);

  /* Each tick: the event's rows as they are, or the list read again (at
   * most every 2 s). */
  let lastList = 0;
  const onEvent = (ev) => {
    const d = ev.detail || {};
    if (d.time) clear(liveEl, `live · ${d.total ?? '?'} processes · ${started(d.time)}${d.interval_seconds ? ` (every ${d.interval_seconds} s)` : ''}`);
    if (!filtered()) {
      latest++;
      fromEvent(d);
    } else if (Date.now() - lastList > 2000) {
      lastList = Date.now();
      loadList().catch(() => {});
    }
  };

  clear(
    view,
    title,
    status,
    h(
      'section.panel',
      { 'aria-labelledby': 'proc-list-title' },
      h('h2#proc-list-title', 'What runs now ', liveEl),
      canAct(ctx) ? (isAdmin(ctx) ? null : h('p.help', 'Operators signal and renice the processes of their own account; other processes need the admin role.')) : h('p.help', 'Signalling and renicing processes needs the operator role.'),
      h(
        'div.filters',
        h('div.sort-toggle', { role: 'group', 'aria-label': 'Sort' }, Object.values(sortBtns)),
        field('Filter by', by, null, { inline: true }),
        field('Filter', text, null, { inline: true }),
        field('Tree', tree, null, { inline: true }),
      ),
      listEl,
    ),
    detailEl,
  );
  ctx.bus.addEventListener('processes', onEvent);
  refresh();
  if (selected) open(selected);
  return () => ctx.bus.removeEventListener('processes', onEvent);
}
