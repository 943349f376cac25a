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

/* A module's streaming command (docs/api.md, "Streaming commands"): POST
 * …/commands/NAME?stream=1, each progress event's data handed to
 * onProgress as it arrives; resolves with the final {result, audit_id}, or
 * throws ApiError — for a refusal before the stream (its status) and for an
 * "error" event alike.  signal (an AbortSignal) ends the stream, and with
 * it the command on the server.  EventSource cannot POST: fetch and a
 * ReadableStream reader, cut at blank lines. */
export async function streamCommand(module, name, args, onProgress, signal) {
  const path = `/api/v1/modules/${seg(module)}/commands/${seg(name)}?stream=1`;
  const open = () =>
    fetch(path, {
      method: 'POST',
      headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json', 'X-CSRF-Token': csrf || '' },
      body: JSON.stringify(args || {}),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  let r = await open();
  const isStream = (x) => (x.headers.get('Content-Type') || '').startsWith('text/event-stream');
  if (!isStream(r)) {
    let data = null;
    try {
      data = await r.json();
    } catch {
      data = null;
    }
    if (r.status === 403 && data && data.error && data.error.code === 'csrf') {
      await refreshSession();
      r = await open();
      if (!isStream(r)) {
        try {
          data = await r.json();
        } catch {
          data = null;
        }
      }
    }
    if (!isStream(r)) {
      if (r.status === 401) onUnauthenticated();
      throw new ApiError(r.status, data);
    }
  }
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (!data) continue;
      const obj = JSON.parse(data);
      if (event === 'progress') onProgress(obj);
      else if (event === 'result') last = obj;
      else if (event === 'error') throw new ApiError(500, obj); // after the head: no status of its own
    }
  }
  if (!last) throw new ApiError(502, { error: { code: 'stream_ended', message: 'the stream ended before the command did' } });
  return last;
}

/* A path segment from user input, encoded. */
export const seg = (s) => encodeURIComponent(String(s));
