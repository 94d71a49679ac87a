// app.js - the dashboard: login, then the page the location's hash names
// (#/ overview, #/rollouts/ID, #/endpoints/ID), redrawn when the server
// pushes a change (stream.js).
import {api, token, ApiError} from './api.js';
import {fill, h} from './dom.js';
import {openStream} from './stream.js';
import {overview} from './overview.js';
import {rolloutPage} from './rollout.js';
import {endpointPage} from './endpoint.js';

const main = document.getElementById('app');
const nav = document.getElementById('nav');
let me = null;          // {name, role} of the token
let closeStream = null; // closes the push stream
let drawing = null;     // the draw in progress (a newer one replaces it)
let again = false;

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'rollouts' && /^\d+$/.test(parts[1] || ''))
    return {page: rolloutPage, arg: parts[1]};
  if (parts[0] === 'endpoints' && parts[1])
    return {page: endpointPage, arg: decodeURIComponent(parts[1])};
  return {page: overview, arg: null};
}

// Draws the current page; a draw asked for while one runs is done after
// it, once (pushed events come in bursts).
export async function draw() {
  if (drawing) { again = true; return drawing; }
  drawing = (async () => {
    do {
      again = false;
      const {page, arg} = route();
      try {
        const view = await page(arg, me, draw);
        keepFocus(() => fill(main, view));
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) { logout(e.message); return; }
        fill(main, h('h1', {}, 'Error'), h('p', {class: 'error', role: 'alert'}, e.message));
      }
    } while (again);
  })();
  try { await drawing; } finally { drawing = null; }
}

// Redraws without losing the keyboard focus: the focused control is found
// again by its id after the page is rebuilt.
function keepFocus(redraw) {
  const id = document.activeElement && document.activeElement.id;
  redraw();
  const el = id && document.getElementById(id);
  if (el) el.focus();
}

function loginForm(message) {
  const input = h('input', {id: 'token', type: 'password', autocomplete: 'off',
    required: true, spellcheck: 'false'});
  const error = h('p', {id: 'login-error', class: 'error', role: 'alert'}, message || '');
  const form = h('form', {class: 'login', 'aria-labelledby': 'login-title', onsubmit: async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    try {
      me = await api('GET', '/v1/whoami', undefined, t);
    } catch (e) {
      fill(error, e.status === 401 ? `This token is refused: ${e.message}` : e.message);
      input.focus();
      return;
    }
    token.set(t);
    start();
  }},
  h('h1', {id: 'login-title'}, 'Log in to Rollgate'),
  h('p', {}, 'Paste an admin API token (viewer, operator or admin). It is kept in this tab only and sent only in the Authorization header.'),
  h('label', {for: 'token'}, 'Token'), input,
  h('button', {type: 'submit'}, 'Log in'), error);
  nav.hidden = true;
  fill(main, form);
  input.focus();
}

function logout(message) {
  if (closeStream) closeStream();
  closeStream = null;
  token.clear();
  me = null;
  loginForm(message);
}

// A pushed event redraws the page it concerns: a rollout page only for a
// decision of its rollout; the others for every decision; all on reset.
function onEvent(ev) {
  const {page, arg} = route();
  if (ev.event === 'decision' && page === rolloutPage) {
    let d = null;
    try { d = JSON.parse(ev.data); } catch { /* redraw anyway */ }
    if (d && String(d.rollout) !== arg) return;
  }
  if (ev.event !== 'hello') draw();
}

function setLive(state) {
  const el = document.getElementById('live');
  el.textContent = state === 'live' ? 'live' : state;
  el.className = state === 'live' ? 'live on' : 'live';
  if (state.startsWith('refused')) logout('The server refused the token: log in again.');
}

async function start() {
  try {
    me = await api('GET', '/v1/whoami');
  } catch (e) {
    if (e.status === 401) { logout('Your token is no longer accepted: log in again.'); return; }
    fill(main, h('p', {class: 'error', role: 'alert'}, e.message));
    return;
  }
  nav.hidden = false;
  fill(document.getElementById('who'), `${me.name} (${me.role})`);
  if (!closeStream) closeStream = openStream(onEvent, setLive);
  draw();
}

document.getElementById('logout').addEventListener('click', () => logout('Logged out.'));
window.addEventListener('hashchange', () => { if (me) draw(); });
if (token.get()) start(); else loginForm();
