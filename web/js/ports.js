/* ports.js — what listens on this server: the listener table with owners,
 * registry names and findings; a lookup box for any port (registry records,
 * the range, legacy and trojan history, who listens there now); and the
 * baseline (save it, then new/gone show up as findings).  #/ports/N opens
 * with N looked up. */
import { get, post, seg } from './api.js';
import { h, clear, table, severityBadge, badge, notice, confirm, busy, errorText, field } from './ui.js';

/* The overview's findings of this module (its schema says console
 * overview: true): warnings, critical and new listeners, listeners gone
 * since the baseline; refreshed on overviewEvents. */
export const overviewEvents = ['ports'];

export async function overviewFindings() {
  let ports;
  try {
    ports = await get('/api/v1/ports');
  } catch (e) {
    return [h('li', severityBadge('warning', 'ports'), ' ', errorText(e))];
  }
  const items = [];
  for (const l of ports.listeners || [])
    for (const f of l.findings || [])
      if (f.severity === 'warning' || f.severity === 'critical' || f.code === 'new')
        items.push(
          h(
            'li',
            { 'data-finding': f.code },
            severityBadge(f.severity, f.code),
            ' ',
            h('a', { href: `#/ports/${l.port}` }, `${l.protocol} ${l.address}:${l.port}`),
            ` — ${f.message}`,
          ),
        );
  for (const g of ports.gone || []) items.push(h('li', { 'data-finding': 'gone' }, severityBadge('warning', 'gone'), ` ${g} was in the baseline and is no longer listening`));
  return items;
}

function listenerTable(listeners) {
  return table(
    [
      { label: 'Proto', cell: (l) => `${l.protocol}${l.family === 'ipv6' ? '6' : ''}` },
      { label: 'Address', cell: (l) => h('span.mono', l.family === 'ipv6' ? `[${l.address}]` : l.address) },
      { label: 'Port', class: 'num', cell: (l) => h('a', { href: `#/ports/${l.port}` }, String(l.port)) },
      { label: 'Scope', cell: (l) => l.scope },
      {
        label: 'Process',
        cell: (l) =>
          (l.processes || []).length
            ? l.processes.map((p) => h('div', `${p.command} (${p.pid}, ${p.user})`, p.unit ? h('span.muted', ` ${p.unit}`) : null))
            : h('span.muted', 'unknown'),
      },
      {
        label: 'Service (IANA)',
        cell: (l) =>
          (l.registry || [])
            .map((r) => r.service || r.description)
            .filter(Boolean)
            .join(', ') || h('span.muted', 'unassigned'),
      },
      { label: 'Findings', cell: (l) => (l.findings || []).map((f) => h('span', { title: f.message }, severityBadge(f.severity, f.code))) },
    ],
    listeners,
    { class: 'listeners', label: 'listening sockets', empty: 'Nothing is listening.' },
  );
}

function lookupView(r) {
  const recs = r.records || [];
  return h(
    'div.lookup-result',
    { 'data-port': String(r.port) },
    h('h3', `Port ${r.port}`, ' ', badge(r.range, 'info')),
    h('p', r.range_explanation),
    recs.length
      ? table(
          [
            { label: 'Service', cell: (x) => h('strong', x.service || '–') },
            { label: 'Proto', cell: (x) => x.protocol || '–' },
            { label: 'Description', cell: (x) => x.description || '' },
            { label: 'Assignee', cell: (x) => x.assignee || '' },
            { label: 'Reference', cell: (x) => x.reference || '' },
          ],
          recs,
          { caption: 'IANA registry' },
        )
      : h('p', 'IANA has no record for this port.'),
    (r.legacy || []).map((x) => h('p.notice.notice-info', h('strong', `${x.service} (${x.protocol}, ${x.status}): `), x.note, x.source ? h('span.muted', ` — ${x.source}`) : null)),
    // Once per port (the server leaves it out of each listener's findings):
    // information when the registered service's program listens here, a
    // warning only when another program does.
    (r.trojan_history || []).map((t) =>
      h(t.severity === 'warning' ? 'p.notice.notice-warn' : 'p.notice.notice-info', h('strong', `Malware history (${t.protocol}): `), t.message || t.names || ''),
    ),
    h('h4', 'Listening here now'),
    (r.listeners || []).length ? listenerTable(r.listeners) : h('p.muted', 'Nothing listens on this port.'),
    r.registry_date ? h('p.muted', `Registry of ${r.registry_date}.`) : null,
  );
}

export async function render(view, ctx, initialPort) {
  const status = h('div', { 'aria-live': 'polite' });
  const listEl = h('div', h('p.muted', 'Loading…'));
  const baseEl = h('div');
  const portInput = h('input', { type: 'number', min: 0, max: 65535, step: 1, inputMode: 'numeric', name: 'port', id: 'port-lookup' });
  const portField = field('Port', portInput, 'A number from 0 to 65535: what it is registered for, and who listens there.', { inline: true });
  const result = h('div', { 'aria-live': 'polite' });
  const lookupButton = h('button.primary', { type: 'submit' }, 'Look up');

  async function lookup(p) {
    portField.setError(null);
    if (!/^\d+$/.test(String(p)) || Number(p) > 65535) {
      portField.setError('Enter a port number from 0 to 65535.');
      return;
    }
    await busy(lookupButton, async () => {
      try {
        let r;
        try {
          r = await get(`/api/v1/ports/${seg(Number(p))}`);
        } catch (e) {
          if (e.status !== 404) throw e;
          r = await get(`/api/v1/ports/registry/${seg(Number(p))}`);
        }
        clear(result, lookupView(r));
      } catch (e) {
        if (e.field) portField.setError(e.message);
        else clear(result, notice('error', errorText(e)));
      }
    });
  }

  async function load() {
    const r = await get('/api/v1/ports');
    const fresh = (r.listeners || []).filter((l) => (l.findings || []).some((f) => f.code === 'new'));
    clear(
      listEl,
      r.owners_known === false ? notice('warn', 'Owners of sockets are not known (the helper could not read them).') : null,
      listenerTable(r.listeners || []),
    );
    clear(
      baseEl,
      h('h2#baseline-title', 'Baseline'),
      r.baseline
        ? h(
            'div',
            h('p', 'Listeners are compared with the saved baseline.'),
            h('p', { 'data-baseline': 'new' }, h('strong', `New since the baseline (${fresh.length}): `), fresh.length ? fresh.map((l) => `${l.protocol} ${l.address}:${l.port}`).join(', ') : 'none'),
            h('p', { 'data-baseline': 'gone' }, h('strong', `Gone since the baseline (${(r.gone || []).length}): `), (r.gone || []).length ? r.gone.join(', ') : 'none'),
          )
        : h('p', 'No baseline is saved: save one when the server is as it should be, and any new or vanished listener becomes a finding.'),
      h(
        'button',
        {
          type: 'button',
          id: 'baseline-save',
          onclick: async (ev) => {
            if (!(await confirm('Save the baseline?', h('p', `The ${(r.listeners || []).length} current listeners become the reference that new and gone ones are judged against.`), 'Save baseline')))
              return;
            await busy(ev.target, async () => {
              try {
                await post('/api/v1/modules/ports/commands/baseline_save');
                clear(status, notice('ok', 'Baseline saved.'));
                await load();
              } catch (e) {
                clear(status, notice('error', errorText(e)));
              }
            });
          },
        },
        r.baseline ? 'Save the current listeners as the new baseline' : 'Save baseline',
      ),
    );
  }

  clear(
    view,
    h('h1', 'Ports'),
    status,
    h(
      'section.panel',
      { 'aria-labelledby': 'lookup-title' },
      h('h2#lookup-title', 'Look up a port'),
      h(
        'form.inline-form',
        { novalidate: true, onsubmit: (ev) => { ev.preventDefault(); history.replaceState(null, '', `#/ports/${portInput.value.trim()}`); lookup(portInput.value.trim()); } },
        portField,
        lookupButton,
      ),
      result,
    ),
    h('section.panel', { 'aria-labelledby': 'listeners-title' }, h('div.section-head', h('h2#listeners-title', 'Listening sockets'), h('button', { type: 'button', onclick: () => load().catch((e) => clear(status, notice('error', errorText(e)))) }, 'Refresh')), listEl),
    h('section.panel', { 'aria-labelledby': 'baseline-title' }, baseEl),
  );
  const onPorts = () => load().catch(() => {});
  ctx.bus.addEventListener('ports', onPorts);
  try {
    await load();
  } catch (e) {
    clear(listEl, notice('error', errorText(e)));
  }
  if (initialPort !== undefined) {
    portInput.value = initialPort;
    await lookup(initialPort);
  }
  return () => ctx.bus.removeEventListener('ports', onPorts);
}
