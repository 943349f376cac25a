/* mail.js — the mail module's page (#/mail[/TAB]): Postfix and Dovecot as an
 * administrator looks after them.
 *
 * Header: each server's state (GET /api/v1/modules/mail: {"state",
 * "postfix": {"installed", "running"}, "dovecot": {…}}) and, for admins,
 * start, stop and restart (POST /api/v1/modules/mail/start|stop|restart,
 * confirmed).  Then five tabs:
 *
 *   queue        GET /api/v1/modules/mail/queue?queue=&sender=&recipient=
 *                &domain=&older_than=&reason=&limit=: the queues as tabs with
 *                their counts, filters, the delay reasons with their counts
 *                (one click filters by one), a table of the messages (age in
 *                words, size in KB, times local, each recipient with why it
 *                waits); rows are selected for hold, release, requeue, flush
 *                (operators) and delete (admins) — the commands
 *                queue_hold… {"id"} per message, or the filters for every
 *                message matching, each reviewed through its dry run
 *                (?dry_run=1: "Delete 312 deferred messages to example.com?");
 *                a message's detail (GET …/queue/{id}: its headers, admins
 *                only) with a link to the logs page filtered by its queue id.
 *   connections  GET /api/v1/modules/mail/connections, every 5 s while the
 *                tab is shown and the window visible; Kick (operators,
 *                confirmed: DELETE …/connections/{user}).
 *   activity     GET /api/v1/modules/mail/activity?hours=N: delivered,
 *                deferred, bounced and rejected per hour as a uPlot chart,
 *                the totals, and the last errors.
 *   settings     the module's settings (GET …/settings with the schema's
 *                types, descriptions and choices) grouped as an
 *                administrator thinks of them (outgoing mail, limits in MB,
 *                identity, network, submission and TLS, Dovecot, the rest);
 *                only what changed is sent, nested ({"postfix":
 *                {"relayhost": …}}), first with ?dry_run=1 to show the plan;
 *                an error naming a setting is shown by it.  Admins only.
 *   aliases      the collection mail_aliases (GET /api/v1/mail_aliases):
 *                add, change, delete through the plan dialog (admins).
 *
 * A monitor sees everything without the buttons.  A part the server cannot
 * answer yet (501) says so calmly; the other parts still work. */
import { get, post, patch, del, seg } from './api.js';
import { planned, planView } from './plan.js';
import { inputFor, checkValue } from './settings.js';
import { h, clear, table, badge, notice, confirm, modal, busy, errorText, field, duration, humanize, uid } from './ui.js';

const ROLES = ['monitor', 'operator', 'admin'];
const atLeast = (ctx, role) => ROLES.indexOf(ctx?.me?.role) >= ROLES.indexOf(role);

const TABS = [
  ['queue', 'Queue'],
  ['connections', 'Connected users'],
  ['activity', 'Activity'],
  ['settings', 'Settings'],
  ['aliases', 'Aliases'],
];

/* ---- formatting ----------------------------------------------------------- */

/* Sizes as people read a mail's: "812 B", "4.3 KB", "12.5 MB" (decimal, as
 * Postfix's limits are usually written). */
export function sizeText(n) {
  if (typeof n !== 'number' || Number.isNaN(n)) return '–';
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

const pad = (n) => String(n).padStart(2, '0');

/* A time in the browser's zone: "2026-12-04 14:05". */
export function localTime(t) {
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  if (!t || Number.isNaN(d.getTime())) return '–';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const plural = (n, one, many) => `${Number(n).toLocaleString('en-US')} ${n === 1 ? one : many || `${one}s`}`;

/* A part the server does not have yet (501), or not at all (404). */
const notYet = (e) => e && (e.status === 501 || e.status === 404);

function failed(what, e) {
  return notYet(e) ? notice('info', `${what} is not available yet on this server.`) : notice('error', `${what} cannot be shown: ${errorText(e)}`);
}

/* An answer put where the eye is: the notice is focused. */
function say(status, kind, ...text) {
  const n = notice(kind, '');
  n.append(...text.flat().filter((x) => x !== null && x !== undefined && x !== false).map((x) => (x instanceof Node ? x : document.createTextNode(String(x)))));
  n.tabIndex = -1;
  clear(status, n);
  n.focus({ preventScroll: false });
  return n;
}

const auditLink = (r) => (r && typeof r.audit_id === 'number' ? [' ', h('a', { href: `#/audit/${r.audit_id}` }, `audit record #${r.audit_id}`)] : []);

/* ---- header: the servers' state ------------------------------------------------ */

function serverBadge(name, s) {
  if (!s || !s.installed) return h('span.mail-server', { 'data-server': name }, h('strong', humanize(name)), ' ', badge('not installed', 'muted'));
  return h('span.mail-server', { 'data-server': name, 'data-running': String(!!s.running) }, h('strong', name === 'postfix' ? 'Postfix' : 'Dovecot'), ' ', s.running ? badge('running', 'ok') : badge('stopped', 'warn'));
}

function headerPart(el, ctx, status) {
  async function action(a, button) {
    const what = { start: 'Start', stop: 'Stop', restart: 'Restart' }[a];
    const text = a === 'stop' ? 'Mail is neither received nor delivered, and IMAP and POP3 users are disconnected, until the servers start again.' : `Postfix and Dovecot ${a === 'start' ? 'start' : 'restart'}; connected IMAP and POP3 users may have to log in again.`;
    if (!(await confirm(`${what} Postfix and Dovecot?`, h('p', text), what, a === 'stop'))) return;
    await busy(button, async () => {
      try {
        await post(`/api/v1/modules/mail/${a}`);
        say(status, 'ok', `${what}: done.`);
      } catch (e) {
        say(status, 'error', `${what} failed: ${errorText(e)}`);
      }
      await load();
    });
  }
  async function load() {
    let st;
    try {
      st = await get('/api/v1/modules/mail');
    } catch (e) {
      clear(el, failed('The state of the mail servers', e));
      return;
    }
    const admin = atLeast(ctx, 'admin');
    clear(
      el,
      h('div.mail-servers', serverBadge('postfix', st.postfix), serverBadge('dovecot', st.dovecot), st.state === 'unavailable' && st.reason ? h('span.reason', st.reason) : null),
      admin
        ? h(
            'div.toolbar.mail-actions',
            ['start', 'stop', 'restart'].map((a) => h('button', { type: 'button', 'data-action': a, onclick: (ev) => action(a, ev.currentTarget) }, humanize(a))),
          )
        : null,
    );
  }
  return { load };
}

/* ---- the queue ------------------------------------------------------------------- */

const QUEUES = [
  ['', 'All'],
  ['deferred', 'Deferred'],
  ['active', 'Active'],
  ['hold', 'On hold'],
  ['incoming', 'Incoming'],
];
const AGES = [
  ['', 'any age'],
  ['1h', 'over 1 h'],
  ['6h', 'over 6 h'],
  ['1d', 'over 1 day'],
  ['3d', 'over 3 days'],
  ['7d', 'over 7 days'],
];
const LIMIT = 500;

/* The operations on queued messages: [command, button, past tense, role]. */
const OPS = [
  ['hold', 'Hold', 'Put on hold', 'operator'],
  ['release', 'Release', 'Released', 'operator'],
  ['requeue', 'Requeue', 'Requeued', 'operator'],
  ['flush', 'Deliver now', 'Delivery tried for', 'operator'],
  ['delete', 'Delete', 'Deleted', 'admin'],
];

function recipientsCell(m) {
  const rs = m.recipients || [];
  return h(
    'ul.mail-recipients',
    rs.map((r) => h('li', h('span', r.address || '–'), r.delay_reason ? h('div.delay-reason', { 'data-reason': '' }, r.delay_reason) : null)),
  );
}

const sentence = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

function queuePart(el, ctx, status) {
  const may = (role) => atLeast(ctx, role);
  const f = { queue: '', sender: '', recipient: '', domain: '', older_than: '', reason: '' };
  let last = null;
  const selected = new Set();

  const inputs = {
    sender: h('input', { type: 'search', name: 'sender', maxLength: 320, spellcheck: false, autocomplete: 'off', placeholder: 'alice@example.org or @example.org' }),
    recipient: h('input', { type: 'search', name: 'recipient', maxLength: 320, spellcheck: false, autocomplete: 'off', placeholder: 'bob@example.net' }),
    domain: h('input', { type: 'search', name: 'domain', maxLength: 253, spellcheck: false, autocomplete: 'off', placeholder: 'example.net' }),
    older_than: h('select', { name: 'older_than' }, AGES.map(([v, l]) => h('option', { value: v }, l))),
  };
  const fields = {
    sender: field('From', inputs.sender, null, { name: 'sender' }),
    recipient: field('To', inputs.recipient, null, { name: 'recipient' }),
    domain: field('To domain', inputs.domain, null, { name: 'domain' }),
    older_than: field('Waiting', inputs.older_than, null, { name: 'older_than' }),
  };
  const show = h('button.primary', { type: 'submit' }, 'Show');
  const resetBtn = h('button', { type: 'button', onclick: () => reset() }, 'Clear filters');
  const form = h(
    'form.filters.mail-filters',
    {
      'aria-label': 'queue filters',
      onsubmit: (ev) => {
        ev.preventDefault();
        for (const k of ['sender', 'recipient', 'domain', 'older_than']) f[k] = inputs[k].value.trim();
        busy(show, () => load());
      },
    },
    Object.values(fields),
    show,
    resetBtn,
  );
  const queueTabs = h('div.mail-queues', { role: 'group', 'aria-label': 'queues' });
  const reasonsEl = h('div.mail-reasons');
  const barEl = h('div.mail-bulk');
  const listEl = h('div');

  function reset() {
    for (const k of Object.keys(f)) f[k] = '';
    for (const i of Object.values(inputs)) i.value = '';
    busy(show, () => load());
  }

  function query(limit) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v) p.set(k, v);
    if (limit) p.set('limit', String(limit));
    return p.toString();
  }

  /* The filters as the commands take them (no reason: those go by id). */
  function filterArgs() {
    const a = {};
    for (const k of ['queue', 'sender', 'recipient', 'domain', 'older_than']) if (f[k]) a[k] = f[k];
    if (!Object.keys(a).length) a.all = true;
    return a;
  }

  function filterWords() {
    const w = [];
    if (f.queue) w.push(`in ${f.queue}`);
    if (f.sender) w.push(`from ${f.sender}`);
    if (f.recipient) w.push(`to ${f.recipient}`);
    if (f.domain) w.push(`to @${f.domain}`);
    if (f.older_than) w.push(AGES.find(([v]) => v === f.older_than)?.[1] || `older than ${f.older_than}`);
    if (f.reason) w.push(`waiting because "${f.reason}"`);
    return w.join(', ');
  }

  async function command(op, args, dryRun) {
    return (await post(`/api/v1/modules/mail/commands/queue_${op}${dryRun ? '?dry_run=1' : ''}`, args)) || {};
  }

  /* The bodies an operation sends: one per selected message, else the
   * filters (every message matching; by id when a reason filter, which
   * the commands do not take, narrows the list and all of it is shown). */
  function targets() {
    if (selected.size) return [...selected].map((id) => ({ id }));
    if (f.reason) return (last?.messages || []).map((m) => ({ id: m.id }));
    return [filterArgs()];
  }

  async function run(op, button) {
    const [, label, done, role] = OPS.find((o) => o[0] === op);
    if (!may(role)) return;
    const bodies = targets();
    if (!bodies.length) return;
    const many = !selected.size && !f.reason;
    await busy(button, async () => {
      /* Delete and "every message matching" are reviewed: the dry run says
       * what would be done ("delete 312 deferred messages to example.com"). */
      if (op === 'delete' || many) {
        let plans;
        try {
          plans = [];
          for (const b of bodies) plans.push(await command(op, b, true));
        } catch (e) {
          say(status, 'error', `${label}: ${errorText(e)}`);
          return;
        }
        const count = plans.reduce((n, p) => n + (Number(p.count) || 0), 0);
        if (!count) {
          say(status, 'info', `No message to ${label.toLowerCase()}${filterWords() ? ` ${filterWords()}` : ''}.`);
          return;
        }
        const title = plans.length === 1 && plans[0].summary ? `${sentence(plans[0].summary)}?` : `${label} ${plural(count, 'message')}?`;
        const ids = plans.flatMap((p) => p.ids || []);
        const body = [
          h('p', op === 'delete' ? 'Deleted messages are gone: neither delivered nor returned to their senders.' : `${label}: ${plural(count, 'message')}.`),
          ids.length ? h('p.muted.mono.mail-ids', ids.slice(0, 20).join(' '), ids.length > 20 ? ` … and ${ids.length - 20} more` : '') : null,
        ];
        const v = await modal(title, body, [
          { label: 'Cancel', value: 'cancel' },
          op === 'delete' ? { label: `Delete ${plural(count, 'message')}`, value: 'apply', danger: true } : { label, value: 'apply', primary: true },
        ]);
        if (v !== 'apply') return;
      }
      let n = 0;
      let audit = null;
      try {
        for (const b of bodies) {
          const r = await command(op, b, false);
          n += Number(r.count ?? 1) || 0;
          if (typeof r.audit_id === 'number') audit = r;
        }
      } catch (e) {
        say(status, 'error', `${label}: ${errorText(e)}${n ? ` (${plural(n, 'message')} done before that)` : ''}`);
        await load();
        return;
      }
      selected.clear();
      say(status, 'ok', `${done} ${plural(n, 'message')}.`, auditLink(audit));
      await load();
    });
  }

  function drawBar() {
    const ops = OPS.filter(([, , , role]) => may(role));
    if (!ops.length) {
      clear(barEl, h('p.muted', 'Holding, releasing, deleting or delivering messages needs the operator role (deleting: admin).'));
      return;
    }
    const total = last ? last.total ?? (last.messages || []).length : 0;
    const shown = (last?.messages || []).length;
    const scope = selected.size
      ? plural(selected.size, 'selected message')
      : !total
        ? 'no message (none matches)'
        : f.reason
          ? `the ${plural(shown, 'message')} shown`
          : filterWords()
            ? total === 1 ? 'the 1 message matching' : `all ${plural(total, 'message')} matching`
            : `every message in the queue (${total.toLocaleString('en-US')})`;
    clear(
      barEl,
      h(
        'div.toolbar',
        h('span.mail-scope', { 'data-scope': selected.size ? 'selected' : 'matching' }, 'Acts on ', h('strong', scope), ':'),
        ops.map(([op, label]) =>
          h('button', { type: 'button', class: op === 'delete' ? 'danger' : undefined, 'data-op': op, disabled: !total, onclick: (ev) => run(op, ev.currentTarget) }, label),
        ),
        selected.size ? h('button.link', { type: 'button', onclick: () => { selected.clear(); draw(); } }, 'Clear selection') : null,
      ),
    );
  }

  function drawQueues() {
    const counts = (last && last.counts) || {};
    const all = Object.values(counts).reduce((a, b) => a + (Number(b) || 0), 0);
    clear(
      queueTabs,
      QUEUES.filter(([q]) => q !== 'incoming' || counts.incoming).map(([q, label]) =>
        h(
          'button',
          {
            type: 'button',
            'data-queue': q || 'all',
            'aria-pressed': String(f.queue === q),
            onclick: (ev) => {
              f.queue = q;
              selected.clear();
              busy(ev.currentTarget, () => load());
            },
          },
          label,
          ' ',
          h('span.count', (q ? Number(counts[q]) || 0 : all).toLocaleString('en-US')),
        ),
      ),
    );
  }

  /* A reason group ("connect to *[*]:*: Connection refused": hosts and
   * addresses replaced) as the text the reason filter looks for in each
   * message's reason: its longest literal part ("Connection refused"). */
  const literal = (group) =>
    String(group || '')
      .split(/\*\[\*\]|\[\*\]|:\*|\*/)
      .map((x) => x.replace(/^[\s:;,.()<>"']+|[\s:;,(<"']+$/g, ''))
      .sort((a, b) => b.length - a.length)[0] || '';

  function drawReasons() {
    const reasons = (last && last.reasons) || [];
    if (!reasons.length && !f.reason) {
      clear(reasonsEl);
      return;
    }
    clear(
      reasonsEl,
      h('h3', 'Why mail waits'),
      h(
        'ul.mail-reason-list',
        reasons.slice(0, 8).map((r) => {
          const text = r.reason === 'other' ? '' : literal(r.reason);
          const shown = r.example || r.reason;
          return h(
            'li',
            text
              ? h('button.link', { type: 'button', 'data-reason': text, 'aria-pressed': String(f.reason === text), title: `show only the messages whose reason says "${text}"`, onclick: () => { f.reason = f.reason === text ? '' : text; selected.clear(); load(); } }, shown)
              : h('span', r.reason === 'other' ? 'other reasons' : shown),
            ' ',
            badge(plural(r.count, 'message'), 'warn'),
            r.count > 1 && r.example && r.example !== r.reason ? h('span.muted', ' (and alike)') : null,
          );
        }),
        f.reason && !reasons.some((r) => literal(r.reason) === f.reason) ? h('li', h('span', `"${f.reason}"`), ' ', badge('filter', 'muted')) : null,
      ),
      f.reason ? h('button.link', { type: 'button', onclick: () => { f.reason = ''; load(); } }, 'Show every reason') : null,
    );
  }

  function draw() {
    drawQueues();
    drawReasons();
    drawBar();
    const msgs = (last && last.messages) || [];
    const canAct = OPS.some(([, , , role]) => may(role));
    const pick = (m) =>
      h('input', {
        type: 'checkbox',
        'aria-label': `Select ${m.id}`,
        'data-select': m.id,
        checked: selected.has(m.id),
        onchange: (ev) => {
          if (ev.target.checked) selected.add(m.id);
          else selected.delete(m.id);
          drawBar();
        },
      });
    const pickAll = h('input', {
      type: 'checkbox',
      'aria-label': 'Select every message shown',
      checked: msgs.length > 0 && msgs.every((m) => selected.has(m.id)),
      onchange: (ev) => {
        for (const m of msgs) ev.target.checked ? selected.add(m.id) : selected.delete(m.id);
        draw();
      },
    });
    const cols = [
      canAct ? { label: pickAll, cell: pick, class: 'select' } : null,
      { label: 'Queue ID', cell: (m) => h('button.link.mono', { type: 'button', 'data-message': m.id, 'aria-label': `Details of ${m.id}`, onclick: () => detail(m) }, m.id) },
      { label: 'Queue', cell: (m) => badge(m.queue === 'hold' ? 'on hold' : m.queue, { deferred: 'warn', hold: 'muted', active: 'info' }[m.queue] || 'muted') },
      { label: 'Arrived', cell: (m) => h('span', { title: m.arrival_time || '' }, localTime(m.arrival_time)) },
      { label: 'Waiting', class: 'num', cell: (m) => duration(m.age_seconds) },
      { label: 'Size', class: 'num', cell: (m) => sizeText(m.size) },
      { label: 'From', cell: (m) => (m.sender ? m.sender : h('span.muted', 'bounce (empty sender)')) },
      { label: 'To, and why it waits', cell: recipientsCell },
    ].filter(Boolean);
    const shown = msgs.length;
    const total = last ? last.total ?? shown : 0;
    clear(
      listEl,
      last && last.postfix_running === false ? notice('warn', 'Postfix is not running: nothing is delivered until it starts.') : null,
      table(cols, msgs, {
        class: 'mail-queue',
        label: 'queued messages',
        empty: filterWords() ? 'No message matches these filters.' : 'The queue is empty: all mail has been delivered.',
      }),
      total > shown ? h('p.muted', `Showing ${shown.toLocaleString('en-US')} of ${plural(total, 'message')}; narrow the filters to see the others. Actions without a selection still act on all ${total.toLocaleString('en-US')}.`) : null,
    );
  }

  async function detail(m) {
    const admin = may('admin');
    let full = m;
    let headers = null;
    let headerErr = null;
    if (admin) {
      try {
        const r = await get(`/api/v1/modules/mail/queue/${seg(m.id)}`);
        full = { ...m, ...(r.message || r) };
        headers = full.headers || null;
      } catch (e) {
        headerErr = e;
      }
    }
    const body = [
      h(
        'dl.kv',
        h('dt', 'Queue'),
        h('dd', full.queue === 'hold' ? 'on hold' : full.queue),
        h('dt', 'Arrived'),
        h('dd', `${localTime(full.arrival_time)} (${duration(full.age_seconds)} ago)`),
        h('dt', 'Size'),
        h('dd', sizeText(full.size)),
        h('dt', 'From'),
        h('dd', full.sender || 'bounce (empty sender)'),
      ),
      h('h3', 'Recipients'),
      table(
        [
          { label: 'Address', cell: (r) => r.address || '–' },
          { label: 'Why it waits', cell: (r) => r.delay_reason || h('span.muted', 'not tried yet') },
        ],
        full.recipients || [],
        { label: 'recipients', empty: 'No recipient left.' },
      ),
      h('h3', 'Headers'),
      admin
        ? headers
          ? h('pre.mail-headers', { tabIndex: 0, 'aria-label': 'headers' }, headers)
          : headerErr
            ? failed('The headers', headerErr)
            : h('p.muted', 'No headers.')
        : h('p.muted', 'Headers are personal data: admins only.'),
      may('operator')
        ? h('p', h('a', { href: `#/logs//${encodeURIComponent(full.id)}`, 'data-logs': full.id }, `What happened to ${full.id}? Its log lines`))
        : h('p.muted', 'Its log lines (the logs page) need the operator role.'),
    ];
    await modal(`Message ${full.id}`, body);
  }

  async function load() {
    for (const x of Object.values(fields)) x.setError(null);
    let r;
    try {
      r = await get(`/api/v1/modules/mail/queue?${query(LIMIT)}`);
    } catch (e) {
      const x = e.field && fields[e.field];
      if (x) {
        x.setError(e.message);
        return;
      }
      last = null;
      clear(queueTabs);
      clear(reasonsEl);
      clear(barEl);
      clear(listEl, failed('The queue', e));
      return;
    }
    last = r;
    const present = new Set((r.messages || []).map((m) => m.id));
    for (const id of [...selected]) if (!present.has(id)) selected.delete(id);
    draw();
  }

  clear(el, queueTabs, form, reasonsEl, barEl, listEl);
  return { load };
}

/* ---- connected users ------------------------------------------------------------ */

const SERVICES = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP', submission: 'Submission', lmtp: 'LMTP' };

function connectionsPart(el, ctx, status) {
  const body = h('div');
  const when = h('span.muted.live-note', { 'aria-live': 'off' });
  let timer = null;
  let active = false;

  async function kick(c, button) {
    if (!(await confirm(`Disconnect ${c.user}?`, h('p', `Every IMAP and POP3 session of ${c.user} ends now. Their mail stays; their mail program may log in again.`), 'Disconnect', true))) return;
    await busy(button, async () => {
      try {
        const r = (await del(`/api/v1/modules/mail/connections/${seg(c.user)}`)) || {};
        const n = typeof r.kicked === 'number' ? r.kicked : null;
        say(status, 'ok', n === null ? `${c.user} disconnected.` : n ? `${c.user} disconnected (${plural(n, 'session')} ended).` : `${c.user} had no session left.`, auditLink(r));
      } catch (e) {
        say(status, 'error', `${c.user} was not disconnected: ${errorText(e)}`);
      }
      await load();
    });
  }

  async function load() {
    let r;
    try {
      r = await get('/api/v1/modules/mail/connections');
    } catch (e) {
      clear(body, failed('Who is connected', e));
      return;
    }
    const conns = r.connections || [];
    const operator = atLeast(ctx, 'operator');
    /* One Kick per user: it ends all of their sessions. */
    const first = new Set();
    clear(
      body,
      r.dovecot_running === false ? notice('warn', 'Dovecot is not running: nobody can read mail over IMAP or POP3.') : null,
      table(
        [
          { label: 'User', cell: (c) => h('strong', { 'data-user': c.user }, c.user) },
          { label: 'Service', cell: (c) => badge(SERVICES[c.service] || String(c.service || '?').toUpperCase(), 'info') },
          { label: 'From', cell: (c) => h('span.mono', c.client || '–') },
          { label: 'Since', cell: (c) => (c.since ? localTime(c.since) : '–') },
          { label: 'Process', class: 'num', cell: (c) => (c.pid ? String(c.pid) : '–') },
          operator
            ? {
                label: 'Actions',
                cell: (c) => {
                  if (first.has(c.user) || !['imap', 'pop3'].includes(c.service)) return null;
                  first.add(c.user);
                  return h('button.small', { type: 'button', 'data-kick': c.user, 'aria-label': `Disconnect ${c.user}`, onclick: (ev) => kick(c, ev.currentTarget) }, 'Disconnect');
                },
              }
            : null,
        ].filter(Boolean),
        conns,
        { class: 'mail-connections', label: 'connected users', empty: 'Nobody is connected over IMAP or POP3.' },
      ),
      operator ? null : h('p.muted', 'Disconnecting a user needs the operator role.'),
    );
    when.textContent = `Updated ${new Date().toLocaleTimeString()}; every 5 s while shown.`;
  }

  /* Polled while the tab is shown and the window visible. */
  const tick = async () => {
    timer = null;
    if (!active || document.hidden) return;
    await load();
    if (active && !document.hidden && !timer) timer = setTimeout(tick, 5000);
  };
  const onVisibility = () => {
    if (!active) return;
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (!timer) tick();
  };
  document.addEventListener('visibilitychange', onVisibility);

  clear(el, h('div.section-head', h('h2', 'Connected users'), when), body);
  return {
    start() {
      active = true;
      clearTimeout(timer);
      return tick();
    },
    stop() {
      active = false;
      clearTimeout(timer);
      timer = null;
    },
    destroy() {
      this.stop();
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}

/* ---- activity ------------------------------------------------------------------ */

const KINDS = [
  ['delivered', 'Delivered', '#2e7d32'],
  ['deferred', 'Deferred', '#b9770e'],
  ['bounced', 'Bounced', '#c0392b'],
  ['rejected', 'Rejected', '#8e44ad'],
];

function activityPart(el) {
  const hoursSel = h('select', { name: 'hours' }, [24, 48, 168].map((n) => h('option', { value: n }, n === 168 ? 'last 7 days' : `last ${n} h`)));
  const totals = h('div');
  const plotEl = h('div.plot', { role: 'img', 'aria-label': 'mail per hour chart' });
  const chartEl = h('section.panel.chart', { 'aria-label': 'Mail per hour', 'data-chart': 'mail-activity', 'data-points': '0' }, h('h3', 'Mail per hour'), plotEl);
  const errorsEl = h('div');
  const statusEl = h('div');
  let plot = null;
  const resize = new ResizeObserver(() => {
    if (plot && Math.abs(plot.width - width()) > 2) plot.setSize({ width: width(), height: 220 });
  });
  resize.observe(plotEl);
  const width = () => Math.max(240, plotEl.clientWidth || 600);

  function chart(hours) {
    const data = [hours.map((x) => (typeof x.start === 'number' ? x.start : Math.floor(Date.parse(x.start) / 1000))), ...KINDS.map(([k]) => hours.map((x) => Number(x[k]) || 0))];
    if (plot) plot.destroy();
    plot = null;
    if (!window.uPlot) return;
    const showLatest = (u) => {
      if ((u.cursor.idx === null || u.cursor.idx === undefined) && u.data[0].length) u.setLegend({ idx: u.data[0].length - 1 });
    };
    plot = new window.uPlot(
      {
        width: width(),
        height: 220,
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { auto: true, range: (u, min, max) => [0, Math.max(4, max)] } },
        axes: [{}, { values: (u, vals) => vals.map((v) => (Number.isInteger(v) ? String(v) : '')) }],
        series: [{}, ...KINDS.map(([, label, color]) => ({ label, stroke: color, width: 1.5, points: { show: true, size: 4 }, value: (u, v) => (v === null ? '–' : String(v)) }))],
        legend: { live: true },
        hooks: { setCursor: [showLatest], ready: [showLatest] },
      },
      data,
      plotEl,
    );
    chartEl.dataset.points = String(data[0].length);
  }

  async function load() {
    let r;
    try {
      r = await get(`/api/v1/modules/mail/activity?hours=${encodeURIComponent(hoursSel.value)}`);
    } catch (e) {
      clear(statusEl, failed('Delivery activity', e));
      chartEl.hidden = true;
      clear(totals);
      clear(errorsEl);
      return;
    }
    clear(statusEl, r.source === 'none' ? notice('info', 'No journal to read delivery from: the chart stays empty.') : null);
    chartEl.hidden = false;
    const hours = r.hours || [];
    const sum = Object.fromEntries(KINDS.map(([k]) => [k, hours.reduce((n, x) => n + (Number(x[k]) || 0), 0)]));
    clear(
      totals,
      h('dl.facts.mail-totals', KINDS.map(([k, label]) => h('div', h('dt', label), h('dd', { 'data-total': k }, sum[k].toLocaleString('en-US'))))),
    );
    chart(hours);
    const errors = r.errors || [];
    clear(
      errorsEl,
      h('h3', 'Last errors'),
      table(
        [
          { label: 'Time', cell: (x) => localTime(x.time) },
          { label: 'Message', cell: (x) => (x.queue_id ? h('a.mono', { href: `#/logs//${encodeURIComponent(x.queue_id)}`, title: 'its log lines' }, x.queue_id) : '–') },
          { label: 'Outcome', cell: (x) => badge(x.status || '?', { bounced: 'bad', rejected: 'bad', deferred: 'warn' }[x.status] || 'muted') },
          { label: 'To', cell: (x) => x.to || '–' },
          { label: 'Reason', cell: (x) => h('span.delay-reason', x.reason || '') },
        ],
        errors,
        { class: 'mail-errors', label: 'last delivery errors', empty: 'No delivery error in this period.' },
      ),
    );
  }
  hoursSel.addEventListener('change', () => load());
  clear(el, h('div.section-head', h('h2', 'Delivery'), field('Period', hoursSel, null, { inline: true, name: 'hours' })), statusEl, totals, chartEl, errorsEl);
  return {
    load,
    destroy() {
      resize.disconnect();
      if (plot) plot.destroy();
      plot = null;
    },
  };
}

/* ---- settings ------------------------------------------------------------------ */

const GROUPS = [
  ['Outgoing mail', ['postfix:relayhost']],
  ['Limits', ['postfix:message_size_limit', 'postfix:mailbox_size_limit']],
  ['Identity', ['postfix:myhostname', 'postfix:mydomain', 'postfix:myorigin', 'postfix:mydestination']],
  ['Network', ['postfix:inet_interfaces', 'postfix:inet_protocols', 'postfix:mynetworks']],
  ['Submission & TLS', ['postfix:submission', 'postfix:smtps', 'tls:cert_file', 'tls:key_file', 'postfix:smtpd_tls_security_level', 'postfix:smtp_tls_security_level']],
  ['Dovecot (IMAP and POP3)', ['dovecot:protocols', 'dovecot:ssl', 'dovecot:mail_location', 'dovecot:auth_mechanisms', 'dovecot:login_greeting', 'dovecot:mail_max_userip_connections']],
];

const LABELS = {
  'postfix:relayhost': 'Smarthost',
  'postfix:message_size_limit': 'Largest message',
  'postfix:mailbox_size_limit': 'Largest mailbox',
  'postfix:myhostname': 'Host name',
  'postfix:mydomain': 'Domain',
  'postfix:myorigin': 'Local mail comes from',
  'postfix:mydestination': 'Domains delivered here',
  'postfix:inet_interfaces': 'Receive mail on',
  'postfix:inet_protocols': 'IP versions',
  'postfix:mynetworks': 'Networks that may relay',
  'postfix:submission': 'Submission (port 587)',
  'postfix:smtps': 'SMTPS (port 465)',
  'tls:cert_file': 'Certificate',
  'tls:key_file': 'Private key',
  'postfix:smtpd_tls_security_level': 'TLS for mail received',
  'postfix:smtp_tls_security_level': 'TLS for mail sent',
  'dovecot:protocols': 'Protocols',
  'dovecot:ssl': 'TLS',
  'dovecot:mail_location': 'Mailboxes',
  'dovecot:auth_mechanisms': 'Login mechanisms',
  'dovecot:login_greeting': 'Greeting',
  'dovecot:mail_max_userip_connections': 'Connections per user and address',
  'postfix:recipient_delimiter': 'Address extension separator',
  'postfix:home_mailbox': 'Mailbox in the home folder',
  'postfix:smtpd_tls_cert_file': 'Postfix’s own certificate',
  'postfix:smtpd_tls_key_file': 'Postfix’s own private key',
  'postfix:smtpd_relay_restrictions': 'Who may relay',
  'postfix:smtpd_recipient_restrictions': 'Checks on recipients',
  'postfix:virtual_alias_domains': 'Virtual alias domains',
  'postfix:smtpd_banner': 'SMTP greeting',
  'dovecot:ssl_cert': 'Dovecot’s own certificate',
  'dovecot:ssl_key': 'Dovecot’s own private key',
};
const PLACEHOLDERS = {
  'postfix:relayhost': '[smtp.example.net]:587',
  'tls:cert_file': '/etc/ssl/certs/mail.pem',
  'tls:key_file': '/etc/ssl/private/mail.key',
};
/* Settings in bytes, shown and typed in MB (decimal: Postfix's default
 * message limit 10240000 reads 10.24 MB). */
const IN_MB = new Set(['postfix:message_size_limit', 'postfix:mailbox_size_limit']);
const MB = 1e6;

function treeGet(tree, key) {
  let v = tree;
  for (const k of key.split(':')) {
    if (v === null || typeof v !== 'object' || !(k in v)) return undefined;
    v = v[k];
  }
  return v;
}

function treeSet(tree, key, v) {
  const parts = key.split(':');
  let o = tree;
  for (const k of parts.slice(0, -1)) o = o[k] ??= {};
  o[parts[parts.length - 1]] = v;
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/* A setting's input: the schema's type, or MB for a size in bytes. */
function settingInput(def) {
  if (IN_MB.has(def.key)) {
    const el = h('input', { id: `mail-${def.key.replace(/[^a-z0-9]/gi, '_')}`, type: 'number', min: 0, step: 0.01, inputMode: 'decimal', 'data-unit': 'MB' });
    const read = () => (el.value.trim() === '' ? null : Math.round(Number(el.value) * MB));
    const write = (v) => (el.value = v === undefined || v === null || v === '' ? '' : String(Math.round((Number(v) / MB) * 100) / 100));
    return { el, read, write, check: (v) => (v === null || !Number.isFinite(v) || v < 0 ? 'Enter a size in MB (0: no limit).' : def.max !== undefined && v > def.max ? `At most ${def.max / MB} MB.` : null) };
  }
  const x = inputFor(def, 'mail');
  if (PLACEHOLDERS[def.key]) x.el.placeholder = PLACEHOLDERS[def.key];
  /* Integers may come as text from postconf. */
  const write = x.write;
  if (def.type === 'integer') x.write = (v) => write(v === undefined || v === null || v === '' ? null : Number(v));
  if (def.type === 'boolean') x.write = (v) => write(v === true || v === 'yes' || v === 'true');
  x.check = (v) => (v === null && def.type === 'integer' ? null : checkValue(def, v));
  return x;
}

function settingsPart(el, ctx, status) {
  const admin = atLeast(ctx, 'admin');
  const bar = h('div.action-status', { 'aria-live': 'polite', tabIndex: -1 });
  let items = [];
  let current = {};

  function fill() {
    for (const it of items) {
      it.write(treeGet(current, it.def.key));
      it.start = it.read();
      it.f.setError(null);
      it.f.classList.remove('changed');
    }
  }

  function answer(kind, ...text) {
    clear(bar, notice(kind, ''));
    bar.firstChild.append(...text.flat().filter(Boolean).map((x) => (x instanceof Node ? x : document.createTextNode(String(x)))));
    bar.focus({ preventScroll: true });
  }

  function fieldFor(e) {
    if (!e || !e.field) return null;
    const k = String(e.field).replace(/\./g, ':');
    return items.find((i) => i.def.key === k) || items.find((i) => i.def.key.endsWith(`:${k}`)) || null;
  }

  function showError(e) {
    const it = fieldFor(e);
    if (it) {
      it.f.setError(e.message);
      answer('error', `Not saved: ${it.label}: ${e.message}`);
      it.el.focus();
    } else answer('error', `Not saved: ${errorText(e)}`);
  }

  async function review(save) {
    clear(bar);
    const changes = {};
    const names = [];
    let bad = null;
    for (const it of items) {
      const v = it.read();
      it.f.setError(null);
      if (same(v, it.start)) continue;
      const err = it.check(v);
      if (err) {
        it.f.setError(err);
        bad ??= it;
      }
      treeSet(changes, it.def.key, v === null && it.def.type === 'string' ? '' : v);
      names.push(it.label);
    }
    if (bad) {
      bad.el.focus();
      return;
    }
    if (!names.length) {
      answer('info', 'Nothing to save: no value differs from the current one.');
      return;
    }
    await busy(save, async () => {
      let plan;
      try {
        plan = await patch('/api/v1/modules/mail/settings?dry_run=1', changes);
      } catch (e) {
        showError(e);
        return;
      }
      const v = await modal(`Change ${names.join(', ')}?`, h('div.plan', planView(plan || {})), [
        { label: 'Cancel', value: 'cancel' },
        { label: 'Apply', value: 'apply', primary: true },
      ]);
      if (v !== 'apply') {
        answer('info', 'Nothing was changed.');
        return;
      }
      let r;
      try {
        r = (await patch('/api/v1/modules/mail/settings', changes)) || {};
      } catch (e) {
        showError(e);
        return;
      }
      try {
        current = await get('/api/v1/modules/mail/settings');
      } catch {
        /* the form keeps what was typed */
      }
      fill();
      answer('ok', `Applied: ${names.join(', ')}.`, (r.warnings || []).map((w) => ` ${w}`), auditLink(r));
    });
  }

  async function load() {
    let schema;
    try {
      [schema, current] = await Promise.all([get('/api/v1/modules/mail/schema'), get('/api/v1/modules/mail/settings')]);
    } catch (e) {
      clear(el, failed('The mail settings', e), h('p', h('a', { href: '#/modules/mail' }, 'The generic settings page of the module')));
      return;
    }
    const defs = schema.settings || [];
    const placed = new Set(GROUPS.flatMap(([, keys]) => keys));
    const groups = [...GROUPS, ['Other settings', defs.map((d) => d.key).filter((k) => !placed.has(k))]];
    items = defs.map((def) => {
      const x = settingInput(def);
      const label = LABELS[def.key] || humanize(def.key.split(':').pop(), true);
      const desc = IN_MB.has(def.key) ? `${(def.description || '').replace(/,? in bytes/, '')}, in MB (1 MB = 1,000,000 bytes)` : def.description || '';
      const help = [desc, def.type === 'string_array' ? ' — one a line' : '', ' ', h('code.key', def.key)];
      const f = field(label, x.el, help, { name: def.key });
      f.title = def.key;
      const it = { def, label, f, ...x };
      const mark = () => f.classList.toggle('changed', !same(it.read(), it.start));
      x.el.addEventListener('input', mark);
      x.el.addEventListener('change', mark);
      return it;
    });
    const byKey = new Map(items.map((i) => [i.def.key, i]));
    fill();
    const save = h('button.primary', { type: 'submit' }, 'Review changes…');
    const discard = h('button', { type: 'button', onclick: () => { fill(); clear(bar); } }, 'Discard');
    const form = h(
      'form.settings-form.mail-settings',
      { novalidate: true, 'aria-label': 'mail settings', onsubmit: (ev) => { ev.preventDefault(); review(save); } },
      h(
        'fieldset.mail-settings-body',
        { disabled: !admin },
        h('legend.visually-hidden', 'Mail settings'),
        groups
          .map(([title, keys]) => [title, keys.map((k) => byKey.get(k)).filter(Boolean)])
          .filter(([, its]) => its.length)
          .map(([title, its]) => h('fieldset', { 'data-group': title }, h('legend', title), its.map((i) => i.f))),
      ),
      admin ? h('div.action-bar', h('div.toolbar', save, discard), bar) : null,
    );
    clear(
      el,
      admin ? null : h('p.muted', 'Changing the settings needs the admin role.'),
      h('p.muted', 'Every change is checked on a copy first (postfix check, doveconf), applied, then Postfix and Dovecot reload. ', h('a', { href: '#/audit' }, 'The audit log'), ' undoes a change.'),
      form,
    );
  }
  return { load };
}

/* ---- aliases ---------------------------------------------------------------- */

const targetsOf = (s) =>
  String(s || '')
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

function aliasesPart(el, ctx, status) {
  const admin = atLeast(ctx, 'admin');
  const formEl = h('div');
  const listEl = h('div');

  function aliasForm(a) {
    const isNew = !a;
    const name = h('input', { value: a ? a.name : '', maxLength: 64, spellcheck: false, autocomplete: 'off', readOnly: !isNew, placeholder: 'sales' });
    const targets = h('textarea', { rows: 3, spellcheck: false, placeholder: 'alice\nbob@example.org' }, a ? (a.targets || []).join('\n') : '');
    const fields = {
      name: field('Alias', name, isNew ? 'The local name: mail to it@this server goes to the addresses below.' : null, { name: 'name' }),
      targets: field('Delivered to', targets, 'Local users, other aliases or addresses, one a line.', { name: 'targets' }),
    };
    const submit = h('button.primary', { type: 'submit' }, 'Review…');
    return h(
      'form.panel.alias-form',
      {
        'aria-label': isNew ? 'New alias' : `Edit ${a.name}`,
        novalidate: true,
        onsubmit: async (ev) => {
          ev.preventDefault();
          for (const x of Object.values(fields)) x.setError(null);
          const t = targetsOf(targets.value);
          if (isNew && !/^[^\s:@#]{1,64}$/.test(name.value.trim())) {
            fields.name.setError('A name of 1 to 64 characters, without spaces, ":", "@" or "#".');
            name.focus();
            return;
          }
          if (!t.length) {
            fields.targets.setError('Name at least one user or address.');
            targets.focus();
            return;
          }
          await busy(submit, async () => {
            const r = isNew
              ? await planned('POST', '/api/v1/mail_aliases', { name: name.value.trim(), targets: t }, `Add the alias ${name.value.trim()}?`, fields, status)
              : await planned('PATCH', `/api/v1/mail_aliases/${seg(a.name)}`, { targets: t }, `Change the alias ${a.name}?`, fields, status);
            if (!r) return;
            clear(formEl);
            say(status, 'ok', isNew ? `The alias ${name.value.trim()} is added.` : `The alias ${a.name} is changed.`, auditLink(r));
            await load();
          });
        },
      },
      h('h3', isNew ? 'New alias' : `Edit ${a.name}`),
      fields.name,
      fields.targets,
      h('div.toolbar', submit, h('button', { type: 'button', onclick: () => clear(formEl) }, 'Cancel')),
    );
  }

  async function remove(a, button) {
    await busy(button, async () => {
      const r = await planned('DELETE', `/api/v1/mail_aliases/${seg(a.name)}`, undefined, `Delete the alias ${a.name}?`, null, status);
      if (!r) return;
      say(status, 'ok', `The alias ${a.name} is deleted.`, auditLink(r));
      await load();
    });
  }

  async function load() {
    let r;
    try {
      r = await get('/api/v1/mail_aliases');
    } catch (e) {
      clear(listEl, failed('The aliases', e));
      return;
    }
    const aliases = r.mail_aliases || r.aliases || [];
    clear(
      listEl,
      table(
        [
          { label: 'Alias', cell: (a) => h('strong', { 'data-alias': a.name }, a.name) },
          { label: 'Delivered to', cell: (a) => (a.targets || []).join(', ') },
          {
            label: admin ? 'Actions' : 'Editing',
            cell: (a) =>
              a.editable === false
                ? h('span.muted', { title: 'a command, a file or an :include: list: edit /etc/aliases on the server' }, 'edited in /etc/aliases only')
                : admin
                  ? h(
                      'div.toolbar.row-actions',
                      h('button.small', { type: 'button', 'aria-label': `Edit the alias ${a.name}`, onclick: () => clear(formEl, aliasForm(a)) }, 'Edit'),
                      h('button.small', { type: 'button', 'aria-label': `Delete the alias ${a.name}`, onclick: (ev) => remove(a, ev.currentTarget) }, 'Delete'),
                    )
                  : null,
          },
        ],
        aliases,
        { class: 'mail-aliases', label: 'mail aliases', empty: 'No alias yet.' },
      ),
    );
  }

  clear(
    el,
    h(
      'div.section-head',
      h('h2', 'Aliases'),
      admin ? h('button#new-alias', { type: 'button', onclick: () => clear(formEl, aliasForm(null)) }, 'New alias') : h('span.muted', 'Changes need the admin role.'),
    ),
    formEl,
    listEl,
  );
  return { load };
}

/* ---- the page --------------------------------------------------------------------- */

export async function render(view, ctx, tab) {
  const status = h('div.page-status', { 'aria-live': 'polite' });
  const headEl = h('section.panel.mail-head', { 'aria-label': 'mail servers' });
  const panel = h('div', { role: 'tabpanel', id: 'mail-panel' });
  const title = h('h1', 'Mail');
  const tabs = TABS.map(([t, label]) =>
    h('button', { type: 'button', role: 'tab', id: `mail-tab-${t}`, 'data-tab': t, 'aria-controls': 'mail-panel', 'aria-selected': 'false', onclick: () => show(t) }, label),
  );
  clear(view, title, headEl, status, h('div.tabs.wrap', { role: 'tablist', 'aria-label': 'Mail' }, tabs), panel);

  const header = headerPart(headEl, ctx, status);
  const parts = {};
  let current = null;

  function part(t) {
    if (parts[t]) return parts[t];
    const el = h('div', { 'data-part': t });
    const make = { queue: queuePart, connections: connectionsPart, activity: activityPart, settings: settingsPart, aliases: aliasesPart }[t];
    parts[t] = { el, ...make(el, ctx, status) };
    return parts[t];
  }

  async function show(t) {
    if (!TABS.some(([x]) => x === t)) t = 'queue';
    if (current && parts[current]?.stop) parts[current].stop();
    current = t;
    for (const b of tabs) b.setAttribute('aria-selected', String(b.dataset.tab === t));
    panel.setAttribute('aria-labelledby', `mail-tab-${t}`);
    clear(status);
    if (location.hash !== `#/mail/${t}`) history.replaceState(null, '', `#/mail/${t}`);
    const p = part(t);
    clear(panel, p.el);
    delete title.dataset.loaded;
    await (p.start ? p.start() : p.load());
    /* The tab has answered (the browser tests wait for this). */
    if (current === t) title.dataset.loaded = t;
  }

  await Promise.all([header.load(), show(tab)]);
  return () => {
    for (const p of Object.values(parts)) if (p.destroy) p.destroy();
  };
}
