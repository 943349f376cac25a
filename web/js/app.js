/* app.js — the console's shell: login, the page router, live events and the
 * idle logout.
 *
 * Routes live in the URL's fragment (#/overview, #/modules/stewardd), so the
 * server serves one page and every other path is a plain 404.  A page is a
 * module exporting render(main, ctx, ...params); it may return a cleanup
 * function, called when the user leaves it.  ctx.logout(message) ends the
 * console's session as the Log out button does.
 *
 * Live data: one EventSource on /api/v1/events while logged in, re-broadcast
 * on `bus` (each type the modules' schemas declare that the user's role may
 * receive — sample, audit, … — and reset).  If the server has no such route
 * the source closes before it ever opens, and pages fall back to polling
 * (ctx.live is then false).
 *
 * Idle logout: after the session's idle timeout (stewardd's
 * auth:session_idle_timeout, as the server would) without a key press, click
 * or touch, the console logs out; a dialog warns a minute before (or at a
 * fifth of the timeout, if that is shorter) and can keep the session.
 *
 * The login page names the host (GET /api/v1/login-info; also in the
 * document title, and every page's title after it), and while the
 * installation's one-time bootstrap token is unused it offers a "first
 * login" form for it. */
import * as API from './api.js';
import { h, clear, field, notice, busy } from './ui.js';

/* The console's own pages; the modules' pages (web/js/NAME.js, listed in
 * the navigation after Modules) come from their schemas' "console". */
const pages = {
  overview: { title: 'Overview', load: () => import('./overview.js') },
  modules: { title: 'Modules', load: () => import('./modules.js') },
  collections: { title: 'Collection', load: () => import('./collection.js') },
  audit: { title: 'Audit', load: () => import('./audit.js') },
  tokens: { title: 'Sessions & tokens', load: () => import('./tokens.js') },
};

/* A tiny event bus for live events. */
export const bus = new EventTarget();

const state = {
  me: null,
  hostname: '',
  /* [{name, title, overview}]: the modules' console pages */
  modulePages: [],
  /* the event types the modules publish that this role may receive */
  eventTypes: [],
  live: false,
  source: null,
  cleanup: null,
  idleTimeout: 900,
  lastActivity: Date.now(),
  idleTimer: null,
  warning: null,
};

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

/* ---- login --------------------------------------------------------- */

/* The server answers every refused login alike (an account with no role,
 * root, an expired account: all "wrong user or password"); only its log and
 * audit say which. */
function loginMessage(e) {
  if (e.status === 401) return 'Wrong user name or password.';
  if (e.status === 429) {
    const s = e.retryAfter ? ` Try again in ${e.retryAfter} s.` : ' Try again later.';
    return 'Too many failed logins from here or for this user.' + s;
  }
  return e.message || 'Login failed.';
}

function showLogin(message) {
  stopLive();
  state.me = null;
  document.body.classList.add('logged-out');
  clear(who);
  nav.hidden = true;
  const user = h('input', { name: 'user', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: false });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p.login-error', { id: 'login-error', role: 'alert' }, message || '');
  if (message) err.classList.add('info');
  const host = h('p.login-host', { 'data-field': 'login-host' });
  const first = h('div.first-login');
  const button = h('button.primary', { type: 'submit' }, 'Log in');
  const attempt = async (btn, fn, focus) => {
    err.textContent = '';
    err.classList.remove('info');
    await busy(btn, async () => {
      try {
        await fn();
        await start();
      } catch (e) {
        err.textContent = loginMessage(e);
        focus.value = '';
        focus.focus();
      }
    });
  };
  const form = h(
    'form.login',
    {
      'aria-labelledby': 'login-title',
      onsubmit: async (ev) => {
        ev.preventDefault();
        await attempt(button, async () => {
          await API.login(user.value, password.value);
          password.value = '';
        }, password);
      },
    },
    h('h1#login-title', 'Steward'),
    host,
    h('p.muted', 'Log in with your account on this server.'),
    field('User', user),
    field('Password', password),
    err,
    button,
  );
  clear(main, h('div.login-page', form, first));
  document.title = 'Log in — Steward';
  user.focus();
  API.loginInfo().then((info) => {
    if (!info || state.me || !form.isConnected) return;
    state.hostname = info.hostname || '';
    if (state.hostname) {
      host.textContent = state.hostname;
      document.title = `Log in — ${state.hostname} — Steward`;
    }
    if (info.bootstrap) clear(first, bootstrapForm(attempt));
  });
}

/* A new installation: the one-time token stewardd wrote at its first start
 * logs in once as admin (user "bootstrap"), to make real accounts' access. */
function bootstrapForm(attempt) {
  const token = h('input', { name: 'bootstrap_token', type: 'password', autocomplete: 'one-time-code', spellcheck: false, required: true, maxLength: 128 });
  const go = h('button', { type: 'submit' }, 'Log in with the token');
  return h(
    'form.bootstrap-login',
    {
      'aria-labelledby': 'first-login-title',
      onsubmit: async (ev) => {
        ev.preventDefault();
        await attempt(go, async () => {
          await API.loginBootstrap(token.value.trim());
          token.value = '';
        }, token);
      },
    },
    h('h2#first-login-title', 'First login'),
    h(
      'p.muted',
      'Nobody has logged in to this server yet. Its one-time bootstrap token is in ',
      h('code', '/var/lib/steward/bootstrap-token'),
      ' (root only; ',
      h('code', 'sudo cat'),
      ' it). It works once.',
    ),
    field('Bootstrap token', token),
    go,
  );
}

/* ---- session ------------------------------------------------------- */

async function start() {
  const me = await API.refreshSession();
  if (!me) {
    showLogin();
    return;
  }
  state.me = me;
  /* The login form goes at once; the navigation appears complete. */
  clear(main, h('p.muted', { role: 'status' }, 'Loading…'));
  if (!state.hostname) state.hostname = ((await API.loginInfo()) || {}).hostname || '';
  await loadModulePages(me);
  document.body.classList.remove('logged-out');
  nav.hidden = false;
  clear(
    who,
    state.hostname ? h('span.host-name', { title: 'this server' }, state.hostname) : null,
    ' ',
    h('span.user', { title: `logged in from ${me.source}` }, me.user),
    ' ',
    h('span.badge.badge-muted', me.role),
    ' ',
    h('button#logout', { type: 'button', onclick: () => doLogout() }, 'Log out'),
  );
  try {
    const s = await API.get('/api/v1/modules/stewardd/settings?key=auth:session_idle_timeout');
    state.idleTimeout = s.auth.session_idle_timeout || 900;
  } catch {
    state.idleTimeout = 900;
  }
  state.lastActivity = Date.now();
  armIdle();
  startLive();
  route();
}

const ROLES = ['monitor', 'operator', 'admin'];

/* The modules' console pages and event types, from their schemas; the
 * navigation gets a link for each page. */
async function loadModulePages(me) {
  let schemas = [];
  try {
    const { modules } = await API.get('/api/v1/modules');
    schemas = (await Promise.all(modules.map((m) => API.get(`/api/v1/modules/${API.seg(m.name)}/schema`).catch(() => null)))).filter(Boolean);
  } catch {
    schemas = [];
  }
  state.modulePages = schemas
    .filter((s) => s.console && /^[a-z0-9_]+$/.test(s.name))
    .map((s) => ({ name: s.name, title: s.console.title, overview: !!s.console.overview }));
  const rank = ROLES.indexOf(me.role);
  state.eventTypes = [
    /* Not the types each stream filters for itself (params: the journal's
     * logs): a page opens its own stream for those. */
    ...new Set(schemas.flatMap((s) => (s.events || []).filter((e) => ROLES.indexOf(e.min_role) <= rank && e.params === undefined).map((e) => e.name))),
  ].filter((t) => /^[a-z0-9_]+$/.test(t));
  for (const a of nav.querySelectorAll('a[data-module-page]')) a.remove();
  const after = nav.querySelector('a[data-page=modules]');
  after.after(
    ...state.modulePages.map((p) => h('a', { href: `#/${p.name}`, 'data-page': p.name, 'data-module-page': '' }, p.title)),
  );
}

async function doLogout(message) {
  disarmIdle();
  stopLive();
  await API.logout().catch(() => {});
  if (location.hash !== '' && location.hash !== '#/') history.replaceState(null, '', '#/');
  showLogin(message || 'You are logged out.');
}

API.setUnauthenticatedHandler(() => {
  if (state.me) {
    disarmIdle();
    showLogin('Your session has ended. Log in again.');
  }
});

/* ---- idle logout --------------------------------------------------- */

function warnLead() {
  return Math.min(60, Math.floor(state.idleTimeout / 5)) * 1000;
}

function armIdle() {
  disarmIdle();
  state.idleTimer = setInterval(checkIdle, 1000);
}

function disarmIdle() {
  clearInterval(state.idleTimer);
  state.idleTimer = null;
  if (state.warning) {
    state.warning.close();
    state.warning = null;
  }
}

function checkIdle() {
  const idle = Date.now() - state.lastActivity;
  const limit = state.idleTimeout * 1000;
  if (idle >= limit) {
    doLogout(`You were logged out after ${Math.round(state.idleTimeout / 60)} min without activity.`);
    return;
  }
  if (idle >= limit - warnLead() && !state.warning) showIdleWarning();
  if (state.warning) {
    const left = Math.ceil((limit - idle) / 1000);
    state.warning.querySelector('.countdown').textContent = String(left);
  }
}

function showIdleWarning() {
  const dlg = h(
    'dialog.modal#idle-warning',
    { 'aria-labelledby': 'idle-title', 'aria-describedby': 'idle-text' },
    h(
      'form',
      { method: 'dialog' },
      h('h2#idle-title', 'Still there?'),
      h('p#idle-text', 'You will be logged out in ', h('span.countdown', '…'), ' s for inactivity.'),
      h(
        'div.buttons',
        h('button', { type: 'submit', value: 'logout' }, 'Log out now'),
        h('button.primary', { type: 'submit', value: 'stay', autofocus: true }, 'Stay logged in'),
      ),
    ),
  );
  dlg.addEventListener('close', async () => {
    const v = dlg.returnValue;
    dlg.remove();
    state.warning = null;
    if (v === 'logout') doLogout();
    else {
      state.lastActivity = Date.now();
      await API.refreshSession(); /* tells the server too */
    }
  });
  document.body.append(dlg);
  state.warning = dlg;
  dlg.showModal();
}

for (const ev of ['keydown', 'pointerdown', 'touchstart', 'wheel']) {
  window.addEventListener(
    ev,
    () => {
      if (!state.warning) state.lastActivity = Date.now();
    },
    { passive: true, capture: true },
  );
}

/* ---- live events --------------------------------------------------- */

function startLive() {
  stopLive();
  let opened = false;
  if (!state.eventTypes.length) return;
  const src = new EventSource(`/api/v1/events?types=${state.eventTypes.join(',')}`);
  state.source = src;
  src.onopen = () => {
    opened = true;
    state.live = true;
    bus.dispatchEvent(new CustomEvent('live', { detail: true }));
  };
  src.onerror = () => {
    if (src.readyState === EventSource.CLOSED) {
      state.live = false;
      /* Closed before it opened: no events route here (404), or no session. */
      bus.dispatchEvent(new CustomEvent('live', { detail: false }));
      if (opened && state.me) setTimeout(() => state.me && state.source === src && startLive(), 5000);
    }
  };
  for (const type of [...state.eventTypes, 'reset']) {
    src.addEventListener(type, (ev) => {
      let data = null;
      try {
        data = ev.data ? JSON.parse(ev.data) : null;
      } catch {
        return;
      }
      bus.dispatchEvent(new CustomEvent(type, { detail: data }));
    });
  }
}

function stopLive() {
  if (state.source) state.source.close();
  state.source = null;
  state.live = false;
}

/* ---- router -------------------------------------------------------- */

async function route() {
  if (!state.me) return;
  const parts = (location.hash.replace(/^#\/?/, '') || 'overview').split('/').map(decodeURIComponent);
  const modulePage = state.modulePages.find((p) => p.name === parts[0]);
  const name = pages[parts[0]] || modulePage ? parts[0] : null;
  if (state.cleanup) {
    try {
      state.cleanup();
    } catch {
      /* a page's cleanup must not block navigation */
    }
    state.cleanup = null;
  }
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!name) {
    clear(main, h('h1', 'Not found'), h('p', 'There is no such page. ', h('a', { href: '#/overview' }, 'Go to the overview.')));
    return;
  }
  const page = pages[name] || { title: modulePage.title, load: () => import(`./${modulePage.name}.js`) };
  document.title = `${page.title} — ${state.hostname ? `${state.hostname} — ` : ''}Steward`;
  clear(main, h('p.muted', { role: 'status' }, 'Loading…'));
  try {
    const mod = await page.load();
    const ctx = { me: state.me, bus, pages: state.modulePages, live: () => state.live, liveKnown: () => state.source !== null, logout: doLogout };
    const view = h('div.page', { 'data-page': name });
    clear(main, view);
    /* Focus moves to the page as it appears, not when its data has come:
     * by then the user may be typing in one of its fields. */
    const rendered = mod.render(view, ctx, ...parts.slice(1));
    main.focus({ preventScroll: true });
    state.cleanup = (await rendered) || null;
  } catch (e) {
    clear(main, h('h1', page.title), notice('error', e.message || String(e)));
  }
}

window.addEventListener('hashchange', route);

start().catch((e) => showLogin(e.message));
