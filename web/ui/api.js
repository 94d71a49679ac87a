// api.js - the admin API with the token the user typed: kept in
// sessionStorage (this tab only, gone when it closes), sent only in the
// Authorization header, never in a URL.
const KEY = 'rollgate.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

// An answer other than 2xx: status, the error shape's code and message.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Calls the API (extra: more request headers); returns the parsed JSON
// body or throws ApiError.
export async function api(method, path, body, tok = token.get(), extra = {}) {
  const headers = {Accept: 'application/json', ...extra};
  if (tok) headers.Authorization = `Bearer ${tok}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(path, {method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    throw new ApiError(0, 'network', `rollgated cannot be reached (${e.message})`);
  }
  const text = await r.text();
  let v = null;
  try { v = text ? JSON.parse(text) : null; } catch { v = null; }
  if (!r.ok) {
    const e = (v && v.error) || {};
    throw new ApiError(r.status, e.code || 'http', e.message || `HTTP ${r.status}`);
  }
  return v;
}
