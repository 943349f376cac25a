/* overview.js — the host at a glance: facts from the system module's full
 * status, live charts, filesystems, and the findings that need a look (the
 * audit chain's state, failed logins, and each module's own: a module whose
 * schema says console overview: true ships overviewFindings() and
 * overviewEvents in its console page, web/js/NAME.js, which this page
 * imports without naming it; such a page may also export overviewBanner(),
 * a section for the top of the overview or null — the alerts that fire).
 * Numbers are shown as the API gives them; each
 * carries data-field so tests can compare with the API. */
import { get } from './api.js';
import { h, clear, bytes, duration, severityBadge, table, notice, errorText } from './ui.js';
import { Chart, RANGES } from './charts.js';

const CHARTS = [
  /* 'system': the CPU mode, not the module */
  ['CPU', [{ name: 'cpu.busy', label: 'busy' }, { name: 'cpu.user', label: 'user' }, { name: 'cpu.system', label: 'system' }, { name: 'cpu.iowait', label: 'iowait' }], 'percent'],
  ['Memory', [{ name: 'mem.used', label: 'used' }, { name: 'swap.used', label: 'swap used' }], 'bytes'],
  ['Network', [{ name: 'net.rx', label: 'received' }, { name: 'net.tx', label: 'sent' }], 'bytes/s'],
  ['Disk', [{ name: 'disk.read', label: 'read' }, { name: 'disk.write', label: 'written' }], 'bytes/s'],
];

const fact = (label, value, key) => h('div', h('dt', label), h('dd', { 'data-field': key }, value));

function factsPanel(s) {
  const load = s.load || {};
  return h(
    'section.panel',
    { 'aria-labelledby': 'host-title' },
    h('h2#host-title', 'Host'),
    h(
      'dl.facts',
      fact('Host name', s.hostname, 'hostname'),
      fact('OS', (s.os && (s.os.pretty_name || s.os.name)) || '–', 'os'),
      fact('Kernel', (s.kernel && s.kernel.release) || '–', 'kernel'),
      fact('Architecture', s.architecture || '–', 'architecture'),
      fact('CPUs', s.cpu ? String(s.cpu.count) : '–', 'cpus'),
      fact('Memory', s.memory ? bytes(s.memory.total_bytes) : '–', 'memory'),
      fact('Up for', duration(s.uptime_seconds), 'uptime'),
      fact(
        'Load average',
        [['1', '1 min'], ['5', '5 min'], ['15', '15 min']].map(([k, l]) => (load[k] === undefined ? `– (${l})` : `${load[k].toFixed(2)} (${l})`)).join(' · '),
        'load',
      ),
    ),
  );
}

function filesystemsPanel(s) {
  const fss = s.filesystems || [];
  return h(
    'section.panel',
    { 'aria-labelledby': 'fs-title' },
    h('h2#fs-title', 'Filesystems'),
    table(
      [
        { label: 'Mounted on', cell: (f) => h('span.mono', f.mountpoint) },
        { label: 'Device', cell: (f) => h('span.mono', f.device) },
        { label: 'Type', cell: (f) => f.fstype + (f.read_only ? ' (ro)' : '') },
        { label: 'Size', class: 'num', cell: (f) => h('span', { 'data-size': String(f.size_bytes) }, bytes(f.size_bytes)) },
        {
          label: 'Used',
          cell: (f) => {
            /* Like df: used over what non-root users can have. */
            const denom = f.used_bytes + f.available_bytes;
            const pct = denom > 0 ? (100 * f.used_bytes) / denom : 0;
            return h(
              'div.fs-usage',
              h('meter', { min: 0, max: 100, low: 80, high: 90, optimum: 0, value: pct, 'aria-label': `${f.mountpoint} used` }),
              h('span', `${Math.round(pct)} % · ${bytes(f.available_bytes)} free`),
            );
          },
        },
      ],
      fss,
      { class: 'filesystems', label: 'filesystems', empty: 'No filesystems reported.' },
    ),
  );
}

/* The console pages of the modules with overview findings. */
const findingPages = (ctx) => Promise.all(ctx.pages.filter((p) => p.overview).map((p) => import(`./${p.name}.js`).catch(() => null)));

async function findingsPanel(el, ctx) {
  const items = [];
  const [verify, daemon, pages] = await Promise.all([
    get('/api/v1/audit/verify').catch((e) => ({ error: e })),
    get('/api/v1/modules/stewardd?full=1').catch((e) => ({ error: e })),
    findingPages(ctx),
  ]);
  if (verify.error) items.push(h('li', severityBadge('warning', 'audit'), ' ', errorText(verify.error)));
  else if (verify.ok)
    items.push(h('li', { 'data-finding': 'audit-verify' }, severityBadge('info', 'audit'), ` The audit log's hash chain is intact (${verify.records} records).`));
  else
    items.push(
      h('li', { 'data-finding': 'audit-verify' }, severityBadge('critical', 'audit'), ` The audit log's chain is broken at record ${verify.first_broken}: ${verify.message || ''}`),
    );
  for (const found of await Promise.all(pages.filter((m) => m && m.overviewFindings).map((m) => m.overviewFindings()))) items.push(...found);
  const logins = daemon.error ? null : daemon.logins;
  if (logins) {
    const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
    const sev = logins.sources_blocked || logins.sources_throttled ? 'warning' : 'info';
    const waiting = [
      logins.sources_blocked ? `${plural(logins.sources_blocked, 'address is', 'addresses are')} blocked` : null,
      logins.sources_throttled ? `${plural(logins.sources_throttled, 'address', 'addresses')} must wait before trying again` : null,
    ].filter(Boolean);
    items.push(
      h(
        'li',
        { 'data-finding': 'logins', 'data-failed': String(logins.failed) },
        severityBadge(sev, 'logins'),
        ` ${plural(logins.failed, 'failed login', 'failed logins')} and ${logins.ok} successful since the daemon started${waiting.length ? `; ${waiting.join(', ')}` : ''}.`,
      ),
    );
  }
  clear(
    el,
    h('h2#findings-title', 'Findings'),
    h('ul.findings', items),
    h(
      'p.muted',
      logins
        ? 'Failed logins are also logged one per line, with their source, for fail2ban (data/fail2ban/).'
        : 'Failed logins are logged one per line, with their source, for fail2ban (data/fail2ban/); the login counts are not known yet.',
    ),
  );
}

/* The banners at the top: each module page's overviewBanner(), in the
 * navigation's order; nothing when none has anything to say. */
async function bannersPanel(el, ctx) {
  const pages = (await findingPages(ctx)).filter((m) => m && m.overviewBanner);
  const shown = await Promise.all(pages.map((m) => Promise.resolve(m.overviewBanner()).catch(() => null)));
  clear(el, shown.filter(Boolean));
}

export async function render(view, ctx) {
  const charts = CHARTS.map(([t, s, u]) => new Chart(t, s, u));
  let range = RANGES[0];
  let poll = null;
  let statusTimer = null;

  const banners = h('div.banners');
  const facts = h('div');
  const fs = h('div');
  const findings = h('section.panel', { 'aria-labelledby': 'findings-title' }, h('h2#findings-title', 'Findings'), h('p.muted', 'Loading…'));
  const liveState = h('span.live-state.muted', { 'aria-live': 'polite' });
  const rangeButtons = RANGES.map((r) =>
    h('button', { type: 'button', 'aria-pressed': String(r === range), 'data-range': r.id, onclick: () => setRange(r) }, r.label),
  );

  clear(
    view,
    h('h1', 'Overview'),
    banners,
    facts,
    h(
      'section.panel',
      { 'aria-labelledby': 'charts-title' },
      h('div.section-head', h('h2#charts-title', 'Activity'), liveState, h('div.ranges', { role: 'group', 'aria-label': 'History range' }, rangeButtons)),
      h('div.charts', charts.map((c) => c.el)),
    ),
    findings,
    fs,
  );

  async function loadStatus() {
    try {
      const s = await get('/api/v1/modules/system?full=1');
      clear(facts, factsPanel(s));
      clear(fs, filesystemsPanel(s));
    } catch (e) {
      clear(facts, notice('error', errorText(e)));
    }
  }

  async function setRange(r) {
    range = r;
    for (const b of rangeButtons) b.setAttribute('aria-pressed', String(b.dataset.range === r.id));
    await Promise.all(charts.map((c) => c.load(r)));
  }

  function updateLive() {
    clearInterval(poll);
    poll = null;
    if (ctx.live()) {
      liveState.textContent = '● live';
    } else {
      liveState.textContent = 'live updates are not available here; refreshed every 10 s';
      poll = setInterval(() => charts.forEach((c) => c.load(range)), 10000);
    }
  }

  const onSample = (ev) => charts.forEach((c) => c.push(ev.detail));
  const onReset = () => setRange(range);
  const onLive = () => updateLive();
  /* The events after which a module's findings change. */
  const onFindings = () => {
    findingsPanel(findings, ctx);
    bannersPanel(banners, ctx);
  };
  const findingEvents = [...new Set((await findingPages(ctx)).flatMap((m) => (m && m.overviewEvents) || []))];
  ctx.bus.addEventListener('sample', onSample);
  ctx.bus.addEventListener('reset', onReset);
  ctx.bus.addEventListener('live', onLive);
  for (const t of findingEvents) ctx.bus.addEventListener(t, onFindings);

  bannersPanel(banners, ctx);
  await loadStatus();
  await setRange(range);
  findingsPanel(findings, ctx);
  /* Live state: known once the event source has opened or failed. */
  liveState.textContent = ctx.live() ? '● live' : 'connecting…';
  setTimeout(updateLive, ctx.live() ? 0 : 3000);
  statusTimer = setInterval(loadStatus, 30000);

  return () => {
    clearInterval(poll);
    clearInterval(statusTimer);
    ctx.bus.removeEventListener('sample', onSample);
    ctx.bus.removeEventListener('reset', onReset);
    ctx.bus.removeEventListener('live', onLive);
    for (const t of findingEvents) ctx.bus.removeEventListener(t, onFindings);
    charts.forEach((c) => c.destroy());
  };
}
