/* api.js — the console's only door to stewardd's HTTP API.
 *
 * The session is the HttpOnly cookie set by POST /api/v1/login; this module
 * never sees it.  The CSRF token lives in this module's memory only (never in
 * storage or URLs) and goes out as X-CSRF-Token on every state-changing
 * request.  After a reload it is fetched again from GET /api/v1/whoami?csrf=1,
 * which gives a cookie session a fresh one; a 403 "csrf" (another tab took a
 * new token) fetches it again and retries once.  A 401 tells the app to show
 * the login page. */

let csrf = null;
let onUnauthenticated = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || 'http_' + status;
    this.field = err.field || null;
    this.body = body;
  }
}

export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

export function setCsrf(token) {
  csrf = token || null;
}

async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  const opts = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, opts);
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { status: r.status, data, headers: r.headers };
}

/* Calls the API; resolves with the JSON body or throws ApiError. */
export async function api(method, path, body) {
  let r = await send(method, path, body);
  if (r.status === 403 && r.data && r.data.error && r.data.error.code === 'csrf') {
    await refreshSession();
    r = await send(method, path, body);
  }
  if (r.status === 401 && path !== '/api/v1/login') onUnauthenticated();
  if (r.status < 200 || r.status >= 300) throw new ApiError(r.status, r.data);
  return r.data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

/* Who is logged in (and a fresh CSRF token); null when nobody is. */
export async function refreshSession() {
  const r = await send('GET', '/api/v1/whoami?csrf=1');
  if (r.status !== 200) return null;
  if (r.data.csrf_token) csrf = r.data.csrf_token;
  return r.data;
}

/* POST /api/v1/login with a password or the bootstrap token. */
async function postLogin(body) {
  const r = await send('POST', '/api/v1/login', body);
  if (r.status !== 200) {
    const e = new ApiError(r.status, r.data);
    e.retryAfter = r.headers.get('Retry-After');
    throw e;
  }
  csrf = r.data.csrf_token;
  return r.data;
}

/* What the login page shows: {hostname, bootstrap}; null if unknown. */
export async function loginInfo() {
  try {
    const r = await send('GET', '/api/v1/login-info');
    return r.status === 200 && r.data ? r.data : null;
  } catch {
    return null;
  }
}

export function login(user, password) {
  return postLogin({ user, password });
}

/* The first login, with the installation's one-time bootstrap token. */
export function loginBootstrap(token) {
  return postLogin({ bootstrap_token: token });
}

export async function logout() {
  try {
    const r = await send('POST', '/api/v1/logout', {});
    if (r.status === 403 && r.data && r.data.error && r.data.error.code === 'csrf') {
      await refreshSession();
      await send('POST', '/api/v1/logout', {});
    }
  } finally {
    csrf = null;
  }
}

/* A path segment from user input, encoded. */
export const seg = (s) => encodeURIComponent(String(s));
