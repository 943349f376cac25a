/* audit.js — the audit log: filters (module, user), newest first with
 * "older" paging, each record's arguments and file diffs rendered readably,
 * the hash chain's verify state, and rollback: a dry run shows what would be
 * restored, and only a confirmation applies it (409 shows what moved on).
 * #/audit/N opens record N.  New records arrive live when the server sends
 * them. */
import { get, post, seg } from './api.js';
import { h, clear, badge, filesView, notice, confirm, busy, errorText, when, field, humanValue, valueView } from './ui.js';

function argsView(args) {
  if (!args || typeof args !== 'object' || !Object.keys(args).length) return null;
  return h(
    'dl.kv',
    /* The arguments as sent, keys as the API names them; a nested value as
     * a list or table, never as JSON text. */
    Object.entries(args).map(([k, v]) => [h('dt', k), h('dd.mono', v !== null && typeof v === 'object' && !(Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) ? valueView(v, 1) : humanValue(k, v))]),
  );
}

export async function render(view, ctx, openId) {
  const status = h('div', { 'aria-live': 'polite' });
  const verifyEl = h('div', { 'data-verify': '' }, 'Checking the chain…');
  const listEl = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, 'Older records');
  const moduleIn = h('input', { name: 'module', spellcheck: false, autocomplete: 'off' });
  const userIn = h('input', { name: 'user', spellcheck: false, autocomplete: 'off' });
  const canRollback = ctx.me.role === 'admin';
  let next = null;

  function record(r, open) {
    const body = h('div.record-body');
    const d = h(
      'details.record',
      { 'data-id': String(r.id), open: open || undefined },
      h(
        'summary',
        h('strong', `#${r.id}`),
        h('span.mono', when(r.time)),
        h('span', r.user, h('span.muted', ` (${r.role})`)),
        h('span', `${r.module || '–'} · ${r.operation}`),
        badge(r.result, { ok: 'ok', refused: 'warn' }[r.result] || 'bad'),
        r.rollback_of ? badge(`rollback of #${r.rollback_of}`, 'info') : null,
        (r.files || []).length ? h('span.muted', (r.files || []).map((f) => f.path).join(', ')) : null,
      ),
      body,
    );
    const fill = () =>
      clear(
        body,
        h('dl.kv', h('dt', 'from'), h('dd.mono', r.source || '–'), r.message ? [h('dt', 'message'), h('dd', r.message)] : null, h('dt', 'hash'), h('dd.mono', r.hash || '')),
        argsView(r.args),
        filesView(r.files),
        canRollback && (r.files || []).length && r.result === 'ok'
          ? h('button', { type: 'button', class: 'rollback', onclick: (ev) => rollback(r, ev.target) }, `Roll back #${r.id}…`)
          : null,
      );
    fill();
    return d;
  }

  async function rollback(r, button) {
    await busy(button, async () => {
      let plan;
      try {
        plan = await post(`/api/v1/audit/${seg(r.id)}/rollback?dry_run=1`);
      } catch (e) {
        showRollbackError(e);
        return;
      }
      const ok = await confirm(`Roll back change #${r.id}?`, h('div', h('p', 'These files will be restored to what they held before the change:'), filesView(plan.files)), 'Roll back', true);
      if (!ok) return;
      try {
        const res = await post(`/api/v1/audit/${seg(r.id)}/rollback`);
        clear(status, notice('ok', `Change #${r.id} rolled back${res.record ? ` (record #${res.record})` : ''}.`));
        await load(true);
      } catch (e) {
        showRollbackError(e);
      }
    });
  }

  function showRollbackError(e) {
    if (e.status === 409)
      clear(
        status,
        notice('error', `Not rolled back: ${e.message}. The files changed since; this is how they differ from what the change left:`),
        filesView(e.body && e.body.error && e.body.error.files),
      );
    else clear(status, notice('error', `Not rolled back: ${errorText(e)}`));
  }

  async function verify() {
    try {
      const v = await get('/api/v1/audit/verify');
      clear(
        verifyEl,
        v.ok
          ? notice('ok', `The hash chain is intact: ${v.records} records.`)
          : notice('error', `The hash chain is broken at record #${v.first_broken}: ${v.message || 'a record was changed or removed'}.`),
      );
    } catch (e) {
      clear(verifyEl, notice('error', errorText(e)));
    }
  }

  async function load(reset) {
    const q = new URLSearchParams();
    if (moduleIn.value.trim()) q.set('module', moduleIn.value.trim());
    if (userIn.value.trim()) q.set('user', userIn.value.trim());
    q.set('limit', '50');
    if (!reset && next) q.set('before', next);
    const r = await get(`/api/v1/audit?${q}`);
    if (reset) clear(listEl);
    const recs = r.records || [];
    if (reset && !recs.length) listEl.append(h('p.muted', 'No records.'));
    for (const rec of recs) listEl.append(record(rec, String(rec.id) === String(openId)));
    next = r.next || null;
    more.hidden = !next;
  }

  more.addEventListener('click', () => busy(more, () => load(false).catch((e) => clear(status, notice('error', errorText(e))))));

  clear(
    view,
    h('h1', 'Audit'),
    verifyEl,
    status,
    h(
      'form.inline-form.panel',
      { 'aria-label': 'Filter', onsubmit: (ev) => { ev.preventDefault(); load(true).catch((e) => clear(status, notice('error', errorText(e)))); } },
      field('Module', moduleIn),
      field('User', userIn),
      h('button', { type: 'submit' }, 'Filter'),
    ),
    h('section.panel', { 'aria-label': 'Records' }, listEl, more),
  );

  const onAudit = (ev) => {
    const r = ev.detail;
    if (!r || !r.id || listEl.querySelector(`[data-id="${CSS.escape(String(r.id))}"]`)) return;
    if (moduleIn.value.trim() && r.module !== moduleIn.value.trim()) return;
    if (userIn.value.trim() && r.user !== userIn.value.trim()) return;
    listEl.querySelector('p.muted')?.remove();
    listEl.prepend(record(r, false));
    verify();
  };
  ctx.bus.addEventListener('audit', onAudit);
  await Promise.all([verify(), load(true).catch((e) => clear(listEl, notice('error', errorText(e))))]);
  if (openId) {
    let el = listEl.querySelector(`[data-id="${CSS.escape(String(openId))}"]`);
    if (!el) {
      try {
        const r = await get(`/api/v1/audit/${seg(openId)}`);
        el = record(r, true);
        listEl.prepend(el);
      } catch (e) {
        clear(status, notice('error', errorText(e)));
      }
    }
    if (el) {
      el.open = true;
      el.scrollIntoView({ block: 'start' });
    }
  }
  return () => ctx.bus.removeEventListener('audit', onAudit);
}
