/* network.js — the network module's page, a network utility in five tabs
 * (#/network/TAB):
 *   Info        the host name, a card per interface (state, link, speed,
 *               addresses, traffic in binary units), the routes, the DNS
 *               resolvers (GET /api/v1/modules/network/info; monitors too);
 *   Ping        ICMP echo from the server: each reply a row as it comes,
 *               then the loss and round-trip times;
 *   Lookup      a DNS question: the answer and authority sections;
 *   Traceroute  each hop a row as it is found;
 *   Port check  open, closed or filtered, and why.
 * Ping and traceroute are streaming commands (api.js streamCommand): the
 * rows appear as the server sends them, and Stop (or leaving the page)
 * ends the stream and with it the run on the server.  The diagnostics are
 * for operators and admins (each run is audited); a monitor sees their
 * forms disabled, with the reason.  Errors are shown by the field they
 * name, or above the results. */
import { streamCommand, post, get, ApiError } from './api.js';
import { h, clear, table, badge, bytes, notice, errorText, field, busy } from './ui.js';

const TABS = [
  ['info', 'Info'],
  ['ping', 'Ping'],
  ['lookup', 'Lookup'],
  ['traceroute', 'Traceroute'],
  ['portcheck', 'Port check'],
];
const TYPES = ['A', 'AAAA', 'MX', 'TXT', 'NS', 'SOA', 'PTR', 'SRV', 'CAA', 'CNAME'];

/* "0.052 ms", "1.25 ms", "12.3 ms": as many decimals as mean something. */
export function ms(v) {
  if (typeof v !== 'number' || Number.isNaN(v)) return '–';
  return `${v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
}

/* 565523 as "565,523". */
const count = (n) => (typeof n === 'number' ? n.toLocaleString('en') : '–');

/* The server's host grammar (an IP literal or a DNS name), checked here
 * only to say so by the field before asking; the server decides. */
function hostProblem(s) {
  if (!s) return 'Enter a host: an IP address or a DNS name.';
  if (s.length > 253 || s.startsWith('-') || s.startsWith('.')) return 'That is not a host name or an IP address.';
  if (s.includes(':')) return /^[0-9A-Fa-f:.]+$/.test(s) ? null : 'That is not an IPv6 address.';
  const labels = s.replace(/\.$/, '').split('.');
  for (const l of labels) if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l)) return 'That is not a host name or an IP address.';
  return null;
}

function familySelect(id) {
  return h(
    'select',
    { id, name: 'family' },
    h('option', { value: 'any' }, 'Any'),
    h('option', { value: 'ipv4' }, 'IPv4'),
    h('option', { value: 'ipv6' }, 'IPv6'),
  );
}

/* A diagnostic's form and results: fields {name: field()} whose errors the
 * server's answer may name, a Run button that becomes Stop while a stream
 * runs, a place for the results and a summary line. */
function diagnostic(ctx, opts) {
  const may = ['operator', 'admin'].includes(ctx.me && ctx.me.role);
  const run = h('button.primary', { type: 'submit', disabled: !may }, opts.label);
  const stop = h('button', { type: 'button', hidden: true }, 'Stop');
  const status = h('div', { 'aria-live': 'polite' });
  const results = h('div.diag-results');
  const summary = h('p.diag-summary', { role: 'status' });
  let controller = null;

  const form = h(
    'form.panel.diag-form',
    { 'aria-label': opts.label, novalidate: true },
    h('div.inline-form', Object.values(opts.fields)),
    h('div.toolbar', run, stop, may ? null : h('span.muted', 'Operators and admins run diagnostics (each run is audited).')),
  );
  stop.addEventListener('click', () => controller && controller.abort());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const f of Object.values(opts.fields)) f.setError(null);
    clear(status);
    const args = opts.args();
    if (!args) return;
    clear(summary);
    clear(results);
    delete form.dataset.done;
    controller = new AbortController();
    stop.hidden = !opts.streams;
    await busy(run, async () => {
      try {
        await opts.run(args, controller.signal, { results, summary });
      } catch (e) {
        if (e.name === 'AbortError') summary.textContent = 'Stopped.';
        else showError(e);
      } finally {
        stop.hidden = true;
        controller = null;
        form.dataset.done = 'true';
      }
    });
  });

  function showError(e) {
    const f = e instanceof ApiError && e.field && opts.fields[e.field];
    if (f) {
      f.setError(e.message);
      f.input.focus();
    } else clear(status, notice('error', errorText(e)));
  }

  return {
    el: h('div', form, status, summary, results),
    stop: () => controller && controller.abort(),
  };
}

function auditNote(final) {
  return final && final.audit_id ? h('span.muted', ` (audit record ${final.audit_id})`) : null;
}

/* ---- Info ------------------------------------------------------------------------ */

function interfaceCard(i) {
  const c = i.counters || {};
  const state = i.state || 'unknown';
  const speed = i.speed_mbps ? `${i.speed_mbps >= 1000 ? `${i.speed_mbps / 1000} Gb/s` : `${i.speed_mbps} Mb/s`}${i.duplex ? `, ${i.duplex} duplex` : ''}` : null;
  return h(
    'section.panel.iface',
    { 'aria-label': `interface ${i.name}`, 'data-iface': i.name },
    h('h3', i.name, ' ', badge(state, state === 'up' ? 'ok' : state === 'down' ? 'bad' : 'muted'), i.carrier === false ? badge('no carrier', 'warn') : null),
    h('p.muted.iface-flags', (i.flags || []).join(' ')),
    h(
      'dl.facts',
      h('div', h('dt', 'Link'), h('dd', i.type || '–')),
      h('div', h('dt', 'MAC'), h('dd.mono', i.mac || '–')),
      h('div', h('dt', 'MTU'), h('dd', String(i.mtu ?? '–'))),
      speed ? h('div', h('dt', 'Speed'), h('dd', speed)) : null,
    ),
    (i.addresses || []).length
      ? h('ul.addresses', (i.addresses || []).map((a) => h('li.mono', `${a.address}/${a.prefix_length}`, h('span.muted', ` ${a.family === 'ipv6' ? 'IPv6' : 'IPv4'}, ${a.scope}`))))
      : h('p.muted', 'No address.'),
    table(
      [
        { label: '', cell: (r) => r[0] },
        { label: 'Bytes', class: 'num', cell: (r) => bytes(r[1]) },
        { label: 'Packets', class: 'num', cell: (r) => count(r[2]) },
        { label: 'Errors', class: 'num', cell: (r) => count(r[3]) },
        { label: 'Dropped', class: 'num', cell: (r) => count(r[4]) },
      ],
      [
        ['Received', c.rx_bytes, c.rx_packets, c.rx_errors, c.rx_dropped],
        ['Sent', c.tx_bytes, c.tx_packets, c.tx_errors, c.tx_dropped],
      ],
      { label: `traffic of ${i.name}` },
    ),
  );
}

function infoPart(el) {
  async function load() {
    clear(el, h('p.muted', 'Loading…'));
    let info;
    try {
      info = await get('/api/v1/modules/network/info');
    } catch (e) {
      clear(el, notice('error', errorText(e)));
      return;
    }
    const dns = info.dns || {};
    clear(
      el,
      h('p', 'Host name ', h('strong', info.hostname || '?'), info.fqdn && info.fqdn !== info.hostname ? h('span.muted', ` (${info.fqdn})`) : null),
      h('h2', 'Interfaces'),
      h('div.grid', (info.interfaces || []).map(interfaceCard)),
      h('h2', 'Routes'),
      table(
        [
          { label: 'Destination', cell: (r) => h('span.mono', r.destination) },
          { label: 'Gateway', cell: (r) => (r.gateway ? h('span.mono', r.gateway) : h('span.muted', 'direct')) },
          { label: 'Interface', cell: (r) => r.interface || '–' },
          { label: 'Metric', class: 'num', cell: (r) => String(r.metric ?? '') },
          { label: 'Protocol', cell: (r) => r.protocol || '' },
          { label: 'Scope', cell: (r) => r.scope || '' },
          { label: 'Table', cell: (r) => String(r.table ?? '') },
        ],
        info.routes || [],
        { class: 'routes', label: 'routes', empty: 'No route.' },
      ),
      h('h2', 'DNS'),
      h(
        'section.panel',
        { 'aria-label': 'resolvers' },
        h(
          'dl.facts',
          h('div', h('dt', 'Servers'), h('dd.mono', (dns.servers || []).join(' ') || '–')),
          h('div', h('dt', 'Search'), h('dd', (dns.search || []).join(' ') || '–')),
          h('div', h('dt', 'Options'), h('dd', (dns.options || []).join(' ') || '–')),
          h('div', h('dt', 'Source'), h('dd', dns.source || '–', dns.resolved ? h('span.muted', ' (systemd-resolved stub)') : null)),
        ),
      ),
    );
  }
  return { load };
}

/* ---- Ping -------------------------------------------------------------------------- */

function pingRow(ev) {
  let what;
  if (typeof ev.time_ms === 'number') what = badge('reply', 'ok');
  else if (ev.timeout) what = badge('no reply', 'warn');
  else what = badge(ev.error || 'error', 'bad');
  return h(
    'tr',
    { 'data-seq': String(ev.seq) },
    h('td.num', String(ev.seq)),
    h('td', what),
    h('td.mono', ev.from || ''),
    h('td.num', ev.ttl === undefined || ev.ttl === null ? '' : String(ev.ttl)),
    h('td.num', typeof ev.time_ms === 'number' ? ms(ev.time_ms) : ''),
  );
}

/* A table whose rows come one by one. */
function liveTable(label, heads) {
  const body = h('tbody');
  const el = h(
    'div.table-wrap',
    { tabIndex: 0, role: 'region', 'aria-label': label },
    h('table', { class: 'diag' }, h('thead', h('tr', heads.map(([t, cls]) => h('th', { scope: 'col', class: cls }, t)))), body),
  );
  return { el, add: (tr) => body.append(tr) };
}

function pingPart(el, ctx) {
  const host = field('Host', h('input', { name: 'host', required: true, autocomplete: 'off', spellcheck: false, placeholder: 'example.org' }), 'An IP address or a DNS name, reached from the server.');
  const count = field('Count', h('input', { name: 'count', type: 'number', min: 1, max: 20, step: 1, value: 4 }), '1 to 20 requests.');
  const interval = field('Interval (s)', h('input', { name: 'interval', type: 'number', min: 0.2, max: 5, step: 0.1, value: 1 }), '0.2 to 5 seconds apart.');
  const family = field('Family', familySelect('ping-family'));
  const d = diagnostic(ctx, {
    label: 'Ping',
    streams: true,
    fields: { host, count, interval_ms: interval, family },
    args() {
      const hv = host.input.value.trim();
      const c = Number(count.input.value);
      const i = Number(interval.input.value);
      let bad = false;
      const hp = hostProblem(hv);
      if (hp) {
        host.setError(hp);
        bad = true;
      }
      if (!Number.isInteger(c) || c < 1 || c > 20) {
        count.setError('A count from 1 to 20.');
        bad = true;
      }
      if (!(i >= 0.2 && i <= 5)) {
        interval.setError('From 0.2 to 5 seconds.');
        bad = true;
      }
      if (bad) return null;
      return { host: hv, count: c, interval_ms: Math.round(i * 1000), family: family.input.value };
    },
    async run(args, signal, { results, summary }) {
      const t = liveTable('ping replies', [['Seq', 'num'], ['Result'], ['From'], ['TTL', 'num'], ['Time', 'num']]);
      clear(results, t.el);
      summary.textContent = `Pinging ${args.host}…`;
      const final = await streamCommand('network', 'ping', args, (ev) => t.add(pingRow(ev)), signal);
      const r = final.result || {};
      clear(
        summary,
        h('strong', `${r.transmitted} sent, ${r.received} received, ${Math.round(r.loss_percent)} % loss`),
        r.received ? ` — round trip min/avg/max ${ms(r.rtt_min_ms)} / ${ms(r.rtt_avg_ms)} / ${ms(r.rtt_max_ms)}` : '',
        h('span.muted', ` — ${r.host}${r.address && r.address !== r.host ? ` (${r.address})` : ''}`),
        auditNote(final),
      );
    },
  });
  el.append(d.el);
  return { stop: d.stop };
}

/* ---- Traceroute ---------------------------------------------------------------- */

function hopRow(hop) {
  const rtts = hop.rtt_ms || [];
  return h(
    'tr',
    { 'data-hop': String(hop.hop) },
    h('td.num', String(hop.hop)),
    h('td.mono', hop.address || h('span.muted', '*')),
    [0, 1, 2].map((k) => h('td.num', typeof rtts[k] === 'number' ? ms(rtts[k]) : h('span.muted', '*'))),
    h('td', hop.reached ? badge('reached', 'ok') : hop.error ? badge(hop.error, 'bad') : ''),
  );
}

function traceroutePart(el, ctx) {
  const host = field('Host', h('input', { name: 'host', required: true, autocomplete: 'off', spellcheck: false, placeholder: 'example.org' }), 'An IP address or a DNS name.');
  const max = field('Max hops', h('input', { name: 'max_hops', type: 'number', min: 1, max: 30, step: 1, value: 30 }), '1 to 30.');
  const family = field('Family', familySelect('trace-family'));
  const d = diagnostic(ctx, {
    label: 'Trace',
    streams: true,
    fields: { host, max_hops: max, family },
    args() {
      const hv = host.input.value.trim();
      const m = Number(max.input.value);
      let bad = false;
      const hp = hostProblem(hv);
      if (hp) {
        host.setError(hp);
        bad = true;
      }
      if (!Number.isInteger(m) || m < 1 || m > 30) {
        max.setError('From 1 to 30 hops.');
        bad = true;
      }
      return bad ? null : { host: hv, max_hops: m, family: family.input.value };
    },
    async run(args, signal, { results, summary }) {
      const t = liveTable('hops', [['Hop', 'num'], ['Address'], ['Probe 1', 'num'], ['Probe 2', 'num'], ['Probe 3', 'num'], ['']]);
      clear(results, t.el);
      summary.textContent = `Tracing the route to ${args.host}…`;
      const final = await streamCommand('network', 'traceroute', args, (hop) => t.add(hopRow(hop)), signal);
      const r = final.result || {};
      clear(
        summary,
        h('strong', r.reached ? `Reached ${r.host} in ${(r.hops || []).length} hops` : `${r.host} not reached after ${(r.hops || []).length} hops`),
        r.address && r.address !== r.host ? h('span.muted', ` (${r.address})`) : null,
        auditNote(final),
      );
    },
  });
  el.append(d.el);
  return { stop: d.stop };
}

/* ---- Lookup ---------------------------------------------------------------------- */

function recordsTable(label, rows) {
  return table(
    [
      { label: 'Name', cell: (a) => h('span.mono', a.name) },
      { label: 'TTL', class: 'num', cell: (a) => String(a.ttl ?? '') },
      { label: 'Type', cell: (a) => a.type },
      { label: 'Data', cell: (a) => h('span.mono', a.data) },
    ],
    rows,
    { label, caption: label, empty: 'No record.' },
  );
}

function lookupPart(el, ctx) {
  const name = field('Name', h('input', { name: 'name', required: true, autocomplete: 'off', spellcheck: false, placeholder: 'example.org' }), 'A DNS name; for PTR an IP address too.');
  const type = field('Type', h('select', { name: 'type' }, TYPES.map((t) => h('option', { value: t }, t))));
  const server = field('Server', h('input', { name: 'server', autocomplete: 'off', spellcheck: false, placeholder: 'the server’s resolvers' }), 'Optional: the IP address of a DNS server to ask.');
  const d = diagnostic(ctx, {
    label: 'Look up',
    fields: { name, type, server },
    args() {
      const n = name.input.value.trim();
      const s = server.input.value.trim();
      let bad = false;
      if (!n || n.length > 254) {
        name.setError('Enter a name.');
        bad = true;
      }
      if (s && !/^[0-9A-Fa-f:.]+$/.test(s)) {
        server.setError('An IP address (IPv4 or IPv6).');
        bad = true;
      }
      if (bad) return null;
      const a = { name: n, type: type.input.value };
      if (s) a.server = s;
      return a;
    },
    async run(args, signal, { results, summary }) {
      summary.textContent = `Asking for the ${args.type} records of ${args.name}…`;
      const r = await post('/api/v1/modules/network/commands/lookup', args);
      clear(
        summary,
        badge(r.rcode || '?', r.rcode === 'NOERROR' ? 'ok' : 'bad'),
        ' ',
        h('strong', `${r.name} ${r.type}`),
        ` from ${r.server} in ${ms(r.time_ms)}`,
        r.rcode === 'NOERROR' && !(r.answers || []).length ? ' — no record of that type' : '',
        auditNote(r),
      );
      clear(results, recordsTable('Answer', r.answers || []), (r.authority || []).length ? recordsTable('Authority', r.authority) : null);
    },
  });
  el.append(d.el);
  return {};
}

/* ---- Port check -------------------------------------------------------------------- */

function portcheckPart(el, ctx) {
  const host = field('Host', h('input', { name: 'host', required: true, autocomplete: 'off', spellcheck: false, placeholder: 'example.org' }), 'An IP address or a DNS name.');
  const port = field('Port', h('input', { name: 'port', type: 'number', min: 1, max: 65535, step: 1, inputMode: 'numeric' }), 'A TCP port, 1 to 65535.');
  const timeout = field('Timeout (s)', h('input', { name: 'timeout', type: 'number', min: 0.1, max: 10, step: 0.1, value: 3 }), '0.1 to 10 seconds.');
  const d = diagnostic(ctx, {
    label: 'Check',
    fields: { host, port, timeout_ms: timeout },
    args() {
      const hv = host.input.value.trim();
      const p = Number(port.input.value);
      const t = Number(timeout.input.value);
      let bad = false;
      const hp = hostProblem(hv);
      if (hp) {
        host.setError(hp);
        bad = true;
      }
      if (!Number.isInteger(p) || p < 1 || p > 65535) {
        port.setError('A port from 1 to 65535.');
        bad = true;
      }
      if (!(t >= 0.1 && t <= 10)) {
        timeout.setError('From 0.1 to 10 seconds.');
        bad = true;
      }
      return bad ? null : { host: hv, port: p, timeout_ms: Math.round(t * 1000) };
    },
    async run(args, signal, { summary }) {
      summary.textContent = `Connecting to ${args.host} port ${args.port}…`;
      const r = await post('/api/v1/modules/network/commands/portcheck', args);
      clear(
        summary,
        h('strong', `${r.host}${r.address && r.address !== r.host ? ` (${r.address})` : ''} port ${r.port}: `),
        badge(r.state, { open: 'ok', closed: 'bad', filtered: 'warn' }[r.state] || 'muted'),
        r.reason ? ` ${r.reason}` : '',
        ` — ${ms(r.time_ms)}`,
        auditNote(r),
      );
    },
  });
  el.append(d.el);
  return {};
}

/* ---- the page ---------------------------------------------------------------------- */

export async function render(view, ctx, tab) {
  const title = h('h1', 'Network');
  const panel = h('div', { role: 'tabpanel', id: 'network-panel' });
  const tabs = TABS.map(([t, label]) =>
    h('button', { type: 'button', role: 'tab', id: `network-tab-${t}`, 'data-tab': t, 'aria-controls': 'network-panel', 'aria-selected': 'false', onclick: () => show(t) }, label),
  );
  clear(view, title, h('div.tabs.wrap', { role: 'tablist', 'aria-label': 'Network utility' }, tabs), panel);
  const parts = {};
  let current = null;

  function part(t) {
    if (!parts[t]) {
      const el = h('div', { 'data-part': t });
      const make = { info: infoPart, ping: pingPart, lookup: lookupPart, traceroute: traceroutePart, portcheck: portcheckPart }[t];
      parts[t] = { el, ...make(el, ctx) };
    }
    return parts[t];
  }

  async function show(t) {
    if (!TABS.some(([x]) => x === t)) t = 'info';
    current = t;
    for (const b of tabs) b.setAttribute('aria-selected', String(b.dataset.tab === t));
    panel.setAttribute('aria-labelledby', `network-tab-${t}`);
    if (location.hash !== `#/network/${t}`) history.replaceState(null, '', `#/network/${t}`);
    const p = part(t);
    clear(panel, p.el);
    delete title.dataset.loaded;
    if (p.load) await p.load();
    if (current === t) title.dataset.loaded = t;
  }

  await show(tab);
  /* Leaving the page ends a stream still running (and the run with it). */
  return () => {
    for (const p of Object.values(parts)) if (p.stop) p.stop();
  };
}
