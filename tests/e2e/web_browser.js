// web_browser.js - the dashboard in a real browser (Debian's
// chromium-headless-shell driven by playwright-core), run by
// test_web_browser.py with a started rollgated. Reads its setup as one
// JSON line on stdin: {url, admin, viewer, key, channel, rollout, shots};
// prints RESTART when rollgated is to be killed and started again, and
// goes on at the next line on stdin. Drives the
// endpoints itself over the agent API (fetch) so that the gate halts the
// rollout while a page is open. Prints progress lines and, last, one JSON
// line {"ok": true, "figures": {...}}; exits non-zero with the reason on
// the first failed expectation.
const {chromium} = require('playwright-core');
const {default: AxeBuilder} = require('@axe-core/playwright');
const zlib = require('zlib');
const path = require('path');

const rl = require('readline').createInterface({input: process.stdin});
const lines = rl[Symbol.asyncIterator]();
const nextLine = async () => (await lines.next()).value;
let cfg;
const figures = {};

function expect(cond, what, ...evidence) {
  if (!cond) throw new Error(what + (evidence.length ? ': ' + JSON.stringify(evidence).slice(0, 800) : ''));
}

async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    expect(Date.now() < end, `${what} (after ${ms} ms)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function api(method, p, body, token = cfg.admin) {
  const r = await fetch(cfg.url + p, {method, headers: {Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json'}, body: body && JSON.stringify(body)});
  return {status: r.status, body: await r.json().catch(() => null)};
}

// A simulated endpoint: follows the channel; a crashing one reports
// `crashed` right after `applying`, the others `healthy`.
class Agent {
  constructor(id, token, crashes) { Object.assign(this, {id, token, crashes, seq: 0, installed: {}, done: new Set()}); }
  async checkin(events = []) {
    const r = await fetch(cfg.url + '/v1/agent/checkin', {method: 'POST',
      headers: {Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json'},
      body: JSON.stringify({endpoint_id: this.id, installed: this.installed, events})});
    const b = await r.json();
    expect(r.status === 200, 'check-in', this.id, r.status, b);
    const d = b.desired[cfg.channel];
    return d ? d.release : null;
  }
  async follow() {
    const rel = await this.checkin();
    if (rel === null || this.done.has(rel)) return;
    this.done.add(rel);
    const events = ['applying', this.crashes ? 'crashed' : 'healthy'].map((type) => ({
      id: `${this.id}-${++this.seq}`, type, channel: cfg.channel, release: rel, at_ms: 1}));
    await this.checkin(events);
    this.installed[cfg.channel] = {release: rel};
  }
}

async function enroll(n, os, osVersion, crashes) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const id = `${os}-${i}`;
    const r = await fetch(cfg.url + '/v1/agent/enroll', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({enrollment_key: cfg.key, endpoint_id: id,
        attributes: {os, os_version: osVersion, arch: 'x86_64', tags: ['lab']}})});
    const b = await r.json();
    expect(r.status === 200, 'enroll', id, b);
    out.push(new Agent(id, b.token, crashes));
  }
  return out;
}

// A browser context whose page records console errors and the JS and CSS
// it loads.
async function openPage(browser, name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.assets = new Map();
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`${name}: ${m.text()}`); });
  page.on('pageerror', (e) => page.errors.push(`${name}: ${e.message}`));
  page.on('response', async (r) => {
    const u = r.url();
    if (/\.(js|css)$/.test(u) && r.status() === 200) page.assets.set(u, await r.body());
  });
  return page;
}

async function login(page, token) {
  await page.goto(cfg.url + '/');
  await page.fill('#token', token);
  await page.press('#token', 'Enter');
  await page.waitForSelector('#live.on', {timeout: 15000});
}

// The JS and CSS a page loaded, each gzipped (-9), in figures.
function assetSizes(page) {
  let js = 0, css = 0;
  for (const [u, body] of page.assets) {
    const n = zlib.gzipSync(body, {level: 9}).length;
    if (u.endsWith('.js')) js += n; else css += n;
  }
  figures.js_gzip_bytes = js;
  figures.css_gzip_bytes = css;
  figures.files_loaded = page.assets.size;
}

async function axe(page, what) {
  const r = await new AxeBuilder({page}).analyze();
  const bad = r.violations.filter((v) => ['serious', 'critical'].includes(v.impact));
  expect(bad.length === 0, `axe-core: no serious or critical violations on ${what}`,
    bad.map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 2).map((n) => n.html)})));
  figures[`axe_${what}_violations_minor`] = r.violations.length;
}

async function shot(page, name) {
  await page.screenshot({path: path.join(cfg.shots, `${name}.png`), fullPage: true});
}

async function text(page, sel) {
  return (await page.textContent(sel)) || '';
}

async function wrongToken(browser) {
  const page = await openPage(browser, 'wrong-token');
  await page.goto(cfg.url + '/');
  await page.fill('#token', 'f'.repeat(64));
  await page.press('#token', 'Enter');
  await until('a wrong token is refused with a clear message',
    async () => /refused: unknown token/.test(await text(page, '#login-error')));
  const others = page.errors.filter((e) => !/401/.test(e));
  expect(others.length === 0, 'no console error but the refused request', page.errors);
  await page.context().close();
}

async function overviewRenders(browser) {
  const page = await openPage(browser, 'admin');
  const t0 = Date.now();
  await login(page, cfg.admin);
  await page.waitForSelector(`a[href="#/rollouts/${cfg.rollout}"]`);
  figures.overview_first_render_ms = Date.now() - t0;
  const row = await text(page, 'main');
  expect(/Active rollouts/.test(row) && /running/.test(row), 'the overview shows the running rollout', row.slice(0, 400));
  expect((await page.evaluate(() => sessionStorage.getItem('rollgate.token'))) === cfg.admin,
    'the token is kept in sessionStorage');
  expect(!page.url().includes(cfg.admin), 'the token is not in the URL', page.url());
  await axe(page, 'overview');
  await shot(page, 'overview');
  return page;
}

async function viewerSeesActionsDisabled(browser) {
  const page = await openPage(browser, 'viewer');
  await login(page, cfg.viewer);
  await page.goto(`${cfg.url}/#/rollouts/${cfg.rollout}`);
  await page.waitForSelector('#act-pause');
  for (const a of ['pause', 'resume', 'promote', 'rollback', 'abort']) {
    const b = page.locator(`#act-${a}`);
    expect(await b.isDisabled(), `a viewer sees ${a} disabled`);
    expect((await b.getAttribute('aria-describedby')) === 'actions-note', `${a} says why`);
  }
  expect(/may only look/.test(await text(page, '#actions-note')), 'the reason is shown');
  await axe(page, 'rollout_viewer');
  await shot(page, 'rollout-viewer');
  expect(page.errors.length === 0, 'no console errors (viewer)', page.errors);
  await page.context().close();
}

// Tabs from the page's start to the button with id; returns the number of
// Tab presses, failing after 80.
async function tabTo(page, id) {
  await page.focus('body');
  for (let i = 1; i <= 80; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement && document.activeElement.id) === id) return i;
  }
  throw new Error(`#${id} cannot be reached with the keyboard`);
}

// An action by keyboard only: Tab to its button, Enter, type the reason,
// Tab to confirm, Enter; then waits for the new state.
async function actByKeyboard(page, action, reason, state) {
  figures[`tabs_to_${action}`] = await tabTo(page, `act-${action}`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog[open] #reason');
  expect(await page.evaluate(() => document.activeElement.id) === 'reason', 'the dialog takes the focus');
  await page.keyboard.type(reason);
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement.id) === 'dlg-confirm', 'Tab reaches confirm');
  await page.keyboard.press('Enter');
  await until(`the page shows ${state}`, async () => (await text(page, 'h1')).includes(state));
}

async function operatorActs(page) {
  await page.goto(`${cfg.url}/#/rollouts/${cfg.rollout}`);
  await page.waitForSelector('#act-pause');
  expect(!(await page.locator('#act-pause').isDisabled()), 'an operator may pause');
  // Escape cancels: nothing is sent.
  await tabTo(page, 'act-pause');
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog[open]');
  await page.keyboard.press('Escape');
  await until('Escape closes the dialog', async () => (await page.$('dialog')) === null);
  expect((await text(page, 'h1')).includes('running'), 'nothing happened');
  await actByKeyboard(page, 'pause', 'checking the dashboard', 'paused');
  await actByKeyboard(page, 'resume', 'checked', 'running');
}

async function haltPushed(page, agents) {
  await page.evaluate(() => { window.__noReload = true; });
  const linux = agents.filter((a) => !a.crashes), windows = agents.filter((a) => a.crashes);
  for (const a of linux) await a.follow();
  let ro;
  const deadline = Date.now() + 90000;
  for (;;) {
    for (const a of windows) await a.follow();
    ro = (await api('GET', `/v1/rollouts/${cfg.rollout}`)).body;
    if (ro.state === 'halted') break;
    expect(Date.now() < deadline, 'the gate halts the rollout', ro.state);
    await new Promise((r) => setTimeout(r, 100));
  }
  const halt = ro.decisions.find((d) => d.to === 'halted');
  await until('the halt appears on the open page', async () => (await text(page, 'h1')).includes('halted'), 20000);
  figures.halt_shown_after_decision_ms = Date.now() - halt.at_ms;
  expect(await page.evaluate(() => window.__noReload === true), 'pushed: the page was not reloaded');
  await until('the failing stratum is shown halted', async () => {
    const rows = await page.$$eval('section[aria-labelledby="strata-h"] tbody tr', (trs) => trs.map((t) => t.textContent));
    return rows.some((r) => r.includes('windows-10-x86_64') && r.includes('halted'));
  });
  const log = await text(page, '.log');
  expect(log.includes(halt.reason.slice(0, 40)), 'the decision log says why', halt.reason, log.slice(0, 300));
  await until('the failed endpoints are listed', async () => (await page.$$('a[href^="#/endpoints/windows-"]')).length > 0);
  await axe(page, 'rollout_halted');
  await shot(page, 'rollout-halted');
}

async function endpointPage(page) {
  await page.click('a[href^="#/endpoints/windows-"]');
  await page.waitForSelector('h1:has-text("Endpoint windows-")');
  const body = await text(page, 'main');
  expect(/windows-10-x86_64/.test(body) && /crashed/.test(body) && /lab/.test(body),
    'the endpoint page shows stratum, history and tags', body.slice(0, 400));
  await axe(page, 'endpoint');
  await shot(page, 'endpoint');
}

// rollgated is killed (-9) and started again while the page is open: the
// page says it is reconnecting, comes back live by itself, and a decision
// made after the restart is pushed to it.
async function reconnect(page) {
  const before = page.errors.length;
  console.log('RESTART');
  await nextLine();
  await until('the page reconnects by itself', async () => (await text(page, '#live')) === 'live', 40000);
  // The browser logs the stream cut by the kill and the refused attempts
  // while the server was down; nothing else may appear.
  const during = page.errors.splice(before);
  const other = during.filter((e) => !/net::ERR_(INCOMPLETE_CHUNKED_ENCODING|CONNECTION_REFUSED)/.test(e));
  expect(other.length === 0, 'no other console error while the server restarted', during);
  const r = await api('POST', `/v1/rollouts/${cfg.rollout}/rollback`, {reason: 'after the restart'});
  expect(r.status === 200, 'rollback', r);
  await until('a decision after the restart is pushed',
    async () => (await text(page, 'h1')).includes('rolled back'), 20000);
}

async function reloadAndLogout(page) {
  await page.reload();
  await page.waitForSelector('#live.on', {timeout: 15000});
  expect((await text(page, 'h1')).startsWith('Endpoint'), 'a reload keeps the page and the login');
  await page.click('#logout');
  await page.waitForSelector('#token');
  expect((await page.evaluate(() => sessionStorage.length)) === 0, 'logout clears the token');
}

(async () => {
  cfg = JSON.parse(await nextLine());
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium-headless-shell'});
  try {
    const agents = [...await enroll(10, 'linux', '6', false), ...await enroll(6, 'windows', '10', true)];
    await wrongToken(browser);
    console.log('wrong token refused');
    const page = await overviewRenders(browser);
    console.log('overview rendered');
    await viewerSeesActionsDisabled(browser);
    console.log('viewer: actions disabled');
    await operatorActs(page);
    console.log('paused and resumed by keyboard');
    await haltPushed(page, agents);
    console.log('halt pushed');
    expect(await page.$('.chart canvas'), 'the rollout page draws the gate chart (uPlot)');
    await page.goto(`${cfg.url}/#/rollouts/${cfg.rollout}`);
    await page.waitForSelector('#act-rollback');
    await reconnect(page);
    console.log('reconnected after kill -9');
    await endpointPage(page);
    assetSizes(page);
    await reloadAndLogout(page);
    expect(page.errors.length === 0, 'no console errors', page.errors);
    console.log(JSON.stringify({ok: true, figures}));
  } finally {
    await browser.close();
    rl.close(); // stdin no longer keeps the script alive
  }
})().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
