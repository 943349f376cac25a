/* console.mjs — drives the Steward console in headless chromium
 * (playwright-core) through the steps named in STEWARD_STEPS, against the
 * daemon at STEWARD_URL, logging in as STEWARD_USER.  Run by
 * tests/browser/test_console.py, which starts the daemon and the accounts.
 *
 * Prints "ok STEP" per step and exits 1 at the first failure.  Every page
 * visited is screenshotted into STEWARD_ARTIFACTS and checked with axe-core
 * (no serious or critical violation), must show no JSON as text (a product
 * shows lists and tables; file diffs are file contents and exempt) and, at
 * the desktop size (1280×800), must not scroll sideways; at the end, no
 * Content-Security-Policy violation may have been reported.  Waits are for
 * states, never for time. */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const require = createRequire(join(process.cwd(), 'package.json'));
const { chromium, request } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const env = process.env;
const URL_ = env.STEWARD_URL;
const USER = env.STEWARD_USER;
const PASSWORD = env.STEWARD_PASSWORD;
const ART = env.STEWARD_ARTIFACTS;
const STEPS = env.STEWARD_STEPS.split(',');

const browser = await chromium.launch({
  executablePath: env.STEWARD_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
page.setDefaultTimeout(30000);

const cspViolations = [];
const pageErrors = [];
await page.addInitScript(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
});
page.on('console', (m) => {
  if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
});
page.on('pageerror', (e) => pageErrors.push(String(e)));

let shot = 0;
async function check(name) {
  shot++;
  await page.screenshot({ path: join(ART, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.equal(
    bad.length,
    0,
    `${name}: accessibility violations:\n` + bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`).join('\n'),
  );
  /* No JSON object on screen: scan the visible text, diffs and form
   * fields aside. */
  const json = await page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest('pre.diff, textarea, script, style, [hidden]') || !el.getClientRects().length) continue;
      if (/\{"|":\s*["{[\d]/.test(n.textContent)) out.push(n.textContent.slice(0, 120));
    }
    return out;
  });
  assert.deepEqual(json, [], `${name}: JSON shown as text`);
  const vp = page.viewportSize();
  if (vp.width === 1280) {
    const wide = await page.evaluate(() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth);
    assert.ok(wide <= 0, `${name}: the page scrolls sideways by ${wide} px at 1280×800`);
  }
  const csp = await page.evaluate(() => window.__csp || []);
  assert.deepEqual([...csp, ...cspViolations], [], `${name}: CSP violations`);
  assert.deepEqual(pageErrors, [], `${name}: script errors`);
}

/* Polls a predicate in the page (page.waitForFunction compiles strings,
 * which the console's CSP rightly forbids). */
async function waitFor(fn, arg) {
  const deadline = Date.now() + 30000;
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${fn}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function apiGet(path) {
  const r = await page.request.get(URL_ + path);
  assert.equal(r.status(), 200, `${path}: ${r.status()} ${await r.text()}`);
  return r.json();
}

async function go(hash) {
  await page.evaluate((h) => (location.hash = h), hash);
}

async function login(user, password) {
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await page.click('form.login button[type=submit]');
}

const steps = {
  async login() {
    await page.goto(URL_ + '/');
    await page.waitForSelector('form.login');
    await check('login');
    await login(USER, PASSWORD);
    await page.waitForSelector('#nav:not([hidden])');
    await page.waitForSelector('[data-field=hostname]');
  },

  async overview() {
    await go('#/overview');
    await page.waitForSelector('[data-field=hostname]');
    const s = await apiGet('/api/v1/modules/system?full=1');
    const text = async (k) => (await page.textContent(`[data-field=${k}]`)).trim();
    assert.equal(await text('hostname'), s.hostname);
    assert.equal(await text('os'), s.os.pretty_name || s.os.name);
    assert.equal(await text('kernel'), s.kernel.release);
    assert.equal(await text('cpus'), String(s.cpu.count));
    const shown = await page.$$eval('table.filesystems [data-size]', (els) => els.map((e) => e.dataset.size));
    assert.deepEqual(shown, s.filesystems.map((f) => String(f.size_bytes)));
    await page.waitForSelector('[data-finding=audit-verify]');
    await waitFor(() => document.querySelector('[data-chart=cpu]') && document.querySelector('[data-chart=cpu] canvas'));
    await check('overview');
  },

  /* The journal page against the booted container: the test logger's
   * lines, severity colours, a priority filter, a refused time named at its
   * field, and live follow (a new line appears at the top, no reload). */
  async logs() {
    await go('#/logs/steward-test-logger.service');
    await page.waitForSelector('table.logs tr.log-entry');
    await waitFor(() => document.querySelectorAll('table.logs tr.log-warn').length > 0 && document.querySelectorAll('table.logs tr.log-bad').length > 0);
    await waitFor(() => /live/.test(document.querySelector('.logs-status').textContent));
    const first = await page.getAttribute('table.logs tr.log-entry:first-child', 'data-cursor');
    await waitFor((c) => document.querySelector('table.logs tr.log-entry:first-child').dataset.cursor !== c, first);
    assert.match(await page.textContent('table.logs tr.log-entry:first-child td.log-message'), /steward-test-logger line \d+/);
    await check('logs');
    await page.selectOption('#logs-priority', 'err');
    await page.click('form.logs-filters button[type=submit]');
    await waitFor(() => {
      const rows = [...document.querySelectorAll('table.logs tr.log-entry')];
      return rows.length > 0 && rows.every((r) => r.classList.contains('log-bad'));
    });
    await check('logs-err');
    await page.fill('#logs-since', 'soon');
    await page.click('form.logs-filters button[type=submit]');
    await page.waitForSelector('[data-field=since] .field-error:not(:empty)');
    await page.fill('#logs-since', '');
    await page.selectOption('#logs-priority', '');
    await page.click('form.logs-filters button[type=submit]');
    await page.waitForSelector('#logs-file option', { state: 'attached' });
    await page.selectOption('#logs-file', 'steward-console.log');
    await page.click('.logs-files button[type=submit]');
    await waitFor(() => document.querySelector('pre.log-file').textContent === 'one\ntwo');
    await check('logs-file');
  },

  async live() {
    await go('#/overview');
    await page.waitForSelector('[data-chart=cpu] canvas');
    await waitFor(() => /live/.test(document.querySelector('.live-state').textContent));
    const before = Number(await page.getAttribute('[data-chart=cpu]', 'data-points'));
    await waitFor((n) => Number(document.querySelector('[data-chart=cpu]').dataset.points) > n, before);
    /* The latest values are in the legend without hovering. */
    await page.mouse.move(0, 0);
    await waitFor(() => [...document.querySelectorAll('[data-chart=cpu] .u-legend .u-series:not(:first-child) .u-value')].some((e) => /\d/.test(e.textContent)));
    /* The y axis is as wide as its labels: none is cut at the left. */
    await check('overview-live');
  },

  async settings() {
    await go('#/modules/stewardd');
    const level = '#set-stewardd-log_level';
    await page.waitForSelector(level);
    await check('settings-stewardd');
    /* Bounds are enforced in the form, next to the field. */
    await page.fill('#set-stewardd-limits_max_connections', '0');
    await page.click('text=Review changes…');
    await page.waitForSelector('[data-field="limits:max_connections"] .field-error:not(:empty)');
    const err = await page.textContent('[data-field="limits:max_connections"] .field-error');
    assert.match(err, /At least 1/);
    await page.click('text=Discard');
    /* A real change: plan, confirm, applied. */
    const before = (await apiGet('/api/v1/modules/stewardd/settings')).log_level;
    const want = before === 'debug' ? 'info' : 'debug';
    await page.selectOption(level, want);
    await page.click('text=Review changes…');
    await page.waitForSelector('dialog[open] pre.diff');
    const diff = await page.textContent('dialog[open] pre.diff');
    assert.match(diff, new RegExp(`\\+log_level = "${want}"`));
    assert.equal((await apiGet('/api/v1/modules/stewardd/settings')).log_level, before, 'the dry run changed nothing');
    await check('settings-plan');
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector('.notice-ok');
    assert.equal((await apiGet('/api/v1/modules/stewardd/settings')).log_level, want);
    steps.changed = { before, want };
  },

  async audit() {
    const { before, want } = steps.changed;
    const recs = (await apiGet('/api/v1/audit?module=stewardd')).records;
    const id = recs[0].id;
    await go('#/audit');
    const rec = `details.record[data-id="${id}"]`;
    await page.waitForSelector(rec);
    await page.click(`${rec} summary`);
    const diff = await page.textContent(`${rec} pre.diff`);
    assert.match(diff, new RegExp(`log_level = "${want}"`));
    await page.waitForSelector('[data-verify] .notice-ok');
    await check('audit');
    await page.click(`${rec} button.rollback`);
    await page.waitForSelector('dialog[open] pre.diff');
    await check('audit-rollback-plan');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('.notice-ok >> text=rolled back');
    assert.equal((await apiGet('/api/v1/modules/stewardd/settings')).log_level, before);
  },

  async ports() {
    await go('#/ports');
    await page.waitForSelector('table.listeners');
    await page.fill('#port-lookup', '660');
    await page.click('button:has-text("Look up")');
    await page.waitForSelector('.lookup-result[data-port="660"]');
    const t = await page.textContent('.lookup-result');
    assert.match(t, /mac-srvr-admin/);
    // A port with a malware history and nothing on it: information, said
    // once, not an alarm.
    await page.fill('#port-lookup', '31337');
    await page.click('button:has-text("Look up")');
    await page.waitForSelector('.lookup-result[data-port="31337"]');
    assert.equal(await page.locator('.lookup-result .notice-warn').count(), 0);
    const history = await page.locator('.lookup-result .notice-info', { hasText: 'Malware history (tcp)' }).allTextContents();
    assert.equal(history.length, 1);
    assert.match(history[0], /nothing listens on it now/);
    await check('ports');
  },

  async tokens() {
    await go('#/tokens');
    await page.waitForSelector('table.tokens');
    await page.fill('input[name=name]', 'browser-test');
    await page.click('button:has-text("Create token")');
    await page.waitForSelector('dialog[open] [data-secret]');
    const secret = await page.textContent('dialog[open] [data-secret]');
    assert.match(secret, /^stw_[0-9a-f]{64}$/);
    await check('token-created');
    await page.click('dialog[open] button[value=close]');
    await page.waitForSelector('table.tokens >> text=browser-test');
    await check('tokens');
    await page.click('button[aria-label="Revoke token browser-test"]');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('.notice-ok >> text=revoked');
    const list = (await apiGet('/api/v1/tokens')).tokens;
    assert.ok(!list.some((x) => x.name === 'browser-test'));
  },

  /* The findings count the failed logins (badlogin made one). */
  async findings() {
    /* The daemon learns the counts from its helper a moment after a login:
     * wait for them there, then the page shows them. */
    const deadline = Date.now() + 30000;
    let s;
    while (!((s = await apiGet('/api/v1/modules/stewardd?full=1')).logins && s.logins.failed >= 1)) {
      assert.ok(Date.now() < deadline, 'the failed login is not counted');
      await new Promise((r) => setTimeout(r, 200));
    }
    await go('#/ports');
    await page.waitForSelector('table.listeners');
    await go('#/overview');
    await page.waitForSelector('[data-finding=logins]');
    const failed = Number(await page.getAttribute('[data-finding=logins]', 'data-failed'));
    assert.equal(failed, s.logins.failed);
    assert.match(await page.textContent('[data-finding=logins]'), /failed login/);
    await check('findings-logins');
  },

  /* Another session of the same user, made through the API from elsewhere,
   * is listed and ended from the console, and stops working. */
  async sessions() {
    const other = await request.newContext({ ignoreHTTPSErrors: true });
    const r = await other.post(URL_ + '/api/v1/login', { data: { user: USER, password: PASSWORD } });
    assert.equal(r.status(), 200);
    const auth = { Authorization: `Bearer ${(await r.json()).token}` };
    const mine = (await (await other.get(URL_ + '/api/v1/sessions', { headers: auth })).json()).sessions;
    const id = mine.find((x) => x.current).id;
    await go('#/overview');
    await page.waitForSelector('[data-field=hostname]');
    await go('#/tokens');
    await page.waitForSelector(`table.sessions [data-session="${id}"]`);
    await page.waitForSelector('table.sessions >> text=this session');
    await check('sessions');
    /* By keyboard: focus the button, Enter, then confirm. */
    await page.focus(`button[aria-label="End session ${id}"]`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog[open]');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('.notice-ok >> text=ended');
    await page.waitForSelector(`table.sessions [data-session="${id}"]`, { state: 'detached' });
    assert.equal((await other.get(URL_ + '/api/v1/whoami', { headers: auth })).status(), 401);
    await other.dispose();
  },

  /* Ending the session the console runs on is a logout. */
  async endcurrent() {
    await go('#/tokens');
    await page.waitForSelector('table.sessions');
    await page.click('button[aria-label$="(this session)"]');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('form.login');
    assert.match(await page.textContent('.login-error'), /ended this session/);
    assert.equal((await page.request.get(URL_ + '/api/v1/whoami')).status(), 401);
  },

  async modules() {
    await go('#/modules');
    await page.waitForSelector('table.modules [data-state=system]');
    await check('modules');
    await go('#/modules/system');
    await page.waitForSelector('#set-system-hostname');
    await check('settings-system');
  },

  async csrf() {
    /* The session cookie alone does not make a change. */
    const r = await page.request.patch(URL_ + '/api/v1/modules/stewardd/settings', {
      data: { log_level: 'debug' },
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(r.status(), 403);
    assert.equal((await r.json()).error.code, 'csrf');
    /* Nor does a wrong token, even after the right one was accepted. */
    const r2 = await page.request.patch(URL_ + '/api/v1/modules/stewardd/settings', {
      data: { log_level: 'debug' },
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': '0'.repeat(64) },
    });
    assert.equal(r2.status(), 403);
    assert.notEqual((await apiGet('/api/v1/modules/stewardd/settings')).log_level, 'debug');
  },

  async phone() {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, sel, name] of [
      ['#/overview', '[data-field=hostname]', 'phone-overview'],
      ['#/ports', 'table.listeners', 'phone-ports'],
      ['#/modules/stewardd', '#set-stewardd-log_level', 'phone-settings'],
    ]) {
      await go(hash);
      await page.waitForSelector(sel);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      const wide = await page.evaluate(() =>
        [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
          .slice(0, 8)
          .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
      );
      assert.ok(overflow <= 1, `${name}: the page is ${overflow} px wider than the screen: ${wide.join(', ')}`);
      await check(name);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  },

  async logout() {
    await page.click('#logout');
    await page.waitForSelector('form.login');
    assert.match(await page.textContent('.login-error'), /logged out/);
    const r = await page.request.get(URL_ + '/api/v1/whoami');
    assert.equal(r.status(), 401);
  },

  async badlogin() {
    if (!(await page.$('form.login'))) await page.goto(URL_ + '/');
    await page.waitForSelector('form.login');
    await login(USER, PASSWORD + '-wrong');
    await waitFor(() => /Wrong user name or password/.test(document.querySelector('.login-error').textContent));
    await check('login-wrong-password');
  },

  async throttled() {
    /* The daemon of this case blocks after one failure. */
    await login(USER, PASSWORD + '-wrong-again');
    await page.waitForSelector('.login-error:has-text("Too many failed logins")');
    await check('login-throttled');
  },

  /* Everything by keyboard: the navigation, a form, a dialog (Escape). */
  async keyboard() {
    await go('#/overview');
    await page.waitForSelector('[data-field=hostname]');
    await page.focus('#nav a[data-page=ports]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#port-lookup');
    await page.focus('#port-lookup');
    await page.keyboard.type('22');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.lookup-result[data-port="22"]');
    await page.focus('#baseline-save');
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog[open]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog', { state: 'detached' });
  },

  async norole() {
    await login(env.STEWARD_NOROLE_USER, env.STEWARD_NOROLE_PASSWORD);
    // Told no more than a wrong password would be.
    await waitFor(() => /Wrong user name or password/.test(document.querySelector('.login-error').textContent));
  },

  async users() {
    await go('#/users');
    await page.waitForSelector('table.users');
    await check('users');
    await page.click('#new-user');
    await page.fill('form.user-form input >> nth=0', 'carol');
    await page.click('form.user-form button[type=submit]');
    await page.waitForSelector('dialog[open] .plan');
    await check('user-plan');
    await page.click('dialog[open] button[value=apply]');
    /* The generated password, shown once. */
    await page.waitForSelector('dialog[open] [data-secret]');
    await page.click('dialog[open] button[value=close]');
    await page.waitForSelector('[data-password-state=carol]');
    /* An item action of the collection's schema: its argument asked first,
     * then the plan of its dry run, then the outcome named in the status. */
    await page.click('button[aria-label="Expire password user carol"]');
    await page.waitForSelector('dialog[open] input[type=checkbox]');
    await check('action-args');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('dialog[open] .plan');
    assert.match(await page.textContent('dialog[open] h2'), /Expire password user carol\?/);
    assert.match(await page.textContent('dialog[open] .plan'), /shadow/);
    await page.click('dialog[open] button[value=apply]');
    await waitFor(() => /Expire password user carol: .*audit record \d+/.test((document.querySelector('.notice-ok') || {}).textContent || ''));
    await waitFor(() => /expired/.test((document.querySelector('[data-password-state=carol]') || {}).textContent || ''));
    assert.equal((await apiGet('/api/v1/users/carol')).password_state, 'expired');
    await page.click('button[aria-label="Lock carol"]');
    await page.waitForSelector('dialog[open] .plan');
    await page.click('dialog[open] button[value=apply]');
    await waitFor(() => /locked/.test((document.querySelector('[data-password-state=carol]') || {}).textContent || ''));
    const u = await apiGet('/api/v1/users/carol');
    assert.equal(u.password_state, 'locked');
    /* A key added in the edit form, then removed with its own button, by
     * keyboard, through the same plan and confirmation. */
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl carol@laptop';
    await page.click('button[aria-label="Edit carol"]');
    await page.waitForSelector('form.user-form textarea');
    await page.fill('form.user-form textarea', key);
    await page.click('form.user-form button[type=submit]');
    await page.waitForSelector('dialog[open] .plan');
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector('form.user-form', { state: 'detached' });
    const withKey = await apiGet('/api/v1/users/carol');
    assert.equal(withKey.ssh_keys, 1);
    const fp = withKey.ssh_key_list[0].fingerprint;
    assert.match(fp, /^SHA256:[A-Za-z0-9+/]{43}$/);
    await page.click('button[aria-label="Edit carol"]');
    await page.waitForSelector(`form.user-form li[data-fingerprint="${fp}"] button`);
    assert.match(await page.textContent(`li[data-fingerprint="${fp}"]`), /ssh-ed25519.*carol@laptop/);
    await check('user-keys');
    await page.focus('button[aria-label="Remove key carol@laptop"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog[open] .plan');
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector('form.user-form', { state: 'detached' });
    const noKey = await apiGet('/api/v1/users/carol');
    assert.equal(noKey.ssh_keys, 0);
    assert.deepEqual(noKey.ssh_key_list, []);
    await go('#/users/groups');
    await page.waitForSelector('table.groups');
    await check('groups');
    /* The groups tab is the generic collection page: its form is built from
     * the groups' schema, and writes go through the same plan dialog. */
    await page.click('#new-group');
    await page.fill('form.group-form [data-field=name] input', 'crew');
    await page.fill('form.group-form [data-field=members] input', 'carol');
    await page.click('form.group-form button[type=submit]');
    await page.waitForSelector('dialog[open] .plan');
    await check('group-plan');
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector('form.group-form', { state: 'detached' });
    assert.deepEqual((await apiGet('/api/v1/groups/crew')).members, ['carol']);
    await page.click('button[aria-label="Edit group crew"]');
    await page.fill('form.group-form [data-field=new_name] input', 'crew2');
    await page.click('form.group-form button[type=submit]');
    await page.waitForSelector('dialog[open] .plan');
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector('form.group-form', { state: 'detached' });
    const renamed = await apiGet('/api/v1/groups/crew2');
    assert.deepEqual(renamed.members, ['carol']);
    /* Every collection is reachable on its own generic page, from its module. */
    await go('#/modules');
    await page.click('a[href="#/collections/groups"]');
    await page.waitForSelector('table.groups');
    await check('collection-groups');
  },

  /* The daemon's session idle timeout is short for this case; waits are for
   * the dialog and the login form, whenever they come. */
  async idle() {
    await go('#/tokens');
    await page.waitForSelector('#idle-warning[open]', { timeout: 120000 });
    await page.screenshot({ path: join(ART, 'idle-warning.png') });
    await page.click('#idle-warning button[value=stay]');
    await page.waitForSelector('#idle-warning', { state: 'detached' });
    assert.equal((await page.request.get(URL_ + '/api/v1/whoami')).status(), 200);
    /* This time nobody answers. */
    await page.waitForSelector('#idle-warning[open]', { timeout: 120000 });
    await page.waitForSelector('form.login', { timeout: 120000 });
    assert.match(await page.textContent('.login-error'), /without activity/);
    assert.equal((await page.request.get(URL_ + '/api/v1/whoami')).status(), 401);
    await check('idle-logged-out');
  },
};

/* Waits until the page routed to shows something: one of the selectors. */
async function settled(sel) {
  await page.waitForSelector(sel);
  await waitFor(() => !document.querySelector('main [role=status]') || !/Loading/.test(document.querySelector('main [role=status]').textContent));
}

Object.assign(steps, {
  /* A screenshot, and the checks, of every page: each navigation entry,
   * each module's page, each collection's page. */
  async tour() {
    const ready = {
      overview: '[data-chart=cpu] canvas',
      modules: 'table.modules',
      ports: 'table.listeners',
      users: 'table.users',
      audit: '[data-verify] .notice',
      tokens: 'table.sessions',
      shares: '[data-loaded]',
      mail: 'h1[data-loaded]',
      network: 'h1[data-loaded=info]',
      alerts: 'h1[data-loaded]',
    };
    const entries = await page.$$eval('#nav a', (as) => as.map((a) => a.dataset.page));
    assert.ok(entries.length >= 5, `navigation: ${entries}`);
    for (const p of entries) {
      await page.click(`#nav a[data-page=${p}]`);
      await settled(`[data-page=${p}] ${ready[p] || 'h1'}`);
      await check(`page-${p}`);
    }
    const { modules } = await apiGet('/api/v1/modules');
    const collections = new Set();
    for (const m of modules) {
      await go(`#/modules/${m.name}`);
      await settled('form.settings-form');
      /* Status facts in words and units, not raw key names. */
      const facts = (await page.$$eval('.panel.status', (x) => x.map((e) => e.textContent))).join(' ');
      assert.doesNotMatch(facts, /\b[a-z]+_[a-z_]+\b/, `${m.name}: a raw key name is shown`);
      await check(`module-${m.name}`);
      const schema = await apiGet(`/api/v1/modules/${m.name}/schema`);
      for (const c of schema.collections || []) collections.add(c.name);
    }
    for (const c of collections) {
      await go(`#/collections/${c}`);
      await settled('main .table-wrap, main .notice');
      await check(`collection-${c}`);
    }
  },

  /* The time zone is chosen from the system's zones; a command answers in
   * a table or list; Apply answers next to its button, with the focus. */
  async forms() {
    await go('#/modules/system');
    await settled('#set-system-timezone');
    assert.equal(await page.$eval('#set-system-timezone', (e) => e.tagName), 'SELECT');
    const zones = (await apiGet('/api/v1/timezones')).timezones.map((z) => z.name);
    const offered = await page.$$eval('#set-system-timezone option', (os) => os.map((o) => o.value));
    assert.ok(zones.length > 10 && zones.every((z) => offered.includes(z)), 'the picker offers every zone');
    await page.fill('#cmd-system-sysctl-name', 'kernel.ostype');
    await page.click('button:has-text("Run sysctl")');
    await page.waitForSelector('form.command .result dl, form.command .result table');
    assert.equal(await page.$$eval('form.command .result pre', (x) => x.length), 0);
    assert.match(await page.textContent('form.command .result'), /Linux/);
    await check('command-result');
    await go('#/modules/stewardd');
    await settled('#set-stewardd-log_level');
    /* On the long form the action bar is on screen before any scrolling. */
    const bar = await page.$eval('.action-bar', (e) => e.getBoundingClientRect().bottom);
    assert.ok(bar <= 800, `the Review button is off screen (${bar})`);
    const before = (await apiGet('/api/v1/modules/stewardd/settings')).discovery.rate_per_source;
    await page.fill('#set-stewardd-discovery_rate_per_source', String(before === 3 ? 4 : 3));
    await page.click('text=Review changes…');
    await page.waitForSelector('dialog[open] pre.diff');
    await check('review-dialog');
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector('.action-bar .notice-ok');
    const focus = await page.evaluate(() => {
      const a = document.activeElement;
      const r = a.getBoundingClientRect();
      return { inBar: !!a.closest('.action-bar'), top: r.top, bottom: r.bottom };
    });
    assert.ok(focus.inBar && focus.top >= 0 && focus.bottom <= 800, `the answer is not where the user looks: ${JSON.stringify(focus)}`);
    await check('applied');
  },

  /* A module's status may say why it is degraded or not available
   * ("reason"): the console shows it by the state.  The answer is the
   * server's, with a reason added. */
  async reason() {
    const why = 'no baseline saved yet';
    const handler = async (route) => {
      const r = await route.fetch();
      const body = await r.json();
      body.modules = body.modules.map((m, i) => (i === 0 ? { ...m, state: 'degraded', reason: why } : m));
      await route.fulfill({ response: r, json: body });
    };
    await page.route(/\/api\/v1\/modules$/, handler);
    try {
      await go('#/overview');
      await page.waitForSelector('[data-field=hostname]');
      await go('#/modules');
      await page.waitForSelector('table.modules .reason');
      assert.equal((await page.textContent('table.modules .reason')).trim(), why);
      await check('modules-reason');
    } finally {
      await page.unroute(/\/api\/v1\/modules$/, handler);
    }
  },

  /* Many sessions: a page at a time, local connections apart. */
  async manysessions() {
    const N = 45;
    for (let i = 0; i < N; i++) {
      const other = await request.newContext({ ignoreHTTPSErrors: true });
      const r = await other.post(URL_ + '/api/v1/login', { data: { user: USER, password: PASSWORD } });
      assert.equal(r.status(), 200);
      await other.dispose();
    }
    await go('#/tokens');
    await settled('table.sessions');
    const rows = await page.$$eval('table.sessions tbody tr', (x) => x.length);
    assert.equal(rows, 20);
    assert.equal(await page.getAttribute('.pager [data-range]', 'data-range'), '1-20');
    /* The current session comes first. */
    await page.waitForSelector('table.sessions tbody tr:first-child >> text=this session');
    if (Number(env.STEWARD_PEERS || 0)) {
      assert.match(await page.textContent('details.local-sessions summary'), new RegExp(`Local connections: ${env.STEWARD_PEERS}\\b`));
      assert.equal(await page.$$eval('table.sessions [data-session]', (x) => x.length), 20);
    }
    await check('sessions-many');
    await page.click('.pager button:has-text("Older")');
    await page.waitForSelector('.pager [data-range="21-40"]');
    await page.click('.pager button:has-text("Older")');
    await page.waitForSelector(`.pager [data-range="41-${N + 1}"]`);
    await check('sessions-many-last');
  },

  /* A new installation: the login page names the host and offers the
   * bootstrap token, which logs in once and is then gone from the page. */
  async firstlogin() {
    await page.goto(URL_ + '/');
    await page.waitForSelector('form.bootstrap-login');
    const info = await (await page.request.get(URL_ + '/api/v1/login-info')).json();
    assert.equal(info.bootstrap, true);
    assert.equal((await page.textContent('.login-host')).trim(), info.hostname);
    assert.match(await page.title(), new RegExp(info.hostname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await check('login-first');
    await page.fill('input[name=bootstrap_token]', env.STEWARD_BOOTSTRAP_TOKEN);
    await page.click('form.bootstrap-login button[type=submit]');
    await page.waitForSelector('#nav:not([hidden])');
    assert.match(await page.textContent('#who'), /bootstrap/);
    assert.match(await page.title(), new RegExp(info.hostname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await page.click('#logout');
    await page.waitForSelector('form.login');
    await waitFor(() => document.querySelector('.login-host') && document.querySelector('.login-host').textContent !== '');
    assert.equal(await page.$('form.bootstrap-login'), null);
    assert.equal((await (await page.request.get(URL_ + '/api/v1/login-info')).json()).bootstrap, false);
    await check('login-after-first');
  },
});

/* The services page against a real systemd (the booted container): the
 * failed unit by the state filter, the search, a unit stopped from its row
 * and seen stopped through the event stream (the list reloads only on
 * events), started again; the unit page with its facts, dependencies and
 * log pane; a restart confirmed; a drop-in setting reviewed and applied. */
Object.assign(steps, {
  async services() {
    const FAILED = 'steward-test-fail.service';
    const UNIT = 'steward-test-logger.service';
    const row = (name) => `table.services tbody tr:has(a:text-is("${name}"))`;
    await go('#/services');
    await settled('table.services');
    await page.selectOption('#svc-state', 'failed');
    await page.waitForSelector(`${row(FAILED)} [data-state=failed]`);
    await check('services-failed');
    await page.selectOption('#svc-state', 'all');
    await page.fill('#svc-search', 'steward-test');
    await waitFor(() => [...document.querySelectorAll('table.services tbody tr')].every((r) => /steward-test/.test(r.textContent)));
    await check('services-search');
    await page.click(`${row(UNIT)} button[data-action=stop]`);
    await page.waitForSelector('dialog[open]');
    assert.match(await page.textContent('dialog[open]'), new RegExp(UNIT.replace(/\./g, '\\.')));
    await check('services-stop-confirm');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('.notice-ok');
    await page.waitForSelector(`${row(UNIT)} [data-state=inactive]`);
    await page.click(`${row(UNIT)} button[data-action=start]`);
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector(`${row(UNIT)} [data-state=active]`);
    await check('services-started');
    await go(`#/services/${UNIT}`);
    await settled('dl.facts [data-fact=State]');
    assert.match(await page.textContent('dl.facts'), /Steward test: a numbered line every second/);
    assert.match(await page.textContent('dl.deps'), /multi-user\.target/);
    await page.waitForSelector('.log-lines .log-line, [aria-labelledby=unit-logs-title] .muted:not(:has-text("Loading"))');
    await check('unit-page');
    await page.click('.unit-actions button[data-action=restart]');
    await page.waitForSelector('dialog[open]');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('.notice-ok >> text=done');
    await page.fill('#svc-nice', '5');
    await page.click('form.svc-settings button[type=submit]');
    await page.waitForSelector('dialog[open] pre.diff');
    assert.match(await page.textContent('dialog[open] pre.diff'), /Nice=5/);
    await check('unit-settings-review');
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector('.notice-ok >> text=applied');
    await check('unit-settings-applied');
  },
});

/* ---- file sharing (web/js/shares.js) ----------------------------------------
 * fakeShares() answers the shares module's routes from memory (route
 * interception) while the rest of the console talks to the real daemon:
 * the page's own behaviour — badges, the form and the bodies it sends, the
 * review dialog, errors by their field, the live connections table — is
 * checked whatever the server's module can do yet.  The event stream is held
 * until release() and then carries one share_connections event. */
function fakeShares() {
  const now = new Date().toISOString();
  const share = (name, path, smb, nfs, extra) => ({
    name, path, comment: '', source: 'steward',
    smb: { enabled: true, read_only: false, valid_users: [], write_list: [], guest_ok: false, browseable: true, hide_dot_files: true, veto_files: [], encryption_required: false, case_sensitive: 'auto', time_machine: false, time_machine_max_size: '', ...smb },
    nfs: { enabled: false, clients: [], ...nfs },
    folder: { owner: 'root', group: 'staff', mode: '2775', acl: [], default_acl: [] },
    warnings: [], ...extra,
  });
  const f = {
    shares: [
      share('projects', '/srv/projects', { valid_users: ['alice', '@staff'] }, { enabled: true, clients: [{ host: '192.0.2.0/24', options: ['ro', 'root_squash', 'sync'] }] }, { comment: 'team files', protocols: 'smb+nfs' }),
      share('backup', '/srv/backup', { time_machine: true, time_machine_max_size: '500G', valid_users: ['alice'] }, {}, { protocols: 'smb+tm' }),
      share('public', '/srv/public', { guest_ok: true, read_only: true }, {}, { protocols: 'smb', warnings: ['guest access: anyone on the network may read /srv/public'] }),
      share('legacy', '/srv/legacy', {}, {}, { source: 'smb.conf', protocols: 'smb' }),
    ],
    connections: [{ id: 'smb-1001', protocol: 'smb', user: 'alice', client: '192.0.2.10', share: 'projects', since: now, dialect: 'SMB3_11', encrypted: true, signed: true, open_files: 2 }],
    smbUsers: [{ name: 'alice', uid: 1001, enabled: true, full_name: 'Alice Example' }, { name: 'bob', uid: 1002, enabled: false }],
    requests: [],
    connectionGets: 0,
  };
  let release;
  f.released = new Promise((r) => (release = r));
  f.release = release;
  const json = (route, status, body) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  const plan = (name) => ({ plan: { commands: [['testparm', '-s', '/etc/samba/steward.conf'], ['smbcontrol', 'smbd', 'reload-config']], files: [{ path: '/etc/samba/steward.conf', diff: `--- /etc/samba/steward.conf\n+++ /etc/samba/steward.conf\n@@ -1,0 +1,2 @@\n+[${name}]\n+\tpath = /srv/${name}\n` }], warnings: [] } });
  f.handler = async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    const p = url.pathname;
    const dry = url.searchParams.get('dry_run') === '1';
    const body = req.postData() ? JSON.parse(req.postData()) : null;
    f.requests.push({ method: req.method(), path: p + url.search, body });
    if (p === '/api/v1/modules/shares/settings') return json(route, 200, { roots: ['/srv'] });
    if (p === '/api/v1/modules/shares/connections') {
      f.connectionGets++;
      return json(route, 200, { connections: f.connections, smbd_running: true });
    }
    if (p.startsWith('/api/v1/modules/shares/connections/') && req.method() === 'DELETE') {
      const id = decodeURIComponent(p.split('/').pop());
      const gone = f.connections.filter((c) => c.id === id);
      f.connections = f.connections.filter((c) => c.id !== id);
      return json(route, 200, { disconnected: id, address: '192.0.2.10', ended: gone.map((c) => ({ id: c.id, user: c.user, share: c.share })) });
    }
    if (p === '/api/v1/modules/shares/smb-users') return json(route, 200, { smb_users: f.smbUsers });
    if (p === '/api/v1/modules/shares/commands/smb_account') {
      const u = f.smbUsers.find((x) => x.name === body.user) || (f.smbUsers.push({ name: body.user, uid: 1003, enabled: true }), f.smbUsers[f.smbUsers.length - 1]);
      if (typeof body.enabled === 'boolean') u.enabled = body.enabled;
      return json(route, 200, { smb_user: u, changed: true });
    }
    if (p === '/api/v1/modules/shares/folders') {
      const under = url.searchParams.get('under');
      const folders = under === '/srv' ? ['projects', 'backup', 'public', 'media'].map((n) => ({ path: `/srv/${n}`, owner: 'root', group: 'staff', mode: '2775' })) : [];
      return json(route, 200, { folders });
    }
    if (p === '/api/v1/shares' && req.method() === 'GET') return json(route, 200, { shares: f.shares });
    if (p === '/api/v1/shares' && req.method() === 'POST') {
      if (dry) return json(route, 200, plan(body.name));
      const s = share(body.name, body.path, body.smb, body.nfs, { comment: body.comment || '', protocols: 'smb+nfs+tm' });
      f.shares.push(s);
      return json(route, 200, { share: s, audit_id: 42 });
    }
    const m = /^\/api\/v1\/shares\/([^/]+)(?:\/([a-z]+))?$/.exec(p);
    const s = m && f.shares.find((x) => x.name === decodeURIComponent(m[1]));
    if (!s) return json(route, 404, { error: { code: 'not_found', message: 'no such share' } });
    if (m[2] === 'close') return json(route, 200, { closed: s.name });
    if (m[2] === 'folder') return json(route, 200, dry ? plan(s.name) : { share: s, audit_id: 44 });
    if (req.method() === 'GET') return json(route, 200, s);
    if (req.method() === 'PATCH') {
      const bad = ((body.nfs || {}).clients || []).findIndex((c) => /\s/.test(c.host));
      if (bad >= 0) return json(route, 422, { error: { code: 'invalid_argument', message: `"${body.nfs.clients[bad].host}" is not a host, an address or a network`, field: `nfs.clients[${bad}].host` } });
      return json(route, 200, dry ? plan(s.name) : { share: s, audit_id: 43 });
    }
    return json(route, 405, { error: { code: 'method_not_allowed', message: 'no' } });
  };
  f.events = async (route) => {
    await f.released;
    const conns = [
      ...f.connections,
      { id: 'smb-1002', protocol: 'smb', user: 'bob', client: '192.0.2.11', share: 'backup', since: now, dialect: 'SMB3_02', encrypted: false, signed: true },
      { id: 'nfs-0x5f3a', protocol: 'nfs', user: null, client: '192.0.2.20', address: '192.0.2.20', share: null, since: null, dialect: null, encrypted: null, signed: null },
    ];
    f.connections = conns;
    await route.fulfill({ status: 200, contentType: 'text/event-stream', body: `retry: 3600000\nevent: share_connections\ndata: ${JSON.stringify({ connections: conns, smbd_running: true })}\n\n` });
  };
  return f;
}

Object.assign(steps, {
  /* The file-sharing page over fakeShares(): the share points with their
   * badges, connected users updated by the event (no polling) and one
   * disconnected, a share made through the form and the folder picker with
   * its review dialog, a refused NFS client shown by its field, the
   * permissions dialog, the Samba accounts. */
  async shares() {
    const f = fakeShares();
    const ours = (url) => url.pathname.startsWith('/api/v1/shares') || (url.pathname.startsWith('/api/v1/modules/shares/') && !url.pathname.endsWith('/schema'));
    await page.route(ours, f.handler);
    await page.route((url) => url.pathname === '/api/v1/events', f.events);
    await steps.login();
    await go('#/shares');
    await settled('[data-page=shares] [data-loaded]');
    const row = (name) => `table.shares tr:has([data-share="${name}"])`;
    assert.match(await page.textContent(`${row('projects')} .protocols-cell`), /SMB.*NFS/);
    assert.match(await page.textContent(`${row('backup')} .protocols-cell`), /Time Machine/);
    assert.equal(await page.textContent(`${row('public')} .badge-warn`), 'Guest');
    assert.match(await page.textContent(row('public')), /guest access: anyone/);
    assert.match(await page.textContent(row('projects')), /alice, @staff/);
    assert.match(await page.textContent(row('projects')), /192\.0\.2\.0\/24 \(ro, root_squash, sync\)/);
    assert.match(await page.textContent(`${row('projects')} [data-folder]`), /root:staff 2775/);
    assert.ok(await page.$(`${row('legacy')} button:has-text("Import")`), 'a share in smb.conf is imported, not edited');
    await page.waitForSelector('table.connections [data-connection="smb-1001"]');
    assert.match(await page.textContent('table.smb-users'), /Alice Example/);
    await check('shares');

    /* Live: the event's list replaces the table, no request made for it. */
    const gets = f.connectionGets;
    f.release();
    await page.waitForSelector('table.connections [data-connection="smb-1002"]');
    assert.equal(f.connectionGets, gets, 'the connections table polled instead of taking the event');
    assert.match(await page.textContent('table.connections tr:has([data-connection="smb-1002"])'), /not encrypted/);
    /* An NFS client has no Disconnect button: its export decides. */
    assert.equal(await page.$$eval('table.connections tr:has([data-connection="nfs-0x5f3a"]) button', (b) => b.length), 0);
    await check('shares-live');
    await page.setViewportSize({ width: 390, height: 844 });
    await check('shares-phone');
    await page.setViewportSize({ width: 1280, height: 800 });

    /* Disconnect, confirmed. */
    await page.click('button[aria-label="Disconnect alice on 192.0.2.10"]');
    await page.waitForSelector('dialog[open]');
    assert.match(await page.textContent('dialog[open] h2'), /Disconnect alice on 192\.0\.2\.10\?/);
    await page.click('dialog[open] button[value=ok]');
    await waitFor(() => !document.querySelector('table.connections [data-connection="smb-1001"]'));
    assert.ok(f.requests.some((r) => r.method === 'DELETE' && r.path === '/api/v1/modules/shares/connections/smb-1001'));
    assert.match(await page.textContent('.page-status .notice-ok'), /Disconnected alice \(192\.0\.2\.10\)\./);

    /* A new share point through the form, the folder picked. */
    await page.click('#new-share');
    await page.waitForSelector('form.share-form');
    await page.fill('form.share-form input >> nth=0', 'media');
    await page.click('form.share-form button:has-text("Browse…")');
    await page.waitForSelector('dialog[open] [data-path="/srv/media"]');
    await check('shares-picker');
    /* Opening a folder looks inside; Use this folder takes the one open. */
    await page.click('dialog[open] [data-path="/srv/media"]');
    await waitFor(() => document.querySelector('dialog[open] .picker-here').textContent === '/srv/media');
    await page.click('dialog[open] button:has-text("Up one level")');
    await page.waitForSelector('dialog[open] [data-use="/srv/media"]');
    await page.click('dialog[open] button[aria-label="Open /srv/media"]');
    await waitFor(() => document.querySelector('dialog[open] .picker-here').textContent === '/srv/media');
    await page.click('dialog[open] button:has-text("Use this folder")');
    await waitFor(() => !document.querySelector('dialog[open]') && document.querySelector('form.share-form .share-basics [data-field=path] input').value === '/srv/media');
    await page.fill('[data-names="smb.valid_users"]', 'alice');
    await page.press('[data-names="smb.valid_users"]', 'Enter');
    await page.fill('[data-names="smb.valid_users"]', '@staff');
    await page.click('button[aria-label="Add to allowed users and groups"]');
    await page.check('input[name="smb.time_machine"]');
    await page.fill('input[aria-label="Time Machine size"]', '2');
    await page.selectOption('select[aria-label="Time Machine size unit"]', 'T');
    await page.check('input[name="nfs.enabled"]');
    await page.click('form.share-form button:has-text("Add client")');
    await page.fill('input[aria-label="Client 1: host, address or network"]', '192.0.2.0/24');
    await check('shares-form');
    await page.click('form.share-form button[type=submit]');
    await page.waitForSelector('dialog[open] .plan pre.diff');
    assert.match(await page.textContent('dialog[open] h2'), /Share \/srv\/media as media\?/);
    assert.match(await page.textContent('dialog[open] .plan'), /testparm/);
    await check('shares-review');
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector(`${row('media')}`);
    assert.match(await page.textContent('.page-status .notice-ok'), /media is shared \(audit record 42\)\./);
    const sent = f.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/shares');
    assert.equal(sent.length, 1);
    const b = sent[0].body;
    assert.equal(b.name, 'media');
    assert.equal(b.path, '/srv/media');
    assert.deepEqual(b.smb.valid_users, ['alice', '@staff']);
    assert.equal(b.smb.time_machine, true);
    assert.equal(b.smb.time_machine_max_size, '2T');
    assert.deepEqual(b.nfs, { enabled: true, clients: [{ host: '192.0.2.0/24', options: ['ro', 'root_squash', 'sync'] }] });
    assert.ok(f.requests.some((r) => r.method === 'POST' && r.path === '/api/v1/shares?dry_run=1'), 'reviewed first');

    /* Edit: only what changed is sent; a refused client is shown by the clients. */
    await page.click('button[aria-label="Edit projects"]');
    await page.waitForSelector('form.share-form');
    await page.fill('input[aria-label="Client 1: host, address or network"]', 'bad host');
    await page.click('form.share-form button[type=submit]');
    await page.waitForSelector('[data-field="nfs.clients"] .field-error:not(:empty)');
    assert.equal(await page.getAttribute('input[aria-label="Client 1: host, address or network"]', 'aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Client 1: host, address or network');
    assert.match(await page.textContent('[data-field="nfs.clients"] .field-error'), /"bad host" is not a host/);
    const patch = f.requests.filter((r) => r.method === 'PATCH').pop();
    assert.deepEqual(patch.body, { nfs: { clients: [{ host: 'bad host', options: ['ro', 'root_squash', 'sync'] }] } });
    await check('shares-field-error');
    await page.click('form.share-form button:has-text("Cancel")');

    /* The folder's permissions, in their dialog. */
    await page.click('button[aria-label="Change permissions of projects"]');
    await page.waitForSelector('dialog[open] textarea');
    await page.fill('dialog[open] input >> nth=2', '2770');
    await check('shares-permissions');
    await page.click('dialog[open] button[type=submit]');
    await page.waitForSelector('dialog[open] .plan');
    await page.click('dialog[open] button[value=apply]');
    await waitFor(() => /permissions of \/srv\/projects changed/.test((document.querySelector('.page-status .notice-ok') || {}).textContent || ''));
    const folder = f.requests.filter((r) => r.path === '/api/v1/shares/projects/folder').pop();
    assert.deepEqual(folder.body, { mode: '2770' });

    /* Samba accounts: a password set in its dialog (typed twice), an
     * account disabled after a confirmation, each one smb_account command. */
    const accounts = () => f.requests.filter((r) => r.path === '/api/v1/modules/shares/commands/smb_account').map((r) => r.body);
    await page.click('button[aria-label="Set the SMB password of bob"]');
    await page.waitForSelector('dialog[open] input[type=password]');
    await page.fill('dialog[open] input[type=password] >> nth=0', 'Bob-Smb-1');
    await page.fill('dialog[open] input[type=password] >> nth=1', 'Bob-Smb-2');
    await page.click('dialog[open] button[type=submit]');
    await page.waitForSelector('dialog[open] .field-error:has-text("differ")');
    assert.deepEqual(accounts(), [], 'nothing sent while the two passwords differ');
    await page.fill('dialog[open] input[type=password] >> nth=1', 'Bob-Smb-1');
    await page.click('dialog[open] button[type=submit]');
    await waitFor(() => /SMB password of bob is set/.test((document.querySelector('.page-status .notice-ok') || {}).textContent || ''));
    await page.click('button[aria-label="Disable SMB for alice"]');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('table.smb-users tr:has([data-smb-user=alice]) >> text=disabled');
    assert.deepEqual(accounts(), [{ user: 'bob', password: 'Bob-Smb-1' }, { user: 'alice', enabled: false }]);
    assert.ok(f.requests.every((r) => !r.path.includes('Bob-Smb-1')), 'a password never goes in a URL');
    await check('shares-accounts');
    await page.unroute(ours, f.handler);
    await page.unroute((url) => url.pathname === '/api/v1/events', f.events);
  },
});

Object.assign(steps, {
  /* The file-sharing page against the real daemon (test_console.py made
   * the share "projects" and the folders under a scratch /srv): the share
   * point and those of smb.conf listed, a Time Machine share made through
   * the form and its review dialog (the real plan: Steward's Samba include
   * file), seen by the API afterwards; an NFS client the module refuses
   * shown at its row. */
  async sharesreal() {
    await go('#/shares');
    await settled('[data-page=shares] [data-loaded]');
    const row = (name) => `table.shares tr:has([data-share="${name}"])`;
    assert.match(await page.textContent(`${row('projects')} .protocols-cell`), /SMB.*NFS/);
    assert.match(await page.textContent(row('projects')), /192\.0\.2\.0\/24 \(ro, root_squash, sync/);
    await check('shares-real');
    await page.click('#new-share');
    await page.waitForSelector('form.share-form');
    await page.fill('form.share-form input >> nth=0', 'media');
    /* The folder picker over the real folders under the root. */
    await page.click('form.share-form button:has-text("Browse…")');
    await page.waitForSelector('dialog[open] [data-use="/srv/media"]');
    await page.click('dialog[open] [data-use="/srv/media"]');
    await waitFor(() => !document.querySelector('dialog[open]') && document.querySelector('form.share-form .share-basics [data-field=path] input').value === '/srv/media');
    await page.fill('[data-names="smb.valid_users"]', 'alice');
    await page.press('[data-names="smb.valid_users"]', 'Enter');
    await page.check('input[name="smb.time_machine"]');
    await page.fill('input[aria-label="Time Machine size"]', '500');
    await page.click('form.share-form button[type=submit]');
    await page.waitForSelector('dialog[open] .plan pre.diff');
    const plan = await page.textContent('dialog[open] .plan');
    assert.match(plan, /\/etc\/samba\/steward\.conf/);
    assert.match(plan, /\[media\]/);
    await check('shares-real-review');
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector(`${row('media')} .protocols-cell >> text=Time Machine`);
    assert.match(await page.textContent('.page-status .notice-ok'), /media is shared \(audit record \d+\)\./);
    const shown = await apiGet('/api/v1/shares/media');
    const media = shown.share || shown;
    assert.equal(media.path, '/srv/media');
    assert.deepEqual(media.smb.valid_users, ['alice']);
    assert.equal(media.smb.time_machine, true);
    assert.equal(media.smb.time_machine_max_size, '500G');
    await check('shares-real-created');
    /* The folder's permissions through the folder action, reviewed. */
    await page.click('button[aria-label="Change permissions of media"]');
    await page.waitForSelector('dialog[open] textarea');
    await page.fill('dialog[open] input >> nth=2', '2770');
    await page.click('dialog[open] button[type=submit]');
    await page.waitForSelector('dialog[open] .plan');
    await check('shares-real-permissions-review');
    await page.click('dialog[open] button[value=apply]');
    await waitFor(() => /permissions of \/srv\/media changed/.test((document.querySelector('.page-status .notice-ok') || {}).textContent || ''));
    await page.waitForSelector('[data-folder=media] >> text=2770');
    await page.click('button[aria-label="Edit projects"]');
    await page.waitForSelector('form.share-form');
    await page.fill('input[aria-label="Client 1: host, address or network"]', 'bad host');
    await page.click('form.share-form button[type=submit]');
    await page.waitForSelector('[data-field="nfs.clients"] .field-error:not(:empty)');
    assert.match(await page.textContent('[data-field="nfs.clients"] .field-error'), /bad host/);
    assert.equal(await page.getAttribute('input[aria-label="Client 1: host, address or network"]', 'aria-invalid'), 'true');
    await check('shares-real-refused');
    /* The generic page of the collection: it links to this page, and its
     * form has an input per described member, sent nested. */
    await go('#/collections/shares');
    await settled('table.shares');
    assert.equal(await page.getAttribute('main a[href="#/shares"]', 'href'), '#/shares');
    await page.click('button[aria-label="Edit share projects"]');
    await page.getByLabel('SMB: Hide dot files').uncheck();
    await check('shares-generic-form');
    await page.click('form.share-form button[type=submit]');
    await page.waitForSelector('dialog[open] .plan pre.diff');
    assert.match(await page.textContent('dialog[open] .plan'), /hide dot files = no/);
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector('.notice-ok');
    const projects = await apiGet('/api/v1/shares/projects');
    assert.equal((projects.share || projects).smb.hide_dot_files, false);
  },
});

Object.assign(steps, {
  /* Against a real smbd (test_console_shares_connected): the smbclient the
   * test keeps open is listed with its share, its user among the Samba
   * accounts; Disconnect, confirmed, ends it and the table empties. */
  async sharesconnected() {
    await go('#/shares');
    await settled('[data-page=shares] [data-loaded]');
    await page.waitForSelector('table.connections td.empty');
    /* Now the test connects a client: its row comes with the event, the
     * page asks for nothing. */
    let gets = 0;
    const count = (r) => {
      if (new URL(r.url()).pathname === '/api/v1/modules/shares/connections') gets++;
    };
    page.on('request', count);
    writeFileSync(env.STEWARD_SHARES_READY, '');
    await page.waitForSelector('table.connections [data-connection]', { timeout: 120000 });
    page.off('request', count);
    assert.equal(gets, 0, 'the connections table polled instead of taking the share_connections event');
    const row = 'table.connections tr:has([data-connection])';
    assert.match(await page.textContent(row), /alice/);
    assert.match(await page.textContent(row), /projects/);
    assert.match(await page.textContent(row), /SMB3/);
    await page.waitForSelector('table.smb-users [data-smb-user=alice]');
    await check('shares-connected');
    await page.click(`${row} button:has-text("Disconnect")`);
    await page.waitForSelector('dialog[open]');
    assert.match(await page.textContent('dialog[open] h2'), /Disconnect alice on /);
    await page.click('dialog[open] button[value=ok]');
    await waitFor(() => !document.querySelector('table.connections [data-connection]'));
    assert.match(await page.textContent('.page-status .notice-ok'), /Disconnected alice/);
    await check('shares-disconnected');
  },
});

Object.assign(steps, {
  /* A monitor (STEWARD_MONITOR_USER) sees the file-sharing page without
   * the buttons that change anything, and is told why. */
  async sharesmonitor() {
    await page.goto(URL_ + '/');
    await page.waitForSelector('form.login');
    await login(env.STEWARD_MONITOR_USER, env.STEWARD_MONITOR_PASSWORD);
    await page.waitForSelector('#nav:not([hidden])');
    await go('#/shares');
    await settled('[data-page=shares] [data-loaded]');
    assert.match(await page.textContent('main .page[data-page=shares]'), /Changes need the admin role/);
    assert.equal(await page.$$eval('#new-share, #add-smb-account, table.shares button, table.connections button, table.smb-users button', (b) => b.length), 0);
    await check('shares-monitor');
  },
});

/* ---- mail (web/js/mail.js) ------------------------------------------------
 * fakeMail() answers the mail module's routes from memory (the schema stays
 * the real daemon's), so that the page's own behaviour — the tables, the
 * bodies it sends, the dry runs it shows, errors by their field — is checked
 * whatever the server's Postfix and Dovecot are doing; the steps against a
 * real Postfix and Dovecot are mailreal (test_console_mail_real). */
function fakeMail() {
  const ago = (s) => new Date(Date.now() - s * 1000).toISOString();
  const msg = (id, queue, age, size, sender, rcpts) => ({ id, queue, arrival_time: ago(age), age_seconds: age, size, sender, recipients: rcpts });
  const f = {
    messages: [
      msg('4F9D2C0A1B', 'deferred', 3 * 3600 + 12 * 60, 4321, 'alice@example.org', [{ address: 'bob@example.com', delay_reason: 'connect to mx.example.com[192.0.2.25]:25: Connection refused' }]),
      msg('5A1B2C3D4E', 'deferred', 26 * 3600, 1250000, 'carol@example.org', [{ address: 'dan@example.com', delay_reason: 'connect to mx.example.com[192.0.2.25]:25: Connection refused' }, { address: 'erin@example.net', delay_reason: 'host mx.example.net said: 452 4.2.2 Mailbox full' }]),
      msg('6C7D8E9F0A', 'hold', 600, 812, '', [{ address: 'postmaster@example.org', delay_reason: '' }]),
    ],
    connections: [
      { user: 'alice', service: 'imap', client: '192.0.2.10', pid: 4242, since: ago(900) },
      { user: 'alice', service: 'imap', client: '192.0.2.10', pid: 4243, since: ago(800) },
      { user: 'bob', service: 'pop3', client: '198.51.100.7', pid: 4300, since: ago(60) },
    ],
    settings: {
      postfix: { myhostname: 'mail.example.org', mydomain: 'example.org', myorigin: 'example.org', mydestination: ['mail.example.org', 'localhost'], inet_interfaces: ['all'], inet_protocols: 'all', mynetworks: ['127.0.0.0/8'], relayhost: '', message_size_limit: 10240000, mailbox_size_limit: 51200000, submission: false, smtps: false, smtpd_tls_security_level: 'may', smtp_tls_security_level: 'may' },
      dovecot: { protocols: ['imap', 'pop3'], ssl: 'yes', mail_location: 'mbox:~/mail:INBOX=/var/mail/%u', auth_mechanisms: ['plain'], login_greeting: 'Dovecot ready.', mail_max_userip_connections: 10 },
      tls: { cert_file: '/etc/ssl/certs/ssl-cert-snakeoil.pem', key_file: '/etc/ssl/private/ssl-cert-snakeoil.key' },
    },
    aliases: [
      { name: 'postmaster', targets: ['root'], editable: true },
      { name: 'root', targets: ['alice'], editable: true },
      { name: 'archive', targets: ['|/usr/local/bin/archive'], editable: false },
    ],
    requests: [],
  };
  const json = (route, status, body) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  const match = (m, q) =>
    (!q.get('queue') || m.queue === q.get('queue')) &&
    (!q.get('domain') || m.recipients.some((r) => r.address.endsWith(`@${q.get('domain')}`))) &&
    (!q.get('sender') || m.sender.includes(q.get('sender'))) &&
    (!q.get('reason') || m.recipients.some((r) => r.delay_reason.includes(q.get('reason'))));
  const listing = (q) => {
    const all = f.messages.filter((m) => match(m, new URLSearchParams({ ...Object.fromEntries(q), queue: '' })));
    const msgs = f.messages.filter((m) => match(m, q));
    const counts = { active: 0, deferred: 0, hold: 0, incoming: 0, maildrop: 0 };
    for (const m of all) counts[m.queue]++;
    const reasons = new Map();
    for (const m of msgs) for (const r of m.recipients) if (r.delay_reason) reasons.set(r.delay_reason, (reasons.get(r.delay_reason) || 0) + 1);
    /* Grouped as queue.c does: hosts, addresses and ports replaced. */
    const group = (why) => why.replace(/\S*\[[^\]]*\](:\d+)?/g, (m, port) => (m.startsWith('[') ? '[*]' : '*[*]') + (port ? ':*' : ''));
    return { messages: msgs, counts, reasons: [...reasons].map(([why, count]) => ({ reason: group(why), count, example: why })), total: msgs.length, postfix_running: true };
  };
  const diff = (path, from, to) => ({ path, diff: `--- ${path}\n+++ ${path}\n@@ -1 +1 @@\n-${from}\n+${to}\n` });
  f.handler = async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    const p = url.pathname;
    const dry = url.searchParams.get('dry_run') === '1';
    const body = req.postData() ? JSON.parse(req.postData()) : null;
    f.requests.push({ method: req.method(), path: p + url.search, body });
    if (p === '/api/v1/modules/mail' && req.method() === 'GET')
      return json(route, 200, { name: 'mail', state: 'running', postfix: { installed: true, running: true }, dovecot: { installed: true, running: false } });
    if (p === '/api/v1/modules/mail/queue') return json(route, 200, listing(url.searchParams));
    let m = /^\/api\/v1\/modules\/mail\/queue\/([^/]+)$/.exec(p);
    if (m && req.method() === 'GET') {
      const msg1 = f.messages.find((x) => x.id === m[1]);
      return msg1 ? json(route, 200, { message: { ...msg1, headers: `From: ${msg1.sender}\nTo: ${msg1.recipients[0].address}\nSubject: Quarterly figures\n` } }) : json(route, 404, { error: { code: 'not_found', message: 'no such message' } });
    }
    m = /^\/api\/v1\/modules\/mail\/commands\/queue_([a-z]+)$/.exec(p);
    if (m) {
      const q = new URLSearchParams(Object.entries(body).filter(([k]) => k !== 'id' && k !== 'all').map(([k, v]) => [k, String(v)]));
      const hit = f.messages.filter((x) => (body.id ? x.id === body.id : match(x, q)));
      const summary = `${m[1]} ${hit.length} ${body.queue || ''} message${hit.length === 1 ? '' : 's'}${body.domain ? ` to ${body.domain}` : ''}`.replace(/ +/g, ' ');
      if (!dry) {
        if (m[1] === 'delete') f.messages = f.messages.filter((x) => !hit.includes(x));
        if (m[1] === 'hold') for (const x of hit) x.queue = 'hold';
        if (m[1] === 'release') for (const x of hit) x.queue = 'deferred';
      }
      return json(route, 200, { operation: m[1], count: hit.length, ids: hit.map((x) => x.id), summary, dry_run: dry, audit_id: dry ? undefined : 77 });
    }
    if (p === '/api/v1/modules/mail/connections') return json(route, 200, { connections: f.connections, dovecot_running: true });
    m = /^\/api\/v1\/modules\/mail\/connections\/([^/]+)$/.exec(p);
    if (m && req.method() === 'DELETE') {
      const n = f.connections.filter((c) => c.user === m[1]).length;
      f.connections = f.connections.filter((c) => c.user !== m[1]);
      return json(route, 200, { user: m[1], kicked: n, audit_id: 78 });
    }
    if (p === '/api/v1/modules/mail/activity') {
      const now = Math.floor(Date.now() / 3600000) * 3600000;
      const hours = Array.from({ length: 24 }, (_, i) => ({ start: new Date(now - (23 - i) * 3600000).toISOString(), delivered: (i * 7) % 13, deferred: i % 5 === 0 ? 2 : 0, bounced: i === 20 ? 1 : 0, rejected: i % 8 === 3 ? 3 : 0 }));
      return json(route, 200, { hours, errors: [{ time: ago(1800), queue_id: '4F9D2C0A1B', status: 'deferred', to: 'bob@example.com', reason: 'connect to mx.example.com[192.0.2.25]:25: Connection refused' }], source: 'journal' });
    }
    if (p === '/api/v1/modules/mail/settings' && req.method() === 'GET') return json(route, 200, f.settings);
    if (p === '/api/v1/modules/mail/settings' && req.method() === 'PATCH') {
      const pf = body.postfix || {};
      if ('message_size_limit' in pf && pf.message_size_limit < 1000)
        return json(route, 422, { error: { code: 'invalid_setting', message: 'at least 1000 bytes (Postfix refuses a smaller limit)', field: 'postfix:message_size_limit' } });
      const files = Object.entries(pf).map(([k, v]) => diff('/etc/postfix/main.cf', `${k} = ${f.settings.postfix[k]}`, `${k} = ${v}`));
      if (dry) return json(route, 200, { changed: Object.keys(pf).map((k) => `postfix:${k}`), files, commands: [['postfix', 'check'], ['postfix', 'reload']] });
      Object.assign(f.settings.postfix, pf);
      return json(route, 200, { changed: Object.keys(pf).map((k) => `postfix:${k}`), audit_id: 79 });
    }
    if (p === '/api/v1/mail_aliases' && req.method() === 'GET') return json(route, 200, { mail_aliases: f.aliases });
    if (p === '/api/v1/mail_aliases' && req.method() === 'POST') {
      if (dry) return json(route, 200, { plan: { files: [diff('/etc/aliases', '', `${body.name}: ${body.targets.join(', ')}`)], commands: [['newaliases']] } });
      f.aliases.push({ ...body, editable: true });
      return json(route, 201, { alias: body, audit_id: 80 });
    }
    return json(route, 404, { error: { code: 'not_found', message: `no fake for ${req.method()} ${p}` } });
  };
  f.ours = (url) => (url.pathname.startsWith('/api/v1/modules/mail') && !url.pathname.endsWith('/schema')) || url.pathname.startsWith('/api/v1/mail_aliases');
  return f;
}

Object.assign(steps, {
  /* The mail page over fakeMail(): the servers' state, the queue with its
   * counts, reasons and filters, a message held by selection, a detail with
   * its headers and its logs link, delete of every message matching
   * reviewed by its dry run's summary; connected users kicked; the activity
   * chart and errors; a setting reviewed, applied, and one refused by its
   * field; an alias added through the plan. */
  async mail() {
    const f = fakeMail();
    await page.route(f.ours, f.handler);
    try {
      await go('#/mail');
      await settled('[data-page=mail] h1[data-loaded=queue]');
      assert.equal(await page.getAttribute('[data-server=postfix]', 'data-running'), 'true');
      assert.equal(await page.getAttribute('[data-server=dovecot]', 'data-running'), 'false');
      const row = (id) => `table.mail-queue tr:has([data-message="${id}"])`;
      assert.match(await page.textContent(row('4F9D2C0A1B')), /3 h 12 min/);
      assert.match(await page.textContent(row('4F9D2C0A1B')), /4\.3 KB/);
      assert.match(await page.textContent(row('5A1B2C3D4E')), /1\.25 MB/);
      assert.match(await page.textContent(row('5A1B2C3D4E')), /Mailbox full/);
      assert.match(await page.textContent('[data-queue=deferred]'), /Deferred\s*2/);
      assert.match(await page.textContent('.mail-reasons'), /Connection refused\s*2 messages/);
      /* A reason filters by its literal part (the server's groups replace
       * hosts and addresses). */
      await page.click('.mail-reasons button[data-reason="Connection refused"]');
      await waitFor(() => document.querySelectorAll('table.mail-queue [data-message]').length === 2);
      assert.ok(f.requests.some((r) => /queue\?.*reason=Connection\+refused/.test(r.path)));
      await page.click('.mail-reasons button[data-reason="Connection refused"]');
      await waitFor(() => document.querySelectorAll('table.mail-queue [data-message]').length === 3);
      await check('mail-queue');
      /* A queue tab filters on the server. */
      await page.click('[data-queue=deferred]');
      await waitFor(() => document.querySelectorAll('table.mail-queue [data-message]').length === 2);
      assert.ok(f.requests.some((r) => /queue\?.*queue=deferred/.test(r.path)));
      /* Hold one selected message: its id alone is sent. */
      await page.check('input[data-select="4F9D2C0A1B"]');
      assert.match(await page.textContent('.mail-scope'), /1 selected message/);
      await page.click('.mail-bulk button[data-op=hold]');
      await page.waitForSelector('.page-status .notice-ok');
      assert.match(await page.textContent('.page-status .notice-ok'), /Put on hold 1 message\. audit record #77/);
      assert.deepEqual(f.requests.filter((r) => r.path.startsWith('/api/v1/modules/mail/commands/queue_hold')).map((r) => r.body), [{ id: '4F9D2C0A1B' }]);
      /* A message's detail: recipients, reasons, headers, its logs. */
      await page.click('[data-queue=all]');
      await page.click('button[data-message="5A1B2C3D4E"]');
      await page.waitForSelector('dialog[open] pre.mail-headers');
      assert.match(await page.textContent('dialog[open] pre.mail-headers'), /Subject: Quarterly figures/);
      assert.equal(await page.getAttribute('dialog[open] a[data-logs]', 'href'), '#/logs//5A1B2C3D4E');
      await check('mail-message');
      await page.click('dialog[open] button[value=close]');
      /* Delete every message matching the filters: reviewed by its summary. */
      await page.click('[data-queue=deferred]');
      await page.fill('.mail-filters input[name=domain]', 'example.com');
      await page.click('.mail-filters button[type=submit]');
      await waitFor(() => document.querySelectorAll('table.mail-queue [data-message]').length === 1);
      assert.match(await page.textContent('.mail-scope'), /the 1 message matching/);
      await page.click('.mail-bulk button[data-op=delete]');
      await page.waitForSelector('dialog[open]');
      assert.equal((await page.textContent('dialog[open] h2')).trim(), 'Delete 1 deferred message to example.com?');
      await check('mail-delete-review');
      await page.click('dialog[open] button[value=apply]');
      await waitFor(() => /Deleted 1 message/.test((document.querySelector('.page-status .notice-ok') || {}).textContent || ''));
      const dels = f.requests.filter((r) => r.path.startsWith('/api/v1/modules/mail/commands/queue_delete'));
      assert.deepEqual(dels.map((r) => [r.path.includes('dry_run=1'), r.body]), [[true, { queue: 'deferred', domain: 'example.com' }], [false, { queue: 'deferred', domain: 'example.com' }]]);
      await page.waitForSelector('table.mail-queue td.empty');

      /* Connected users: one Disconnect per user, confirmed. */
      await page.click('#mail-tab-connections');
      await settled('[data-page=mail] h1[data-loaded=connections]');
      assert.equal(await page.$$eval('table.mail-connections button[data-kick=alice]', (b) => b.length), 1);
      await check('mail-connections');
      await page.click('button[data-kick=alice]');
      await page.waitForSelector('dialog[open]');
      assert.match(await page.textContent('dialog[open] h2'), /Disconnect alice\?/);
      await page.click('dialog[open] button[value=ok]');
      await waitFor(() => !document.querySelector('table.mail-connections [data-user=alice]'));
      assert.match(await page.textContent('.page-status .notice-ok'), /alice disconnected \(2 sessions ended\)/);

      /* Activity: the chart, the totals, the last errors. */
      await page.click('#mail-tab-activity');
      await settled('[data-page=mail] h1[data-loaded=activity]');
      await page.waitForSelector('[data-chart=mail-activity] canvas');
      assert.equal(await page.getAttribute('[data-chart=mail-activity]', 'data-points'), '24');
      assert.match(await page.textContent('table.mail-errors'), /4F9D2C0A1B.*deferred.*bob@example\.com/s);
      await check('mail-activity');

      /* Settings: the size limit in MB, a refused value by its field, the
       * smarthost reviewed and applied (only it is sent, nested). */
      await page.click('#mail-tab-settings');
      await settled('[data-page=mail] h1[data-loaded=settings]');
      const mb = '[data-field="postfix:message_size_limit"] input';
      assert.equal(await page.inputValue(mb), '10.24');
      await check('mail-settings');
      await page.fill(mb, '0.0005');
      await page.click('form.mail-settings button[type=submit]');
      await page.waitForSelector('[data-field="postfix:message_size_limit"] .field-error:not(:empty)');
      assert.match(await page.textContent('[data-field="postfix:message_size_limit"] .field-error'), /at least 1000 bytes/);
      await page.click('form.mail-settings button:has-text("Discard")');
      await page.fill('[data-field="postfix:relayhost"] input', '[smtp.example.net]:587');
      await page.click('form.mail-settings button[type=submit]');
      await page.waitForSelector('dialog[open] pre.diff');
      assert.match(await page.textContent('dialog[open] pre.diff'), /\+relayhost = \[smtp\.example\.net\]:587/);
      await check('mail-settings-review');
      await page.click('dialog[open] button[value=apply]');
      await page.waitForSelector('.action-status .notice-ok');
      assert.match(await page.textContent('.action-status .notice-ok'), /Applied: Smarthost/);
      const patches = f.requests.filter((r) => r.method === 'PATCH').map((r) => r.body);
      assert.deepEqual(patches.slice(-2), [{ postfix: { relayhost: '[smtp.example.net]:587' } }, { postfix: { relayhost: '[smtp.example.net]:587' } }]);

      /* Aliases: one added through its plan; a piped alias is not editable. */
      await page.click('#mail-tab-aliases');
      await settled('[data-page=mail] h1[data-loaded=aliases]');
      assert.match(await page.textContent('table.mail-aliases tr:has([data-alias=archive])'), /edited in \/etc\/aliases only/);
      await page.click('#new-alias');
      await page.fill('form.alias-form [data-field=name] input', 'sales');
      await page.fill('form.alias-form textarea', 'alice\nbob@example.org');
      await page.click('form.alias-form button[type=submit]');
      await page.waitForSelector('dialog[open] .plan pre.diff');
      await page.click('dialog[open] button[value=apply]');
      await page.waitForSelector('table.mail-aliases [data-alias=sales]');
      assert.deepEqual(f.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/mail_aliases').map((r) => r.body), [{ name: 'sales', targets: ['alice', 'bob@example.org'] }]);
      await check('mail-aliases');
      await page.setViewportSize({ width: 390, height: 844 });
      await page.click('#mail-tab-queue');
      await settled('[data-page=mail] h1[data-loaded=queue]');
      await check('mail-phone');
      await page.setViewportSize({ width: 1280, height: 800 });
    } finally {
      await page.unroute(f.ours, f.handler);
    }
  },

  /* A monitor (STEWARD_MONITOR_USER) sees every part of the mail page and
   * none of the buttons that change anything. */
  async mailmonitor() {
    const f = fakeMail();
    await page.route(f.ours, f.handler);
    try {
      await page.goto(URL_ + '/');
      await page.waitForSelector('form.login');
      await login(env.STEWARD_MONITOR_USER, env.STEWARD_MONITOR_PASSWORD);
      await page.waitForSelector('#nav:not([hidden])');
      for (const t of ['queue', 'connections', 'settings', 'aliases']) {
        await go(`#/mail/${t}`);
        await settled(`[data-page=mail] h1[data-loaded=${t}]`);
        assert.equal(await page.$$eval('.mail-actions button, .mail-bulk button, table.mail-queue input, table.mail-connections button, table.mail-aliases button, #new-alias, form.mail-settings button', (b) => b.length), 0, `${t}: a button a monitor may not use`);
        if (t === 'settings') assert.equal(await page.$eval('.mail-settings-body', (e) => e.disabled), true);
        await check(`mail-monitor-${t}`);
      }
      assert.match(await page.textContent('main .page[data-page=mail]'), /Changes need the admin role/);
    } finally {
      await page.unroute(f.ours, f.handler);
    }
  },
});

Object.assign(steps, {
  /* Against a real Postfix and Dovecot (test_console_mail_real, mail_ns.py):
   * the deferred message STEWARD_MAIL_ID listed with its reason, held, then
   * deleted after the review of its dry run; the smarthost changed through
   * the settings' review (the test reads postconf -n); the IMAP user
   * STEWARD_MAIL_IMAP_USER, who logs in once the page shows the connections
   * (the script writes STEWARD_MAIL_READY), listed and disconnected. */
  async mailreal() {
    const id = env.STEWARD_MAIL_ID;
    const row = `table.mail-queue tr:has([data-message="${id}"])`;
    await go('#/mail/queue');
    await settled('[data-page=mail] h1[data-loaded=queue]');
    await page.waitForSelector(row);
    assert.match(await page.textContent(row), /deferred/);
    assert.match(await page.textContent(`${row} .delay-reason`), /127\.0\.0\.1/);
    assert.match(await page.textContent('.mail-reasons'), /127\.0\.0\.1/);
    await check('mail-real-queue');
    await page.check(`input[data-select="${id}"]`);
    await page.click('.mail-bulk button[data-op=hold]');
    await waitFor(() => /Put on hold 1 message/.test((document.querySelector('.page-status .notice-ok') || {}).textContent || ''));
    await page.waitForSelector(`${row} >> text=on hold`);
    await check('mail-real-held');
    await page.click(`button[data-message="${id}"]`);
    await page.waitForSelector('dialog[open] pre.mail-headers');
    assert.match(await page.textContent('dialog[open] pre.mail-headers'), /Subject: /);
    await check('mail-real-message');
    await page.click('dialog[open] button[value=close]');
    await page.check(`input[data-select="${id}"]`);
    await page.click('.mail-bulk button[data-op=delete]');
    await page.waitForSelector('dialog[open]');
    assert.match(await page.textContent('dialog[open] h2'), /^Delete (message|1 ).*\?$/);
    assert.match(await page.textContent('dialog[open]'), new RegExp(id));
    await check('mail-real-delete-review');
    await page.click('dialog[open] button[value=apply]');
    await waitFor(() => /Deleted 1 message/.test((document.querySelector('.page-status .notice-ok') || {}).textContent || ''));
    await page.waitForSelector(row, { state: 'detached' });

    const user = env.STEWARD_MAIL_IMAP_USER;
    await page.click('#mail-tab-connections');
    await settled('[data-page=mail] h1[data-loaded=connections]');
    writeFileSync(env.STEWARD_MAIL_READY, '');
    /* The tab reads the list again every few seconds. */
    await page.waitForSelector(`table.mail-connections [data-user="${user}"]`, { timeout: 120000 });
    assert.match(await page.textContent(`table.mail-connections tr:has([data-user="${user}"])`), /IMAP/);
    await check('mail-real-connections');
    await page.click(`button[data-kick="${user}"]`);
    await page.waitForSelector('dialog[open]');
    await page.click('dialog[open] button[value=ok]');
    await waitFor((u) => /disconnected/.test((document.querySelector('.page-status .notice-ok') || {}).textContent || '') && !document.querySelector(`table.mail-connections [data-user="${u}"]`), user);
    await check('mail-real-kicked');

    await page.click('#mail-tab-activity');
    await settled('[data-page=mail] h1[data-loaded=activity]');
    await check('mail-real-activity');

    await page.click('#mail-tab-settings');
    await settled('[data-page=mail] h1[data-loaded=settings]');
    const relay = '[data-field="postfix:relayhost"] input';
    assert.equal(await page.inputValue(relay), '[127.0.0.1]:2526');
    await page.fill(relay, '[127.0.0.1]:2527');
    await page.click('form.mail-settings button[type=submit]');
    await page.waitForSelector('dialog[open] .plan');
    assert.match(await page.textContent('dialog[open] .plan'), /relayhost = \[127\.0\.0\.1\]:2527/);
    await check('mail-real-settings-review');
    await page.click('dialog[open] button[value=apply]');
    await page.waitForSelector('.action-status .notice-ok');
    assert.match(await page.textContent('.action-status .notice-ok'), /Applied: Smarthost/);
    assert.equal(await page.inputValue(relay), '[127.0.0.1]:2527');
    await check('mail-real-settings-applied');
  },
});

/* ---- processes (web/js/processes.js) -----------------------------------------
 * The test started a process of its own (STEWARD_PROC_PID, command
 * STEWARD_PROC_NAME): the page finds it by the filter, opens its detail,
 * and signals it STOP, CONT, then TERM through the dialogs (the dry run's
 * confirmation each time); the server's own view of it confirms each. */
async function signalFromRow(pid, name, sig) {
  await page.click(`table.processes tr:has([data-pid="${pid}"]) button[data-action=signal]`);
  await page.waitForSelector('dialog[open] select[name=signal]');
  await page.selectOption('dialog[open] select[name=signal]', sig);
  await page.click('dialog[open] button[value=ok]');
  await page.waitForSelector(`dialog[open] h2:has-text("Send ${sig} to ${name} (PID ${pid})?")`);
  if (sig === 'STOP') await check('process-signal-confirm');
  await page.click('dialog[open] button[value=ok]');
  await page.waitForSelector(`.page-status .notice-ok:has-text("Sent ${sig} to ${name} (PID ${pid})")`);
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.classList.contains('notice'));
  assert.ok(focused, 'the outcome has the focus');
}

Object.assign(steps, {
  async processes() {
    const pid = env.STEWARD_PROC_PID;
    const name = env.STEWARD_PROC_NAME;
    await go('#/processes');
    await settled('[data-page=processes] h1[data-loaded]');
    await page.waitForSelector('table.processes [data-pid]');
    await check('processes');
    await page.click('button[data-sort=mem]');
    await waitFor(() => document.querySelector('button[data-sort=mem]').getAttribute('aria-pressed') === 'true');
    await page.fill('#proc-filter', name);
    await page.waitForSelector(`table.processes [data-pid="${pid}"]`);
    assert.ok((await page.$$eval('table.processes .proc-command', (x) => x.map((e) => e.textContent))).every((c) => c === name));
    await page.click(`table.processes [data-pid="${pid}"]`);
    await page.waitForSelector(`#proc-detail-title:has-text("${name} (PID ${pid})")`);
    assert.match(await page.textContent('[data-fact="Command line"]'), new RegExp(`${name} 1000`));
    await check('process-detail');
    await signalFromRow(pid, name, 'STOP');
    assert.equal((await apiGet(`/api/v1/processes/${pid}`)).process.state, 'T');
    await waitFor((p) => /stopped/.test(document.querySelector(`table.processes tr:has([data-pid="${p}"])`).textContent), pid);
    await check('process-stopped');
    await signalFromRow(pid, name, 'CONT');
    assert.notEqual((await apiGet(`/api/v1/processes/${pid}`)).process.state, 'T');
    /* The whole tree: the process under this test's, indented. */
    await page.fill('#proc-filter', '');
    await page.check('#proc-tree');
    await waitFor((p) => {
      const c = document.querySelector(`table.processes tr:has([data-pid="${p}"]) .proc-command`);
      return c && Number(c.dataset.depth) > 0 && c.textContent.includes('└ ');
    }, pid);
    /* (a screenshot of hundreds of rows would be of little use: the
     * tree filtered again is the one taken) */
    await page.fill('#proc-filter', name);
    await waitFor(() => document.querySelectorAll('table.processes [data-pid]').length <= 2);
    await check('processes-tree');
    await signalFromRow(pid, name, 'TERM');
    await check('process-terminated');
  },
});

Object.assign(steps, {
  /* The network utility in net_ns.py's routed namespaces (the daemon on
   * host A; STEWARD_NET_B is host B, with dnsmasq and a TCP port of each
   * state): the interfaces and routes of A; 127.0.0.1 and B pinged, each
   * reply a row as it streams; a bad host refused at its field; names
   * looked up (an answer, NXDOMAIN); the route to B traced hop by hop; a
   * port open and a port filtered. */
  async network() {
    const b = env.STEWARD_NET_B;
    const submit = async (label) => {
      await page.evaluate(() => document.querySelectorAll('form.diag-form').forEach((f) => delete f.dataset.done));
      await page.click(`[data-page=network] form.diag-form button[type=submit]:has-text("${label}")`);
      await page.waitForSelector('[data-page=network] form.diag-form[data-done]');
    };
    await go('#/network/info');
    await settled('[data-page=network] h1[data-loaded=info]');
    await page.waitForSelector('section.iface[data-iface=eth0]');
    assert.match(await page.textContent('section.iface[data-iface=eth0]'), new RegExp(env.STEWARD_NET_A.replace(/\./g, '\\.')));
    assert.match(await page.textContent('table.routes'), new RegExp(env.STEWARD_NET_R.replace(/\./g, '\\.')));
    await check('network-info');

    await page.click('#network-tab-ping');
    await settled('[data-page=network] h1[data-loaded=ping]');
    await page.fill('input[name=host]', '-bad');
    await page.click('[data-page=network] form.diag-form button[type=submit]');
    await page.waitForSelector('.field .field-error:has-text("not a host name")');
    await page.fill('input[name=host]', '127.0.0.1');
    await page.fill('input[name=count]', '3');
    await page.fill('input[name=interval]', '0.2');
    await submit('Ping');
    assert.equal(await page.locator('table.diag tr[data-seq]').count(), 3);
    assert.match(await page.textContent('.diag-summary'), /3 sent, 3 received, 0 % loss/);
    await page.fill('input[name=host]', b);
    await submit('Ping');
    assert.match(await page.textContent('table.diag tr[data-seq="3"]'), new RegExp(`reply.*${b.replace(/\./g, '\\.')}.*63`));
    assert.match(await page.textContent('.diag-summary'), /3 sent, 3 received, 0 % loss.*round trip min\/avg\/max/);
    await check('network-ping');

    await page.click('#network-tab-lookup');
    await settled('[data-page=network] h1[data-loaded=lookup]');
    await page.fill('input[name=name]', 'www.steward.test');
    await submit('Look up');
    assert.match(await page.textContent('.diag-summary'), /NOERROR/);
    assert.match(await page.textContent('.diag-results'), new RegExp(b.replace(/\./g, '\\.')));
    await check('network-lookup');
    await page.fill('input[name=name]', 'nothing.steward.test');
    await submit('Look up');
    assert.match(await page.textContent('.diag-summary'), /NXDOMAIN/);

    await page.click('#network-tab-traceroute');
    await settled('[data-page=network] h1[data-loaded=traceroute]');
    await page.fill('input[name=host]', b);
    await page.fill('input[name=max_hops]', '5');
    await submit('Trace');
    assert.equal(await page.locator('table.diag tr[data-hop]').count(), 2);
    assert.match(await page.textContent('.diag-summary'), /Reached .* in 2 hops/);
    await check('network-traceroute');

    await page.click('#network-tab-portcheck');
    await settled('[data-page=network] h1[data-loaded=portcheck]');
    await page.fill('input[name=host]', b);
    await page.fill('input[name=port]', env.STEWARD_NET_OPEN_PORT);
    await submit('Check');
    assert.match(await page.textContent('.diag-summary'), /open/);
    await page.fill('input[name=port]', env.STEWARD_NET_FILTERED_PORT);
    await page.fill('input[name=timeout]', '0.5');
    await submit('Check');
    assert.match(await page.textContent('.diag-summary'), /filtered/);
    await check('network-portcheck');
  },
});

Object.assign(steps, {
  /* A monitor (STEWARD_MONITOR_USER) sees the processes and a process's
   * detail without the Signal and Renice buttons, and is told why. */
  async processesmonitor() {
    await page.goto(URL_ + '/');
    await page.waitForSelector('form.login');
    await login(env.STEWARD_MONITOR_USER, env.STEWARD_MONITOR_PASSWORD);
    await page.waitForSelector('#nav:not([hidden])');
    await go('#/processes');
    await settled('[data-page=processes] h1[data-loaded]');
    await page.waitForSelector('table.processes [data-pid]');
    assert.match(await page.textContent('main'), /needs the operator role/);
    await page.click('table.processes [data-pid]');
    await page.waitForSelector('#proc-detail-title');
    assert.equal(await page.$$eval('button[data-action]', (b) => b.length), 0);
    assert.match(await page.textContent('[data-fact="Command line"]'), /admins only/);
    await check('processes-monitor');
  },
});

Object.assign(steps, {
  /* Against the booted container (test_console_processes_unit): a
   * service's main process (STEWARD_PROC_PID of STEWARD_PROC_UNIT) found by
   * its unit, its detail linking the unit, the signal's confirmation
   * carrying the unit's own action as a warning (cancelled), then the link
   * to the unit's page. */
  async processesunit() {
    const pid = env.STEWARD_PROC_PID;
    const unit = env.STEWARD_PROC_UNIT;
    await go('#/processes');
    await settled('[data-page=processes] h1[data-loaded]');
    await page.selectOption('#proc-filter-by', 'unit');
    await page.fill('#proc-filter', unit);
    await page.waitForSelector(`table.processes [data-pid="${pid}"]`);
    await page.click(`table.processes [data-pid="${pid}"]`);
    await page.waitForSelector('[data-fact=Unit] a');
    assert.equal((await page.textContent('[data-fact=Unit] a')).trim(), unit);
    await check('process-unit-detail');
    await page.click('.unit-actions button[data-action=signal]');
    await page.waitForSelector('dialog[open] select[name=signal]');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('dialog[open] .notice-warn');
    assert.match(await page.textContent('dialog[open] .notice-warn'), new RegExp(`main process of ${unit.replace('.', '\\.')}: steward services restart`));
    await check('process-unit-warning');
    await page.click('dialog[open] button[value=cancel]');
    await page.click('[data-fact=Unit] a');
    await page.waitForSelector(`h1:has-text("${unit}")`);
    await check('process-unit-service-page');
  },
});

Object.assign(steps, {
  /* A monitor sees the interfaces, and every diagnostic's form disabled
   * with the reason (the API refuses them too). */
  async networkmonitor() {
    await go('#/network/info');
    await settled('[data-page=network] h1[data-loaded=info]');
    await page.waitForSelector('section.iface');
    for (const t of ['ping', 'lookup', 'traceroute', 'portcheck']) {
      await page.click(`#network-tab-${t}`);
      await settled(`[data-page=network] h1[data-loaded=${t}]`);
      assert.equal(await page.$eval('[data-page=network] form.diag-form button[type=submit]', (b) => b.disabled), true, `${t}: a monitor's run button`);
      assert.match(await page.textContent('[data-page=network] form.diag-form'), /Operators and admins run diagnostics/);
    }
    await check('network-monitor');
  },

  /* An operator (STEWARD_OPERATOR_USER) gets Signal and Renice on a
   * process of their own account (STEWARD_OWN_PID) and not on root's
   * (STEWARD_PROC_PID); renicing their own is done from the page. */
  async processesoperator() {
    await page.goto(URL_ + '/');
    await page.waitForSelector('form.login');
    await login(env.STEWARD_OPERATOR_USER, env.STEWARD_OPERATOR_PASSWORD);
    await page.waitForSelector('#nav:not([hidden])');
    await go('#/processes');
    await settled('[data-page=processes] h1[data-loaded]');
    await page.fill('#proc-filter', env.STEWARD_PROC_NAME);
    await page.waitForSelector(`table.processes [data-pid="${env.STEWARD_OWN_PID}"]`);
    await page.waitForSelector(`table.processes [data-pid="${env.STEWARD_PROC_PID}"]`);
    const own = `table.processes tr:has([data-pid="${env.STEWARD_OWN_PID}"])`;
    const roots = `table.processes tr:has([data-pid="${env.STEWARD_PROC_PID}"])`;
    assert.equal(await page.$$eval(`${roots} button[data-action]`, (b) => b.length), 0);
    assert.equal(await page.$$eval(`${own} button[data-action]`, (b) => b.length), 2);
    assert.match(await page.textContent('main'), /their own account/);
    await check('processes-operator');
    await page.click(`${own} button[data-action=renice]`);
    await page.waitForSelector('dialog[open] input[name=nice]');
    await page.fill('dialog[open] input[name=nice]', '7');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('dialog[open] h2:has-text("to 7?")');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector(`.page-status .notice-ok:has-text("Reniced ${env.STEWARD_PROC_NAME} (PID ${env.STEWARD_OWN_PID}) to 7")`);
    assert.equal((await apiGet(`/api/v1/processes/${env.STEWARD_OWN_PID}`)).process.nice, 7);
  },
});

/* The alerts module's API as the contract shapes it (docs/api.md,
 * "Alerts"), answered by the script: two alerts (one firing, critical, on
 * /srv; one pending), three rules, transitions, silences; every write is
 * recorded in f.requests and dry runs answer a plan. */
function fakeAlerts() {
  const now = Math.floor(Date.now() / 1000);
  const f = {
    alerts: [
      { rule: 'disk-full', fingerprint: 'a1b2c3d4e5f60718', state: 'firing', severity: 'critical', instance: '/srv', value: 92.14, since: now - 720, starts_at: now - 720, ends_at: 0, labels: { alertname: 'disk-full', severity: 'critical', instance: '/srv', host: 'test' }, summary: '/srv is 92.1 % full', description: '92.1 % used, 1.2 GiB free', acknowledged: null, silenced_by: null },
      { rule: 'cpu-busy', fingerprint: '0f1e2d3c4b5a6978', state: 'pending', severity: 'warning', instance: '', value: 97.3, since: now - 40, starts_at: now - 40, ends_at: 0, labels: { alertname: 'cpu-busy', severity: 'warning', host: 'test' }, summary: 'CPU busy', description: '', acknowledged: null, silenced_by: null },
      { rule: 'root-free', fingerprint: '9a8b7c6d5e4f3021', state: 'resolved', severity: 'warning', instance: '', value: 1.2e9, since: now - 300, starts_at: now - 4000, ends_at: now - 300, labels: { alertname: 'root-free', severity: 'warning', host: 'test' }, summary: 'little room on /', description: '', acknowledged: null, silenced_by: null },
    ],
    rules: [
      { name: 'disk-full', kind: 'disk', series: '', match: '', op: '>=', threshold: 90, clear: 85, for: '0', window: '', severity: 'critical', enabled: true, summary: '', state: 'firing', error: null },
      { name: 'cpu-busy', kind: 'threshold', series: 'cpu.busy', match: '', op: '>=', threshold: 95, clear: 80, for: '5m', window: '', severity: 'warning', enabled: true, summary: '', state: 'pending', error: null },
      { name: 'root-free', kind: 'threshold', series: 'metric:node_filesystem_avail_bytes{mountpoint="/"}', match: '', op: '<', threshold: 2e9, clear: 3e9, for: '1m', window: '', severity: 'warning', enabled: true, summary: '', state: 'resolved', error: null },
      { name: 'unit-failed', kind: 'unit_failed', series: '', match: '', op: '>=', threshold: 1, clear: null, for: '0', window: '', severity: 'warning', enabled: false, summary: '', state: null, error: null },
    ],
    transitions: Array.from({ length: 60 }, (_, i) => ({ id: 200 - i, time: now - 30 * i, rule: i % 2 ? 'cpu-busy' : 'disk-full', fingerprint: i % 2 ? '0f1e2d3c4b5a6978' : 'a1b2c3d4e5f60718', instance: i % 2 ? '' : '/srv', from: i % 3 === 0 ? 'pending' : 'inactive', to: i % 3 === 0 ? 'firing' : 'pending', value: 91 + (i % 5), severity: i % 2 ? 'warning' : 'critical' })),
    silences: [
      { id: '7', rule: 'disk-full', instance: '/data', reason: 'migration tonight', created_by: 'admin', created_at: now - 3600, ends_at: now + 7200, active: true },
      { id: '6', rule: 'cpu-busy', instance: '', reason: 'backup window', created_by: 'olga', created_at: now - 80000, ends_at: now - 3600, active: false },
    ],
    requests: [],
  };
  const json = (route, status, body) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  const diff = (from, to) => ({ path: '/etc/steward/alert-rules.json', diff: `--- /etc/steward/alert-rules.json\n+++ /etc/steward/alert-rules.json\n@@ -1 +1 @@\n-${from}\n+${to}\n` });
  f.handler = async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    const p = url.pathname;
    const q = url.searchParams;
    const dry = q.get('dry_run') === '1';
    const body = req.postData() ? JSON.parse(req.postData()) : null;
    f.requests.push({ method: req.method(), path: p + url.search, body });
    if (p === '/api/v1/alerts' && req.method() === 'GET')
      return json(route, 200, { alerts: f.alerts.filter((a) => (!q.get('state') || a.state === q.get('state')) && (!q.get('rule') || a.rule === q.get('rule'))) });
    let m = /^\/api\/v1\/alerts\/([0-9a-f]{16})\/(ack|unack|silence)$/.exec(p);
    if (m && req.method() === 'POST') {
      const a = f.alerts.find((x) => x.fingerprint === m[1]);
      if (m[2] === 'ack') a.acknowledged = { user: 'admin', time: now, comment: body.comment || '' };
      if (m[2] === 'unack') a.acknowledged = null;
      if (m[2] === 'silence') {
        f.silences.unshift({ id: '8', rule: a.rule, instance: a.instance, reason: body.reason, created_by: 'admin', created_at: now, ends_at: now + 3600, active: true });
        a.silenced_by = '8';
      }
      return json(route, 200, { alert: a, audit_id: 91 });
    }
    if (p === '/api/v1/alert_rules' && req.method() === 'GET') return json(route, 200, { alert_rules: f.rules });
    if (p === '/api/v1/alert_rules' && req.method() === 'POST') {
      if (body.threshold === undefined && body.kind === 'threshold')
        return json(route, 422, { error: { code: 'invalid_argument', message: 'a threshold rule needs a threshold', field: 'threshold' } });
      if (dry) return json(route, 200, { plan: { files: [diff('', JSON.stringify(body))] } });
      f.rules.push({ ...body, state: null, error: null });
      return json(route, 201, { alert_rule: body, audit_id: 92 });
    }
    m = /^\/api\/v1\/alert_rules\/([^/]+)$/.exec(p);
    if (m && req.method() === 'PATCH') {
      if (dry) return json(route, 200, { plan: { files: [diff('old', JSON.stringify(body))] } });
      Object.assign(f.rules.find((r) => r.name === m[1]), body);
      return json(route, 200, { alert_rule: f.rules.find((r) => r.name === m[1]), audit_id: 93 });
    }
    if (m && req.method() === 'DELETE') {
      if (dry) return json(route, 200, { plan: { files: [diff(m[1], '')] } });
      f.rules = f.rules.filter((r) => r.name !== m[1]);
      return json(route, 200, { audit_id: 94 });
    }
    if (p === '/api/v1/modules/alerts/history') {
      const before = q.get('before') ? Number(q.get('before')) : Infinity;
      const rows = f.transitions.filter((t) => t.id < before && (!q.get('rule') || t.rule === q.get('rule')));
      const page = rows.slice(0, Number(q.get('limit') || 50));
      return json(route, 200, { transitions: page, next: rows.length > page.length ? page[page.length - 1].id : null });
    }
    if (p === '/api/v1/alert_silences' && req.method() === 'GET') return json(route, 200, { alert_silences: f.silences });
    m = /^\/api\/v1\/alert_silences\/([^/]+)\/expire$/.exec(p);
    if (m && req.method() === 'POST') {
      if (dry) return json(route, 200, { plan: { files: [] } });
      f.silences.find((x) => x.id === m[1]).active = false;
      return json(route, 200, { audit_id: 95 });
    }
    return json(route, 404, { error: { code: 'not_found', message: `no fake for ${req.method()} ${p}` } });
  };
  f.ours = (url) => /^\/api\/v1\/(alerts|alert_rules|alert_silences)(\/|$)/.test(url.pathname) || url.pathname === '/api/v1/modules/alerts/history';
  return f;
}

/* The review dialog of a write: its plan shown, then Apply. */
async function applyPlan(title) {
  await page.waitForSelector(`dialog[open] h2:has-text("${title}")`);
  await page.waitForSelector('dialog[open] .plan');
  await page.click('dialog[open] button[value=apply]');
}

Object.assign(steps, {
  /* The alerts page over fakeAlerts(): the firing tab's rows in words and
   * units, acknowledge and silence from the page (a silence needs a
   * reason), rules in words, a rule made through the form (only its kind's
   * fields shown) and its review, edited (only what changed is sent) and
   * deleted; the history filtered and paged; a silence expired; the
   * overview's line of firing alerts. */
  async alerts() {
    const f = fakeAlerts();
    await page.route(f.ours, f.handler);
    try {
      await go('#/alerts');
      await settled('[data-page=alerts] h1[data-loaded=firing]');
      const row = (rule) => `table.alerts tr:has(td strong:text-is("${rule}"))`;
      /* Firing first, then pending; the value in its rule's unit. */
      assert.deepEqual(await page.$$eval('table.alerts [data-state]', (e) => e.map((x) => x.dataset.state)), ['firing', 'pending', 'resolved']);
      /* A /metrics sample's unit is the end of its name. */
      assert.match(await page.textContent(row('root-free')), /1\.1 GiB/);
      assert.equal(await page.$$eval(`${row('root-free')} button`, (b) => b.length), 0);
      assert.match(await page.textContent(row('disk-full')), /critical/);
      assert.match(await page.textContent(row('disk-full')), /12 min ago/);
      assert.match(await page.textContent(row('disk-full')), /92\.1 %/);
      assert.match(await page.textContent(row('disk-full')), /\/srv/);
      assert.match(await page.textContent(row('cpu-busy')), /97\.3 %/);
      /* Acknowledge, with a comment. */
      await page.click(`${row('disk-full')} button[data-action=acknowledge]`);
      await page.fill('dialog[open] input[name=comment]', 'moving logs away');
      await page.click('dialog[open] button[value=ok]');
      await page.waitForSelector('.page-status .notice-ok:has-text("disk-full: acknowledged (audit record 91).")');
      await page.waitForSelector(`${row('disk-full')} [data-acknowledged=admin]`);
      assert.deepEqual(f.requests.filter((r) => r.method === 'POST').map((r) => [r.path, r.body]), [['/api/v1/alerts/a1b2c3d4e5f60718/ack', { comment: 'moving logs away' }]]);
      /* Silence: the reason is required before anything is sent. */
      await page.click(`${row('cpu-busy')} button[data-action=silence]`);
      await page.selectOption('dialog[open] select[name=duration]', '1h');
      await page.click('dialog[open] button[value=ok]');
      await page.waitForSelector('dialog[open] [data-field=reason] .field-error:has-text("Say why.")');
      assert.equal(f.requests.filter((r) => r.path.endsWith('/silence')).length, 0);
      await page.fill('dialog[open] input[name=reason]', 'load test until noon');
      await page.click('dialog[open] button[value=ok]');
      await page.waitForSelector('.page-status .notice-ok:has-text("cpu-busy: silenced")');
      assert.deepEqual(f.requests.find((r) => r.path.endsWith('/silence')).body, { duration: '1h', reason: 'load test until noon' });
      await page.waitForSelector(`${row('cpu-busy')} [data-silenced="8"]`);
      await check('alerts-firing');

      /* Rules: conditions in words. */
      await page.click('#alerts-tab-rules');
      await settled('[data-page=alerts] h1[data-loaded=rules]');
      assert.equal((await page.textContent('[data-condition=disk-full]')).trim(), 'used on any filesystem ≥ 90 %, clears below 85 %');
      assert.equal((await page.textContent('[data-condition=cpu-busy]')).trim(), 'cpu.busy ≥ 95 % for 5 min, clears below 80 %');
      assert.equal((await page.textContent('[data-condition=unit-failed]')).trim(), 'a unit failed');
      assert.equal((await page.textContent('[data-condition=root-free]')).trim(), 'metric:node_filesystem_avail_bytes{mountpoint="/"} < 1.9 GiB for 1 min, clears above 2.8 GiB');
      await check('alerts-rules');
      /* A new rule: each kind shows its own fields only. */
      await page.click('#new-rule');
      const shown = (n) => page.$eval(`form.rule-form [data-field=${n}]`, (e) => !e.hidden && e.getClientRects().length > 0);
      await page.selectOption('form.rule-form select[name=kind]', 'disk_fill');
      assert.equal(await shown('window'), true);
      assert.equal(await shown('series'), false);
      assert.equal(await shown('match'), true);
      assert.match(await page.textContent('form.rule-form [data-field=match] label'), /Mount point/);
      await page.selectOption('form.rule-form select[name=kind]', 'audit_chain');
      assert.equal(await shown('threshold'), false);
      assert.equal(await shown('match'), false);
      await page.selectOption('form.rule-form select[name=kind]', 'threshold');
      assert.equal(await shown('series'), true);
      assert.equal(await shown('window'), false);
      await page.fill('form.rule-form input[name=name]', 'load-high');
      await page.fill('form.rule-form input[name=series]', 'load.1');
      await page.selectOption('form.rule-form select[name=op]', '>=');
      /* A refusal is shown by its field. */
      await page.click('form.rule-form button[type=submit]');
      await page.waitForSelector('form.rule-form [data-field=threshold] .field-error:has-text("needs a threshold")');
      await page.fill('form.rule-form input[name=threshold]', '8');
      await page.fill('form.rule-form input[name=clear]', '6');
      await page.fill('form.rule-form input[name=for]', '10m');
      await page.selectOption('form.rule-form select[name=severity]', 'critical');
      await check('alerts-rule-form');
      await page.click('form.rule-form button[type=submit]');
      await page.waitForSelector('dialog[open] .plan pre.diff');
      await check('alerts-rule-review');
      await applyPlan('Create rule load-high?');
      await page.waitForSelector('.page-status .notice-ok:has-text("Rule load-high created (audit record 92).")');
      const created = f.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/alert_rules').map((r) => r.body);
      assert.deepEqual(created[created.length - 1], { name: 'load-high', kind: 'threshold', series: 'load.1', op: '>=', threshold: 8, clear: 6, for: '10m', severity: 'critical', enabled: true });
      await page.waitForSelector('[data-condition=load-high]');
      assert.equal((await page.textContent('[data-condition=load-high]')).trim(), 'load.1 ≥ 8 for 10 min, clears below 6');
      /* Edit sends what changed only. */
      await page.click('button[aria-label="Edit rule load-high"]');
      await page.fill('form.rule-form input[name=threshold]', '9');
      await page.click('form.rule-form button[type=submit]');
      await applyPlan('Change rule load-high?');
      await page.waitForSelector('.page-status .notice-ok:has-text("Rule load-high changed (audit record 93).")');
      assert.deepEqual(f.requests.filter((r) => r.method === 'PATCH' && !r.path.includes('dry_run')).map((r) => [r.path, r.body]), [['/api/v1/alert_rules/load-high', { threshold: 9 }]]);
      /* Delete, reviewed. */
      await page.click('button[aria-label="Delete rule load-high"]');
      await applyPlan('Delete rule load-high?');
      await page.waitForSelector('.page-status .notice-ok:has-text("Rule load-high deleted (audit record 94).")');
      await waitFor(() => !document.querySelector('[data-condition=load-high]'));

      /* History: transitions, a filter, older pages. */
      await page.click('#alerts-tab-history');
      await settled('[data-page=alerts] h1[data-loaded=history]');
      assert.equal(await page.$$eval('table.alert-history tbody tr', (r) => r.length), 50);
      assert.match(await page.textContent('table.alert-history tbody tr'), /pending\s*→\s*firing/);
      await page.click('button:text-is("Older")');
      await waitFor(() => document.querySelectorAll('table.alert-history tbody tr').length === 60);
      assert.ok(f.requests.some((r) => /history\?.*before=151/.test(r.path)), 'the cursor is sent');
      await page.selectOption('select[name=rule]', 'disk-full');
      await waitFor(() => document.querySelectorAll('table.alert-history tbody tr').length === 30);
      assert.ok(f.requests.some((r) => /history\?.*rule=disk-full/.test(r.path)));
      await check('alerts-history');

      /* Silences: active first; expire one. */
      await page.click('#alerts-tab-silences');
      await settled('[data-page=alerts] h1[data-loaded=silences]');
      assert.equal(await page.$$eval('table.alert-silences button[data-action=expire]', (b) => b.length), 2);
      assert.match(await page.textContent('table.alert-silences'), /expired/);
      await check('alerts-silences');
      await page.click('button[aria-label="Expire silence 7"]');
      await applyPlan('Expire the silence of disk-full on /data?');
      await page.waitForSelector('.page-status .notice-ok:has-text("Silence 7 expired (audit record 95).")');
      assert.ok(f.requests.some((r) => r.method === 'POST' && r.path === '/api/v1/alert_silences/7/expire'));

      /* The generic page of a collection of the module points here. */
      await go('#/collections/alert_rules');
      await page.waitForSelector('main a[href="#/alerts"]');
      assert.match(await page.textContent('main'), /Alerts is the page made for these/);

      /* The overview: the firing alert at the top, linked here. */
      await go('#/overview');
      await page.waitForSelector('.alerts-banner');
      assert.match(await page.textContent('.alerts-banner h2'), /1 alert firing \(1 critical\)/);
      assert.match(await page.textContent('.alerts-banner li'), /disk-full on \/srv/);
      assert.equal(await page.getAttribute('.alerts-banner li a', 'href'), '#/alerts/firing');
      await waitFor(() => document.querySelector('[data-chart=cpu] canvas'));
      await check('alerts-overview');
      /* None firing: no line at all. */
      f.alerts = [];
      await go('#/audit');
      await settled('[data-page=audit] [data-verify] .notice');
      await go('#/overview');
      await page.waitForSelector('[data-finding=audit-verify]');
      assert.equal(await page.$$eval('.alerts-banner', (e) => e.length), 0);
    } finally {
      await page.unroute(f.ours, f.handler);
    }
  },

  /* A monitor (STEWARD_MONITOR_USER) sees every tab with the buttons
   * disabled and why. */
  async alertsmonitor() {
    const f = fakeAlerts();
    await page.route(f.ours, f.handler);
    try {
      await page.goto(URL_ + '/');
      await page.waitForSelector('form.login');
      await login(env.STEWARD_MONITOR_USER, env.STEWARD_MONITOR_PASSWORD);
      await page.waitForSelector('#nav:not([hidden])');
      for (const t of ['firing', 'rules', 'history', 'silences']) {
        await go(`#/alerts/${t}`);
        await settled(`[data-page=alerts] h1[data-loaded=${t}]`);
        const live = await page.$$eval('[data-page=alerts] [data-part] button:not([disabled])', (b) => b.map((x) => x.textContent).filter((x) => x !== 'Older'));
        assert.deepEqual(live, [], `${t}: buttons a monitor may not use`);
        await check(`alerts-monitor-${t}`);
      }
      await go('#/alerts/firing');
      await settled('[data-page=alerts] h1[data-loaded=firing]');
      assert.match(await page.textContent('main .page[data-page=alerts]'), /acknowledging and silencing need the role operator/);
      assert.equal(await page.getAttribute('table.alerts button[data-action=acknowledge]', 'title'), 'Needs the role operator or higher.');
    } finally {
      await page.unroute(f.ours, f.handler);
    }
  },

  /* Against the real alerts module: a rule that holds at once
   * (STEWARD_ALERT_SERIES, e.g. cpu.busy ≥ 0) made through the form and
   * its review, its alert shown firing (the `alert` event, no reload),
   * acknowledged and silenced from the page (the API agrees), on the
   * overview's line, and its transitions in the history. */
  async alertsreal() {
    const series = env.STEWARD_ALERT_SERIES || 'cpu.busy';
    await go('#/alerts/rules');
    await settled('[data-page=alerts] h1[data-loaded=rules]');
    await page.click('#new-rule');
    await page.selectOption('form.rule-form select[name=kind]', 'threshold');
    await page.fill('form.rule-form input[name=name]', 'always');
    await page.fill('form.rule-form input[name=series]', series);
    await page.selectOption('form.rule-form select[name=op]', '>=');
    await page.fill('form.rule-form input[name=threshold]', env.STEWARD_ALERT_THRESHOLD || '0');
    await page.click('form.rule-form button[type=submit]');
    await page.waitForSelector('dialog[open] .plan');
    await check('alerts-real-review');
    await applyPlan('Create rule always?');
    await page.waitForSelector('.page-status .notice-ok:has-text("Rule always created")');
    assert.ok((await apiGet('/api/v1/alert_rules')).alert_rules.some((r) => r.name === 'always'));
    await page.click('#alerts-tab-firing');
    await settled('[data-page=alerts] h1[data-loaded=firing]');
    const row = 'table.alerts tr:has(td strong:text-is("always"))';
    await page.waitForSelector(`${row} [data-state=firing]`, { timeout: 60000 });
    await check('alerts-real-firing');
    const fp = (await apiGet('/api/v1/alerts?rule=always')).alerts[0].fingerprint;
    await page.click(`${row} button[data-action=acknowledge]`);
    await page.fill('dialog[open] input[name=comment]', 'seen');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('.page-status .notice-ok:has-text("always: acknowledged")');
    await page.waitForSelector(`${row} [data-acknowledged]`);
    assert.equal((await apiGet('/api/v1/alerts?rule=always')).alerts[0].acknowledged.comment, 'seen');
    await page.click(`${row} button[data-action=silence]`);
    await page.fill('dialog[open] input[name=reason]', 'a test');
    await page.click('dialog[open] button[value=ok]');
    await page.waitForSelector('.page-status .notice-ok:has-text("always: silenced")');
    const sil = (await apiGet('/api/v1/alert_silences')).alert_silences.find((x) => x.rule === 'always' && x.active);
    assert.ok(sil, 'the silence is listed by the API');
    assert.equal((await apiGet(`/api/v1/alerts/${fp}`)).alert.silenced_by !== null, true);
    await go('#/overview');
    await page.waitForSelector('.alerts-banner li[data-alert] a');
    assert.match(await page.textContent('.alerts-banner'), /always/);
    await check('alerts-real-overview');
    /* The value drops below the threshold (STEWARD_ALERT_FILE, the
     * textfile collector's file): the open page shows it resolved by the
     * `alert` event alone, then the history has both transitions. */
    if (env.STEWARD_ALERT_FILE) {
      await go('#/alerts/firing');
      await settled('[data-page=alerts] h1[data-loaded=firing]');
      await page.waitForSelector(`${row} [data-state=firing]`);
      const gets = [];
      const onReq = (r) => r.url().includes('/api/v1/alerts') && gets.push(r.url());
      page.on('request', onReq);
      const tmp = `${env.STEWARD_ALERT_FILE}.tmp`;
      writeFileSync(tmp, env.STEWARD_ALERT_LOW);
      renameSync(tmp, env.STEWARD_ALERT_FILE);
      /* A scrape makes the textfile collector read it, as Prometheus would. */
      const m = await page.request.get(URL_ + '/metrics');
      assert.equal(m.status(), 200);
      await page.waitForSelector(`${row} [data-state=resolved]`, { timeout: 60000 });
      page.off('request', onReq);
      assert.ok(gets.length >= 1, 'the page read the alerts again after the event');
      await check('alerts-real-resolved');
    }
    await go('#/alerts/history');
    await settled('[data-page=alerts] h1[data-loaded=history]');
    await page.waitForSelector('table.alert-history [data-transition$=firing]');
    if (env.STEWARD_ALERT_FILE) await page.waitForSelector('table.alert-history [data-transition=firing-resolved]');
    await check('alerts-real-history');
  },
});

let failed = false;
for (const name of STEPS) {
  try {
    await steps[name]();
    console.log(`ok ${name}`);
  } catch (e) {
    console.log(`FAIL ${name}: ${e.stack || e}`);
    await page.screenshot({ path: join(ART, `failed-${name}.png`), fullPage: true }).catch(() => {});
    failed = true;
    break;
  }
}
await browser.close();
process.exit(failed ? 1 : 0);
