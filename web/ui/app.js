// app.js - the dashboard: login, then the page the location's hash names
// (#/ overview, #/rollouts/ID, #/endpoints/ID, #/releases[/ID],
// #/channels[/NAME], #/audit?filter), redrawn when the server pushes a
// change (stream.js).
import {api, token, ApiError} from './api.js';
import {fill, h} from './dom.js';
import {openStream} from './stream.js';
import {overview} from './overview.js';
import {rolloutPage} from './rollout.js';
import {endpointPage} from './endpoint.js';

// Pages seldom opened are loaded when first shown, not with every page.
const lazy = (file, name) => async (...args) => (await import(file))[name](...args);
const releasesPage = lazy('./releases.js', 'releasesPage');
const releasePage = lazy('./releases.js', 'releasePage');
const channelsPage = lazy('./releases.js', 'channelsPage');
const channelPage = lazy('./releases.js', 'channelPage');
const auditPage = lazy('./audit.js', 'auditPage');

const main = document.getElementById('app');
const nav = document.getElementById('nav');
let me = null;          // {name, role} of the token
let closeStream = null; // closes the push stream
let drawing = null;     // the draw in progress (a newer one replaces it)
let again = false;

// The page the hash names: {page, arg, q} (q: the hash's ?query).
function route() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/');
  const q = new URLSearchParams(query || '');
  const id = /^\d+$/.test(parts[1] || '') ? parts[1] : null;
  const name = parts[1] ? decodeURIComponent(parts[1]) : null;
  const pages = {
    rollouts: id && rolloutPage, endpoints: name && endpointPage,
    releases: id ? releasePage : releasesPage, channels: name ? channelPage : channelsPage,
    audit: auditPage,
  };
  const page = pages[parts[0]];
  if (!page) return {page: overview, arg: null, q};
  return {page, arg: page === endpointPage || page === channelPage ? name : id, q};
}

// Draws the current page; a draw asked for while one runs is done after
// it, once (pushed events come in bursts).
export async function draw() {
  if (drawing) { again = true; return drawing; }
  drawing = (async () => {
    do {
      again = false;
      const {page, arg, q} = route();
      const hash = location.hash;
      try {
        const view = await page(arg, me, draw, q);
        keepFocus(hash, () => fill(main, view));
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) { logout(e.message); return; }
        fill(main, h('h1', {}, 'Error'), h('p', {class: 'error', role: 'alert'}, e.message));
      }
    } while (again);
  })();
  try { await drawing; } finally { drawing = null; }
}

// Redraws the page drawn for hash without losing the keyboard focus or
// what the user typed: the focused control is found again by its id after
// the page is rebuilt, and when the page shown was drawn for the same hash
// (a pushed event; not a move to another hash, even one made while the
// draw was under way) every input keeps its value.
let shownHash = null; // the hash the page shown was drawn for
function keepFocus(hash, redraw) {
  const id = document.activeElement && document.activeElement.id;
  const typed = hash === shownHash
    ? [...main.querySelectorAll('input[id], textarea[id]')].map((el) => [el.id, el.value]) : [];
  redraw();
  shownHash = hash;
  for (const [k, v] of typed) {
    const el = document.getElementById(k);
    if (el) el.value = v;
  }
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

// A pushed event redraws the page it concerns: a decision redraws a
// rollout page of its rollout and every other page; a tick's counts only
// the overview and the page of their rollout; all on reset.
function onEvent(ev) {
  const {page, arg} = route();
  if (ev.event === 'hello') return;
  if (ev.event === 'decision' || ev.event === 'counts') {
    let d = null;
    try { d = JSON.parse(ev.data); } catch { /* redraw anyway */ }
    const mine = !d || String(d.rollout) === arg;
    if (page === rolloutPage && !mine) return;
    if (ev.event === 'counts' && page !== rolloutPage && page !== overview) return;
  }
  draw();
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
