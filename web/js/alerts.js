/* alerts.js — the alerts module's page (#/alerts[/TAB]) and its overview
 * banner.
 *
 * Four tabs:
 *   firing    GET /api/v1/alerts: the pending, firing and recently resolved
 *             alerts (state, severity, since as a relative time, the value
 *             in its rule's unit, the instance); Acknowledge…, Unacknowledge
 *             and Silence… (operators and admins: POST
 *             /api/v1/alerts/{fingerprint}/{ack|unack|silence}).
 *   rules     the alert_rules collection: each rule's condition in words
 *             ("used ≥ 90 % for 5 min, clears below 85 %"), state, enabled;
 *             New rule / Edit (admins) is a form built from the collection's
 *             schema, each kind's own fields shown only for that kind, sent
 *             with ?dry_run=1 and shown as a plan before Apply (plan.js);
 *             Delete the same way.
 *   history   GET /api/v1/modules/alerts/history: the transitions, newest
 *             first, filtered by rule, Older pages back by its cursor.
 *   silences  the alert_silences collection, active and recently expired,
 *             Expire (the expire action) for operators and admins.
 * Live: each `alert` event (a transition) reloads the tab shown.  Monitors
 * see everything with the buttons disabled and the role that they need in
 * their titles (the API refuses them too).
 *
 * For the overview (console_overview): overviewBanner() is the firing
 * alerts' line at the top of the overview (counts by severity, one line
 * each, linked here), nothing when none fire; overviewEvents names the
 * event after which it is drawn again. */
import { get, post, seg } from './api.js';
import { planned, showError } from './plan.js';
import { collectionSchema } from './collection.js';
import { h, clear, table, badge, notice, modal, confirm, busy, errorText, field, duration, bytes, when } from './ui.js';

const ROLES = ['monitor', 'operator', 'admin'];
const TABS = [
  ['firing', 'Firing'],
  ['rules', 'Rules'],
  ['history', 'History'],
  ['silences', 'Silences'],
];

export const overviewEvents = ['alert'];

/* ---- words and units ------------------------------------------------------------- */

const KINDS = {
  threshold: 'Threshold on a value',
  disk: 'Disk usage',
  disk_fill: 'Disk filling up',
  unit_failed: 'Failed unit',
  new_listener: 'New listener',
  login_failures: 'Failed logins',
  audit_chain: 'Audit chain',
  cert_expiry: 'Certificate expiry',
  mail_queue: 'Mail queue',
  share_disk: "Share's disk",
};

/* The fields each kind takes beyond name, kind, for, severity, enabled and
 * summary (those every rule has). */
const KIND_FIELDS = {
  threshold: ['series', 'op', 'threshold', 'clear'],
  disk: ['match', 'op', 'threshold', 'clear'],
  disk_fill: ['match', 'op', 'threshold', 'clear', 'window'],
  unit_failed: ['match'],
  new_listener: [],
  login_failures: ['op', 'threshold', 'clear', 'window'],
  audit_chain: [],
  cert_expiry: ['match', 'op', 'threshold', 'clear'],
  mail_queue: ['op', 'threshold', 'clear'],
  share_disk: ['match', 'op', 'threshold', 'clear'],
};
const KIND_SPECIFIC = new Set(Object.values(KIND_FIELDS).flat());

/* What the match field means for each kind, as its label. */
const MATCH_LABEL = {
  disk: 'Mount point (empty: every filesystem)',
  disk_fill: 'Mount point (empty: every filesystem)',
  unit_failed: 'Units (a glob, empty: every unit)',
  cert_expiry: "Certificate file (empty: stewardd's own)",
  share_disk: 'Share (empty: every share)',
};

const SERIES_UNITS = { cpu: 'percent', mem: 'bytes', swap: 'bytes', net: 'bytes/s', disk: 'bytes/s' };

/* The unit of a rule's value: "percent", "hours", "days", "bytes",
 * "bytes/s", a count's noun, or '' (a yes/no condition). */
function unitOf(rule) {
  if (!rule) return null;
  switch (rule.kind) {
    case 'disk':
    case 'share_disk':
      return 'percent';
    case 'disk_fill':
      return 'hours';
    case 'cert_expiry':
      return 'days';
    case 'login_failures':
      return 'failed logins';
    case 'mail_queue':
      return 'messages';
    case 'threshold': {
      const s = String(rule.series || '');
      /* A sample's unit is the end of its name, by Prometheus' custom. */
      if (s.startsWith('metric:')) {
        const name = s.slice(7).split('{')[0];
        return [['_bytes', 'bytes'], ['_seconds', 'seconds'], ['_percent', 'percent']].find(([x]) => name.endsWith(x))?.[1] || null;
      }
      if (s.startsWith('status:')) return null;
      return SERIES_UNITS[s.split('.')[0]] || null;
    }
    default:
      return '';
  }
}

function round(v) {
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
}

/* A value as people read it in its unit: "92.1 %", "1.2 GiB", "18 h". */
export function valueText(v, unit) {
  if (typeof v !== 'number' || Number.isNaN(v)) return '–';
  switch (unit) {
    case 'percent':
      return `${round(v)} %`;
    case 'bytes':
      return bytes(v);
    case 'bytes/s':
      return `${bytes(v)}/s`;
    case 'seconds':
      return duration(v);
    case 'hours':
      return v < 1 ? `${Math.round(v * 60)} min` : `${round(v)} h`;
    case 'days':
      return `${round(v)} ${Math.round(v) === 1 ? 'day' : 'days'}`;
    case 'failed logins':
    case 'messages':
      return `${round(v)} ${unit}`;
    case '':
      return v ? 'yes' : 'no';
    default:
      return round(v);
  }
}

/* "5m", "2h", "90s" or seconds → seconds; null when it reads as neither. */
function seconds(d) {
  if (typeof d === 'number') return d;
  const m = /^(\d+)(s|m|h|d)?$/.exec(String(d || '').trim());
  if (!m) return null;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] || 's'];
}

const durationText = (d) => {
  const s = seconds(d);
  return s === null ? String(d) : duration(s);
};

/* A time (unix seconds or ISO text) → unix seconds, or null. */
function unix(t) {
  if (typeof t === 'number') return t || null;
  if (!t) return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms / 1000;
}

/* "12 min ago", "in 1 h 59 min". */
export function relative(t) {
  const s = unix(t);
  if (s === null) return '–';
  const d = Math.round(Date.now() / 1000 - s);
  if (Math.abs(d) < 5) return 'just now';
  return d > 0 ? `${duration(d)} ago` : `in ${duration(-d)}`;
}

const timeCell = (t) => h('span.when', { 'data-time': String(unix(t) || ''), title: when(unix(t)) }, relative(t));

const OPS = { '>': '>', '>=': '≥', '<': '<', '<=': '≤', gt: '>', ge: '≥', lt: '<', le: '≤' };
const opText = (op) => OPS[op] || op || '≥';
const below = (op) => (['<', '<=', 'lt', 'le'].includes(op) ? 'above' : 'below');

/* The rule's condition in words: "used ≥ 90 % for 5 min, clears below 85 %". */
export function conditionText(r) {
  const unit = unitOf(r);
  const v = (x) => (typeof x === 'number' ? (unit === '' ? round(x) : valueText(x, unit)) : '–');
  const cmp = `${opText(r.op)} ${v(r.threshold)}`;
  const where = r.match ? ` (${r.match})` : '';
  let s;
  switch (r.kind) {
    case 'threshold':
      s = `${r.series || '?'} ${cmp}`;
      break;
    case 'disk':
      s = `used${r.match ? ` on ${r.match}` : ' on any filesystem'} ${cmp}`;
      break;
    case 'share_disk':
      s = `the filesystem of ${r.match ? `share ${r.match}` : 'any share'} used ${cmp}`;
      break;
    case 'disk_fill':
      s = `${r.match || 'a filesystem'} predicted full within ${v(r.threshold)}${r.window ? ` (trend over ${durationText(r.window)})` : ''}`;
      break;
    case 'unit_failed':
      s = `a unit${where} failed`;
      break;
    case 'new_listener':
      s = 'a listener not in the ports baseline';
      break;
    case 'login_failures':
      s = `failed logins ${opText(r.op)} ${typeof r.threshold === 'number' ? round(r.threshold) : '–'}${r.window ? ` within ${durationText(r.window)}` : ''}`;
      break;
    case 'audit_chain':
      s = "the audit log's hash chain fails verification";
      break;
    case 'cert_expiry':
      s = `${r.match ? `certificate ${r.match}` : "stewardd's certificate"} expires within ${v(r.threshold)}`;
      break;
    case 'mail_queue':
      s = `mail queue ${cmp}`;
      break;
    default:
      s = `${r.kind} ${cmp}`;
  }
  const f = seconds(r.for);
  if (f) s += ` for ${duration(f)}`;
  const yesNo = ['unit_failed', 'new_listener', 'audit_chain'].includes(r.kind);
  if (!yesNo && r.kind !== 'disk_fill' && typeof r.clear === 'number' && r.clear !== r.threshold)
    s += `, clears ${below(r.op)} ${r.kind === 'login_failures' ? round(r.clear) : v(r.clear)}`;
  return s;
}

function stateBadgeOf(state) {
  const kind = { firing: 'bad', pending: 'warn', resolved: 'ok', inactive: 'muted' }[state] || 'muted';
  return h('span', { 'data-state': state || 'inactive' }, badge(state || 'inactive', kind));
}

function severityOf(a) {
  return a.severity || (a.labels && a.labels.severity) || 'warning';
}

function severityBadgeOf(sev) {
  return h('span', { 'data-severity': sev }, badge(sev, sev === 'critical' ? 'bad' : 'warn'));
}

const may = (ctx, role) => ROLES.indexOf((ctx.me && ctx.me.role) || 'monitor') >= ROLES.indexOf(role);
const needs = (role) => `Needs the role ${role} or higher.`;

function say(status, kind, text) {
  const n = notice(kind, text);
  n.tabIndex = -1;
  clear(status, n);
  n.focus();
}

const audit = (r) => (r && typeof r.audit_id === 'number' ? ` (audit record ${r.audit_id})` : '');

/* Rules by name: for units and words. */
async function rulesByName() {
  try {
    const r = await get('/api/v1/alert_rules');
    return new Map((r.alert_rules || []).map((x) => [x.name, x]));
  } catch {
    return new Map();
  }
}

/* ---- firing ------------------------------------------------------------------------ */

async function ackAlert(a, status) {
  const comment = h('input', { name: 'comment', maxLength: 256, spellcheck: true });
  const v = await modal(`Acknowledge ${a.rule}${a.instance ? ` on ${a.instance}` : ''}?`, [
    h('p', 'Everyone sees who acknowledged it; notifications go on until it resolves or is silenced.'),
    field('Comment (optional)', comment, 'What is being done about it.', { name: 'comment' }),
  ], [
    { label: 'Cancel', value: 'cancel' },
    { label: 'Acknowledge', value: 'ok', primary: true },
  ]);
  if (v !== 'ok') return null;
  return post(`/api/v1/alerts/${seg(a.fingerprint)}/ack`, comment.value.trim() ? { comment: comment.value.trim() } : {});
}

const DURATIONS = [
  ['30m', '30 minutes'],
  ['1h', '1 hour'],
  ['2h', '2 hours'],
  ['8h', '8 hours'],
  ['1d', '1 day'],
  ['7d', '7 days'],
  ['30d', '30 days'],
];

async function silenceAlert(a) {
  const dur = h('select', { name: 'duration' }, DURATIONS.map(([d, l]) => h('option', { value: d, selected: d === '2h' }, l)));
  const reason = h('input', { name: 'reason', maxLength: 256, 'aria-required': 'true', spellcheck: true });
  const fields = { duration: field('For', dur, null, { name: 'duration' }), reason: field('Reason', reason, 'Required: why it may stay quiet.', { name: 'reason' }) };
  for (;;) {
    const v = await modal(`Silence ${a.rule}${a.instance ? ` on ${a.instance}` : ''}?`, [
      h('p', 'No notification is sent for it while the silence lasts; the page still shows it.'),
      Object.values(fields),
    ], [
      { label: 'Cancel', value: 'cancel' },
      { label: 'Silence', value: 'ok', primary: true },
    ]);
    if (v !== 'ok') return null;
    if (reason.value.trim()) break;
    fields.reason.setError('Say why.');
  }
  return post(`/api/v1/alerts/${seg(a.fingerprint)}/silence`, { duration: dur.value, reason: reason.value.trim() });
}

function firingPart(el, ctx, status) {
  const canAct = may(ctx, 'operator');
  const stateSel = h('select', { name: 'state' }, [['', 'all'], ['firing', 'firing'], ['pending', 'pending'], ['resolved', 'resolved']].map(([v, l]) => h('option', { value: v }, l)));
  const list = h('div');
  let rules = new Map();

  function actions(a) {
    const title = canAct ? null : needs('operator');
    const act = (label, fn, done) =>
      h(
        'button',
        {
          type: 'button',
          'data-action': label.replace(/…$/, '').toLowerCase(),
          'aria-label': `${label.replace(/…$/, '')} ${a.rule}${a.instance ? ` ${a.instance}` : ''}`,
          disabled: !canAct,
          title,
          onclick: async (ev) =>
            busy(ev.target, async () => {
              try {
                const r = await fn();
                if (!r) return;
                say(status, 'ok', `${done}${audit(r)}.`);
                await load();
              } catch (e) {
                showError(e, null, status);
              }
            }),
        },
        label,
      );
    if (a.state === 'resolved') return null;
    return h(
      'div.toolbar',
      a.acknowledged
        ? act('Unacknowledge', async () => ((await confirm(`Unacknowledge ${a.rule}?`, h('p', 'It shows as not acknowledged again.'), 'Unacknowledge')) ? post(`/api/v1/alerts/${seg(a.fingerprint)}/unack`, {}) : null), `${a.rule}: no longer acknowledged`)
        : act('Acknowledge…', () => ackAlert(a, status), `${a.rule}: acknowledged`),
      a.silenced_by ? null : act('Silence…', () => silenceAlert(a), `${a.rule}: silenced`),
    );
  }

  function draw(alerts) {
    const cols = [
      { label: 'State', cell: (a) => stateBadgeOf(a.state) },
      { label: 'Severity', cell: (a) => severityBadgeOf(severityOf(a)) },
      { label: 'Rule', cell: (a) => h('strong', a.rule) },
      { label: 'Instance', cell: (a) => (a.instance ? h('span.mono', a.instance) : h('span.muted', '–')) },
      { label: 'Since', cell: (a) => timeCell(a.since || a.starts_at) },
      { label: 'Value', class: 'num', cell: (a) => h('span', { 'data-value': String(a.value) }, valueText(a.value, unitOf(rules.get(a.rule)))) },
      {
        label: 'Summary',
        cell: (a) =>
          h(
            'div',
            a.summary || (a.annotations && a.annotations.summary) || '',
            a.acknowledged ? h('div.muted', { 'data-acknowledged': a.acknowledged.user }, `Acknowledged by ${a.acknowledged.user} ${relative(a.acknowledged.time)}${a.acknowledged.comment ? `: ${a.acknowledged.comment}` : ''}`) : null,
            a.silenced_by ? h('div.muted', { 'data-silenced': String(a.silenced_by) }, `Silenced (silence ${a.silenced_by})`) : null,
          ),
      },
      { label: 'Actions', cell: actions },
    ];
    const order = { firing: 0, pending: 1, resolved: 2 };
    const sorted = [...alerts].sort((x, y) => (order[x.state] ?? 3) - (order[y.state] ?? 3) || (severityOf(x) === 'critical' ? -1 : 0) - (severityOf(y) === 'critical' ? -1 : 0));
    clear(list, table(cols, sorted, { class: 'alerts', label: 'alerts', empty: stateSel.value ? `No ${stateSel.value} alerts.` : 'No alert is pending or firing.' }));
  }

  async function load() {
    try {
      const q = stateSel.value ? `?state=${encodeURIComponent(stateSel.value)}` : '';
      const [r, rs] = await Promise.all([get(`/api/v1/alerts${q}`), rulesByName()]);
      rules = rs;
      draw(r.alerts || []);
    } catch (e) {
      clear(list, notice(e.status === 404 ? 'info' : 'error', errorText(e)));
    }
  }
  stateSel.addEventListener('change', load);
  clear(
    el,
    h('div.inline-form', field('State', stateSel, null, { name: 'filter-state' })),
    canAct ? null : h('p.muted', `You are logged in as ${(ctx.me && ctx.me.role) || 'monitor'}: acknowledging and silencing need the role operator or admin.`),
    list,
    h('p.muted', 'Resolved alerts stay listed for an hour. Each rule is evaluated at the sampling interval.'),
  );
  return { load };
}

/* ---- rules ------------------------------------------------------------------------- */

/* The form's fields when the server publishes no schema for them. */
const FALLBACK_FIELDS = [
  { name: 'name', type: 'string', label: 'Name', create: true, max: 64 },
  { name: 'kind', type: 'enum', label: 'Kind', create: true, modify: true, choices: Object.keys(KINDS) },
  { name: 'series', type: 'string', label: 'Series', create: true, modify: true },
  { name: 'match', type: 'string', label: 'Match', create: true, modify: true },
  { name: 'op', type: 'enum', label: 'Comparison', create: true, modify: true, choices: ['>', '>=', '<', '<='] },
  { name: 'threshold', type: 'number', label: 'Threshold', create: true, modify: true },
  { name: 'clear', type: 'number', label: 'Clear threshold', create: true, modify: true },
  { name: 'for', type: 'string', label: 'For', create: true, modify: true },
  { name: 'window', type: 'string', label: 'Window', create: true, modify: true },
  { name: 'severity', type: 'enum', label: 'Severity', create: true, modify: true, choices: ['warning', 'critical'] },
  { name: 'enabled', type: 'boolean', label: 'Enabled', create: true, modify: true },
  { name: 'summary', type: 'string', label: 'Summary', create: true, modify: true, max: 256 },
];

const HELP = {
  name: "Lowercase letters, digits, '-', '_' and '.' (up to 64): the alertname of its notifications.",
  series: 'A history series (cpu.busy, mem.used, load.1 …), metric:SELECTOR (a /metrics sample, e.g. metric:node_load1) or status:MODULE:path.',
  for: 'How long the condition must hold before the alert fires: 30s, 5m, 1h; empty or 0: at once.',
  window: 'disk filling up: the trend is fitted over this long (6h); failed logins: counted over this long (5m).',
  clear: 'Hysteresis: a firing alert resolves only once the value is past this (empty: the threshold).',
  summary: 'A line for the notifications (empty: one made from the rule).',
};

function inputFor(f, value) {
  if (f.type === 'boolean') {
    const i = h('input', { type: 'checkbox', name: f.name, checked: value === true });
    return { input: i, read: () => i.checked, inline: true };
  }
  if (f.type === 'enum') {
    const i = h('select', { name: f.name }, f.name === 'kind' ? null : h('option', { value: '' }, 'default'), (f.choices || []).map((c) => h('option', { value: c, selected: c === value }, f.name === 'kind' ? KINDS[c] || c : f.name === 'op' ? opText(c) : c)));
    return { input: i, read: () => i.value || undefined };
  }
  if (f.type === 'number' || f.type === 'integer') {
    const i = h('input', { type: 'number', name: f.name, step: f.type === 'integer' ? 1 : 'any', value: value ?? '' });
    return { input: i, read: () => (i.value === '' ? undefined : Number(i.value)) };
  }
  const i = h('input', { type: 'text', name: f.name, value: value ?? '', maxLength: f.max || undefined, spellcheck: false, autocomplete: 'off' });
  return { input: i, read: () => (i.value.trim() === '' ? undefined : i.value.trim()) };
}

function ruleForm(schema, rule, onDone, status) {
  const isNew = !rule;
  const defs = (schema ? schema.fields : FALLBACK_FIELDS).filter((f) => (isNew ? f.create : f.modify || f.name === 'kind') && !['object', 'object_array'].includes(f.type));
  const fields = {};
  const readers = [];
  for (const f of defs) {
    const start = isNew ? (f.name === 'enabled' ? true : undefined) : rule[f.name];
    const { input, read, inline } = inputFor(f, start);
    if (!isNew && f.name === 'kind') input.disabled = true;
    const label = f.name === 'op' ? 'Comparison' : f.label || f.name;
    fields[f.name] = field(label, input, HELP[f.name] || f.description || null, { name: f.name, inline });
    readers.push({ f, read, start });
  }
  const kindInput = fields.kind && fields.kind.input;
  const show = () => {
    const k = kindInput ? kindInput.value : rule && rule.kind;
    const own = new Set(KIND_FIELDS[k] || []);
    for (const [n, w] of Object.entries(fields)) w.hidden = KIND_SPECIFIC.has(n) && !own.has(n);
    if (fields.match) fields.match.querySelector('label').firstChild.textContent = MATCH_LABEL[k] || 'Match';
    const unit = unitOf({ kind: k, series: fields.series ? fields.series.input.value : '' });
    if (fields.threshold) fields.threshold.querySelector('label').firstChild.textContent = `Threshold${unit && unit !== '' ? ` (${unit === 'percent' ? '%' : unit})` : ''}`;
  };
  if (kindInput) kindInput.addEventListener('change', show);
  if (fields.series) fields.series.input.addEventListener('input', show);
  show();
  const submit = h('button.primary', { type: 'submit' }, 'Review…');
  const name = isNew ? '' : rule.name;
  return h(
    'form.panel.rule-form',
    {
      'aria-label': isNew ? 'New rule' : `Edit rule ${name}`,
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        const k = kindInput ? kindInput.value : rule.kind;
        const own = new Set(KIND_FIELDS[k] || []);
        const body = {};
        for (const { f, read, start } of readers) {
          if (KIND_SPECIFIC.has(f.name) && !own.has(f.name)) continue;
          if (!isNew && f.name === 'kind') continue;
          const v = read();
          if (v === undefined || (isNew && f.type === 'boolean' && v === false && f.name !== 'enabled')) continue;
          if (!isNew && JSON.stringify(v) === JSON.stringify(start)) continue;
          body[f.name] = v;
        }
        await busy(submit, async () => {
          const r = isNew
            ? await planned('POST', '/api/v1/alert_rules', body, `Create rule ${body.name || ''}?`, fields, status)
            : await planned('PATCH', `/api/v1/alert_rules/${seg(name)}`, body, `Change rule ${name}?`, fields, status);
          if (r) {
            say(status, 'ok', `${isNew ? `Rule ${body.name || ''} created` : `Rule ${name} changed`}${audit(r)}.`);
            onDone();
          }
        });
      },
    },
    h('h3', isNew ? 'New rule' : `Edit rule ${name}`),
    Object.values(fields),
    h('div.toolbar', submit, h('button', { type: 'button', onclick: () => onDone(true) }, 'Cancel')),
  );
}

function rulesPart(el, ctx, status) {
  const canEdit = may(ctx, 'admin');
  const formEl = h('div');
  const list = h('div');
  let schema = null;

  function done(cancelled) {
    clear(formEl);
    if (!cancelled) load();
  }
  const editButton = (r) =>
    h('button', { type: 'button', 'aria-label': `Edit rule ${r.name}`, disabled: !canEdit, title: canEdit ? null : needs('admin'), onclick: () => clear(formEl, ruleForm(schema, r, done, status)) }, 'Edit');
  const deleteButton = (r) =>
    h(
      'button',
      {
        type: 'button',
        'aria-label': `Delete rule ${r.name}`,
        disabled: !canEdit,
        title: canEdit ? null : needs('admin'),
        onclick: (ev) =>
          busy(ev.target, async () => {
            const a = await planned('DELETE', `/api/v1/alert_rules/${seg(r.name)}`, undefined, `Delete rule ${r.name}?`, null, status);
            if (a) {
              say(status, 'ok', `Rule ${r.name} deleted${audit(a)}.`);
              await load();
            }
          }),
      },
      'Delete',
    );

  async function load() {
    try {
      const r = await get('/api/v1/alert_rules');
      const cols = [
        { label: 'Rule', cell: (x) => h('strong', x.name) },
        { label: 'Kind', cell: (x) => KINDS[x.kind] || x.kind },
        { label: 'Condition', cell: (x) => h('span', { 'data-condition': x.name }, conditionText(x), x.error ? h('div.field-error', `Cannot observe: ${x.error}`) : null) },
        { label: 'Severity', cell: (x) => severityBadgeOf(x.severity || 'warning') },
        { label: 'State', cell: (x) => stateBadgeOf(x.state) },
        { label: 'Enabled', cell: (x) => (x.enabled === false ? badge('disabled', 'muted') : 'yes') },
        { label: 'Actions', cell: (x) => h('div.toolbar', editButton(x), deleteButton(x)) },
      ];
      clear(list, table(cols, r.alert_rules || [], { class: 'alert-rules', label: 'alert rules', empty: 'No rules: nothing is watched.' }));
    } catch (e) {
      clear(list, notice(e.status === 404 ? 'info' : 'error', errorText(e)));
    }
  }
  clear(
    el,
    h(
      'div.inline-form',
      canEdit ? null : h('p.muted', 'Rules are changed by admins.'),
      h('span.spacer'),
      h('button.primary#new-rule', { type: 'button', disabled: !canEdit, title: canEdit ? null : needs('admin'), onclick: () => clear(formEl, ruleForm(schema, null, done, status)) }, 'New rule'),
    ),
    formEl,
    list,
  );
  return {
    load: async () => {
      if (!schema) schema = await collectionSchema('alert_rules').catch(() => null);
      await load();
    },
  };
}

/* ---- history ----------------------------------------------------------------------- */

function historyPart(el) {
  const ruleSel = h('select', { name: 'rule' }, h('option', { value: '' }, 'all rules'));
  const list = h('div');
  const more = h('div.toolbar');
  let rows = [];
  let rules = new Map();

  function draw() {
    const cols = [
      { label: 'Time', cell: (t) => timeCell(t.time) },
      { label: 'Rule', cell: (t) => h('strong', t.rule) },
      { label: 'Instance', cell: (t) => (t.instance ? h('span.mono', t.instance) : h('span.muted', '–')) },
      { label: 'Change', cell: (t) => h('span', { 'data-transition': `${t.from}-${t.to}` }, stateBadgeOf(t.from), ' → ', stateBadgeOf(t.to)) },
      { label: 'Value', class: 'num', cell: (t) => valueText(t.value, unitOf(rules.get(t.rule))) },
      { label: 'Severity', cell: (t) => severityBadgeOf(t.severity || 'warning') },
    ];
    clear(list, table(cols, rows, { class: 'alert-history', label: 'alert history', empty: 'No transitions yet.' }));
  }
  async function page(before) {
    const q = new URLSearchParams({ limit: '50' });
    if (ruleSel.value) q.set('rule', ruleSel.value);
    if (before !== undefined && before !== null) q.set('before', String(before));
    const r = await get(`/api/v1/modules/alerts/history?${q}`);
    rows = before === undefined ? r.transitions || [] : rows.concat(r.transitions || []);
    draw();
    clear(more, r.next !== undefined && r.next !== null ? h('button', { type: 'button', onclick: (ev) => busy(ev.target, () => page(r.next)) }, 'Older') : null);
  }
  async function load() {
    try {
      rules = await rulesByName();
      const keep = ruleSel.value;
      clear(ruleSel, h('option', { value: '' }, 'all rules'), [...rules.keys()].map((n) => h('option', { value: n, selected: n === keep }, n)));
      await page();
    } catch (e) {
      clear(list, notice(e.status === 404 ? 'info' : 'error', errorText(e)));
    }
  }
  ruleSel.addEventListener('change', load);
  clear(el, h('div.inline-form', field('Rule', ruleSel, null, { name: 'filter-rule' })), list, more);
  return { load };
}

/* ---- silences ---------------------------------------------------------------------- */

function silencesPart(el, ctx, status) {
  const canAct = may(ctx, 'operator');
  const list = h('div');
  async function load() {
    try {
      const r = await get('/api/v1/alert_silences');
      const cols = [
        { label: 'Rule', cell: (s) => h('strong', s.rule) },
        { label: 'Instance', cell: (s) => (s.instance ? h('span.mono', s.instance) : h('span.muted', 'all')) },
        { label: 'Reason', cell: (s) => s.reason },
        { label: 'By', cell: (s) => s.created_by },
        { label: 'Created', cell: (s) => timeCell(s.created_at) },
        { label: 'Ends', cell: (s) => (s.active ? h('span', 'ends ', timeCell(s.ends_at)) : h('span', badge('expired', 'muted'), ' ', timeCell(s.ends_at))) },
        {
          label: 'Actions',
          cell: (s) =>
            s.active
              ? h(
                  'button',
                  {
                    type: 'button',
                    'data-action': 'expire',
                    'aria-label': `Expire silence ${s.id}`,
                    disabled: !canAct,
                    title: canAct ? null : needs('operator'),
                    onclick: (ev) =>
                      busy(ev.target, async () => {
                        const a = await planned('POST', `/api/v1/alert_silences/${seg(s.id)}/expire`, {}, `Expire the silence of ${s.rule}${s.instance ? ` on ${s.instance}` : ''}?`, null, status);
                        if (a) {
                          say(status, 'ok', `Silence ${s.id} expired${audit(a)}.`);
                          await load();
                        }
                      }),
                  },
                  'Expire',
                )
              : null,
        },
      ];
      const items = [...(r.alert_silences || [])].sort((x, y) => Number(!!y.active) - Number(!!x.active) || (unix(y.ends_at) || 0) - (unix(x.ends_at) || 0));
      clear(list, table(cols, items, { class: 'alert-silences', label: 'silences', empty: 'No silences.' }));
    } catch (e) {
      clear(list, notice(e.status === 404 ? 'info' : 'error', errorText(e)));
    }
  }
  clear(el, h('p.muted', 'Silences are made from the Firing tab (Silence…). Active silences, and those that ended in the last day.'), list);
  return { load };
}

/* ---- the overview's line ----------------------------------------------------------- */

export async function overviewBanner() {
  let r;
  try {
    r = await get('/api/v1/alerts?state=firing');
  } catch {
    return null;
  }
  const firing = (r.alerts || []).filter((a) => a.state === 'firing');
  if (!firing.length) return null;
  const critical = firing.filter((a) => severityOf(a) === 'critical').length;
  const counts = [critical ? `${critical} critical` : null, firing.length - critical ? `${firing.length - critical} warning` : null].filter(Boolean).join(', ');
  firing.sort((x, y) => (severityOf(x) === 'critical' ? -1 : 0) - (severityOf(y) === 'critical' ? -1 : 0));
  return h(
    'section.panel.alerts-banner',
    { 'aria-labelledby': 'alerts-banner-title', 'data-firing': String(firing.length) },
    h('h2#alerts-banner-title', `${firing.length} ${firing.length === 1 ? 'alert' : 'alerts'} firing (${counts})`),
    h(
      'ul.findings',
      firing.slice(0, 10).map((a) =>
        h(
          'li',
          { 'data-alert': a.fingerprint },
          severityBadgeOf(severityOf(a)),
          ' ',
          h('a', { href: '#/alerts/firing' }, a.rule),
          a.instance ? ` on ${a.instance}` : '',
          ` — ${a.summary || (a.annotations && a.annotations.summary) || ''} (since ${relative(a.since || a.starts_at).replace(/ ago$/, '')})`,
          a.acknowledged ? h('span.muted', ` · acknowledged by ${a.acknowledged.user}`) : null,
        ),
      ),
      firing.length > 10 ? h('li', h('a', { href: '#/alerts/firing' }, `and ${firing.length - 10} more`)) : null,
    ),
  );
}

/* ---- the page ---------------------------------------------------------------------- */

export async function render(view, ctx, tab) {
  const status = h('div.page-status', { 'aria-live': 'polite' });
  const panel = h('div', { role: 'tabpanel', id: 'alerts-panel' });
  const title = h('h1', 'Alerts');
  const tabs = TABS.map(([t, label]) =>
    h('button', { type: 'button', role: 'tab', id: `alerts-tab-${t}`, 'data-tab': t, 'aria-controls': 'alerts-panel', 'aria-selected': 'false', onclick: () => show(t) }, label),
  );
  clear(view, title, status, h('div.tabs.wrap', { role: 'tablist', 'aria-label': 'Alerts' }, tabs), panel);

  const parts = {};
  let current = null;
  function part(t) {
    if (!parts[t]) {
      const el = h('div', { 'data-part': t });
      const make = { firing: firingPart, rules: rulesPart, history: historyPart, silences: silencesPart }[t];
      parts[t] = { el, ...make(el, ctx, status) };
    }
    return parts[t];
  }
  async function show(t) {
    if (!TABS.some(([x]) => x === t)) t = 'firing';
    current = t;
    for (const b of tabs) b.setAttribute('aria-selected', String(b.dataset.tab === t));
    panel.setAttribute('aria-labelledby', `alerts-tab-${t}`);
    clear(status);
    if (location.hash !== `#/alerts/${t}`) history.replaceState(null, '', `#/alerts/${t}`);
    const p = part(t);
    clear(panel, p.el);
    delete title.dataset.loaded;
    await p.load();
    /* The tab has answered (the browser tests wait for this). */
    if (current === t) title.dataset.loaded = t;
  }

  /* A transition: the tab shown is read again (at most every second). */
  let pending = null;
  const onAlert = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      if (current) parts[current].load();
    }, 1000);
  };
  ctx.bus.addEventListener('alert', onAlert);
  /* Relative times ("12 min ago") stay true while the page is open. */
  const ticker = setInterval(() => {
    for (const el of view.querySelectorAll('span.when[data-time]')) if (el.dataset.time) el.textContent = relative(Number(el.dataset.time));
  }, 15000);
  await show(tab);
  return () => {
    clearInterval(ticker);
    clearTimeout(pending);
    ctx.bus.removeEventListener('alert', onAlert);
  };
}
