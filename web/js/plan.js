/* plan.js — the review-before-apply of every change the console makes
 * through a collection (users.js, collection.js): the write is first sent
 * with ?dry_run=1, its plan (the commands with their argv, the files'
 * diffs, warnings) is shown in a dialog, and only a confirmation applies it.
 * Errors naming a field are shown next to that field; a generated password
 * is shown once, in a dialog. */
import { api } from './api.js';
import { h, clear, notice, modal, errorText, filesView } from './ui.js';

export function planView(plan) {
  plan = plan.plan || plan;
  return [
    (plan.warnings || []).map((w) => notice('warn', w)),
    (plan.commands || []).length
      ? [h('h3', 'Commands'), h('div.plan-commands', plan.commands.map((argv) => h('code', argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' '))))]
      : null,
    (plan.files || []).length ? [h('h3', 'Files'), filesView(plan.files)] : null,
    !(plan.commands || []).length && !(plan.files || []).length ? h('p.muted', 'Nothing would change.') : null,
  ];
}

/* dry run → plan dialog → apply; resolves with the answer, or null. */
export async function planned(method, path, body, title, fields, status) {
  const sep = path.includes('?') ? '&' : '?';
  for (const f of Object.values(fields || {})) f.setError(null);
  let plan;
  try {
    plan = await api(method, `${path}${sep}dry_run=1`, body);
  } catch (e) {
    showError(e, fields, status);
    return null;
  }
  const v = await modal(title, h('div.plan', planView(plan)), [
    { label: 'Cancel', value: 'cancel' },
    { label: 'Apply', value: 'apply', primary: true },
  ]);
  if (v !== 'apply') return null;
  try {
    return (await api(method, path, body)) || {};
  } catch (e) {
    showError(e, fields, status);
    return null;
  }
}

export function showError(e, fields, status) {
  const f = e.field && fields && fields[e.field];
  if (f) {
    f.setError(e.message);
    f.input.focus();
  } else clear(status, notice('error', errorText(e)));
}

export async function showPassword(user, password) {
  if (!password) return;
  await modal('Generated password', [
    h('p', `The password for ${user} is shown only this once:`),
    h('p.secret', { tabIndex: 0, 'data-secret': '' }, password),
  ]);
}

