// web_browser.js - the dashboard in a real browser (Debian's
// chromium-headless-shell driven by playwright-core), run by
// test_web_browser.py with a started rollgated. Reads its setup as one
// JSON line on stdin: {url, admin, viewer, key, channel, rollout, shots,
// preflighted (a release whose preflight failed), signed (a release
// meeting its root's threshold, one short of it)};
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
// The bound on every wait for the server, the browser or the page (never
// an assertion on time): generous, as the machine may be loaded.
const WAIT_MS = 120000;
const lines = rl[Symbol.asyncIterator]();
const nextLine = async () => (await lines.next()).value;
let cfg;
const figures = {};

function expect(cond, what, ...evidence) {
  if (!cond) throw new Error(what + (evidence.length ? ': ' + JSON.stringify(evidence).slice(0, 800) : ''));
}

async function until(what, fn, ms = WAIT_MS) {
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
// `crashed` right after `applying`, then `reverted` (its agent went back
// to the last good content and quarantined the release), the others
// `healthy`.
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
    const events = (this.crashes ? ['applying', 'crashed', 'reverted'] : ['applying', 'healthy']).map((type) => ({
      id: `${this.id}-${++this.seq}`, type, channel: cfg.channel, release: rel, at_ms: 1}));
    await this.checkin(events);
    this.installed[cfg.channel] = {release: rel};
  }
}

async function enroll(n, os, osVersion, crashes, prefix = os) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
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
  page.setDefaultTimeout(WAIT_MS);
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

// Logs in with the keyboard alone: the form takes the focus, the token is
// typed and Enter submits it.
async function login(page, token) {
  await page.goto(cfg.url + '/');
  await page.waitForSelector('#token');
  expect(await page.evaluate(() => document.activeElement.id) === 'token', 'the login form takes the focus');
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#live.on');
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

// Tabs from the page's start to the element with id (or, given
// {href}, to the link to it); returns the number of Tab presses, failing
// after 80.
async function tabTo(page, id) {
  const want = typeof id === 'string' ? {id} : id;
  await page.focus('body');
  for (let i = 1; i <= 80; i++) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate(() => {
      const a = document.activeElement;
      return a ? {id: a.id, href: a.getAttribute('href')} : {};
    });
    if (want.id ? at.id === want.id : at.href === want.href) return i;
  }
  throw new Error(`${JSON.stringify(want)} cannot be reached with the keyboard`);
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

// A tick's counts are pushed: endpoints reporting change the rollout
// page's counts without a reload, also when the gate stores no decision
// (which would redraw the page anyway): an extra endpoint's exposure is
// shown while the rollout's decisions stay the same (tried with each of
// the extra endpoints until one shows it; the wave bakes 600 s).
async function countsPushed(page, agents, extra) {
  await page.evaluate(() => { window.__noReload = true; });
  const exposed = async () => Number((/(\d+) exposed/.exec(await text(page, '#summary')) || [])[1]);
  const decisions = async () => (await api('GET', `/v1/rollouts/${cfg.rollout}`)).body.decisions.length;
  expect(await exposed() === 0, 'nothing exposed yet', await text(page, '#summary'));
  for (const a of agents.filter((x) => !x.crashes)) await a.follow();
  await until('the counts change on the open page', async () => await exposed() > 0);
  let shown = false;
  for (const a of extra) {
    const [before, d0] = [await exposed(), await decisions()];
    const t0 = Date.now();
    await a.follow();
    await until('an extra exposure is shown', async () => await exposed() > before);
    figures.counts_shown_after_report_ms = Date.now() - t0;
    if (await decisions() === d0 && (await page.$$('.log li')).length === d0) { shown = true; break; }
  }
  expect(shown, 'counts pushed without a decision');
  expect(await page.evaluate(() => window.__noReload === true), 'pushed: the page was not reloaded');
}

async function haltPushed(page, agents) {
  await page.evaluate(() => { window.__noReload = true; });
  const linux = agents.filter((a) => !a.crashes), windows = agents.filter((a) => a.crashes);
  for (const a of linux) await a.follow();
  let ro;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    for (const a of windows) await a.follow();
    ro = (await api('GET', `/v1/rollouts/${cfg.rollout}`)).body;
    if (ro.state === 'halted') break;
    expect(Date.now() < deadline, 'the gate halts the rollout', ro.state);
    await new Promise((r) => setTimeout(r, 100));
  }
  const halt = ro.decisions.find((d) => d.to === 'halted');
  await until('the halt appears on the open page', async () => (await text(page, 'h1')).includes('halted'));
  figures.halt_shown_after_decision_ms = Date.now() - halt.at_ms;
  expect(await page.evaluate(() => window.__noReload === true), 'pushed: the page was not reloaded');
  let rows = [];
  await until('the failing stratum is shown halted', async () => {
    rows = await page.$$eval('#strata tbody tr', (trs) => trs.map((t) => t.textContent));
    return rows.some((r) => r.includes('windows-10-x86_64') && r.includes('halted'));
  }).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(rows).slice(0, 600)}`); });
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
  const q = await page.$$eval('table:has(caption:text-is("Quarantined")) tbody tr', (trs) => trs.map((t) => t.textContent));
  expect(q.length === 1 && q[0].startsWith(`${cfg.channel}v1`), 'the reverted release is quarantined', q);
  await axe(page, 'endpoint');
  await shot(page, 'endpoint');
}

// Releases, a release (notes, preflight, signatures), channels, a
// channel with its releases and rollouts; each reachable from the nav by
// keyboard, without axe violations.
async function releasePages(page) {
  await page.goto(`${cfg.url}/#/`);
  await page.waitForSelector('h1:has-text("Overview")');
  figures.tabs_to_releases = await tabTo(page, {href: '#/releases'});
  await page.keyboard.press('Enter');
  await page.waitForSelector('h1:has-text("Releases")');
  await axe(page, 'releases');
  await shot(page, 'releases');
  await page.click(`main tr:has(a[href="#/channels/${cfg.channel}"]) a[href^="#/releases/"]`);
  await page.waitForSelector('h1:has-text("Release #")');
  const body = await text(page, 'main');
  expect(/Notes: what changes and why/.test(body) && /Preflight/.test(body) && /Signatures/.test(body)
    && /Unsigned/.test(body) && /standard/.test(body), 'the release page', body.slice(0, 500));
  expect((await page.$$(`main a[href="#/rollouts/${cfg.rollout}"]`)).length === 1, 'the release lists its rollout');
  await axe(page, 'release');
  await shot(page, 'release');
  await page.click('main a[href^="#/channels/"]');
  await page.waitForSelector(`h1:has-text("Channel ${cfg.channel}")`);
  expect((await page.$$(`main a[href="#/rollouts/${cfg.rollout}"]`)).length === 1, 'the channel lists its rollout');
  await axe(page, 'channel');
  await shot(page, 'channel');
  await page.goto(`${cfg.url}/#/channels`);
  await page.waitForSelector('h1:has-text("Channels")');
  await axe(page, 'channels');
  await shot(page, 'channels');
  await page.goto(`${cfg.url}/#/releases/${cfg.preflighted}`);
  await page.waitForSelector('pre.log-text');
  const pf = await text(page, 'section[aria-labelledby="pf-h"]');
  expect(/failed/.test(pf) && /emergency/.test(await text(page, 'main')) && /fields/.test(await text(page, 'pre.log-text')),
    'a failed preflight with the engine\'s log', pf.slice(0, 600));
  await axe(page, 'release_preflight');
  await shot(page, 'release-preflight');
  await releaseSignatures(page);
}

// A release signed by both keys of a 2-of-2 root: its key ids and the
// threshold met; one signed by one key: not met.
async function releaseSignatures(page) {
  const [met, short] = cfg.signed;
  await page.goto(`${cfg.url}/#/releases/${met}`);
  await page.waitForSelector('#sig-verdict');
  const verdict = await text(page, '#sig-verdict');
  const keys = await page.$$eval('section[aria-labelledby="sig-h"] tbody tr', (trs) => trs.map((t) => t.textContent));
  expect(/^2 valid of the 2 the root \(version 1\) requires: threshold met\./.test(verdict), 'threshold met', verdict);
  expect(keys.length === 2 && keys.every((k) => /^[0-9a-f]{8,}$/.test(k)) && keys[0] !== keys[1], 'its two key ids', keys);
  await axe(page, 'release_signed');
  await shot(page, 'release-signed');
  await page.goto(`${cfg.url}/#/releases/${short}`);
  await until('one signature of two', async () =>
    /^1 valid of the 2 .*threshold NOT met \(too_few_signatures\)/.test(await text(page, '#sig-verdict')));
}

// The rows of the overview's "Recently ended" table.
async function endedRows(page) {
  return page.$$eval('section[aria-labelledby="ended-h"] tbody tr', (trs) => trs.map((t) => t.textContent));
}

// Every operator action by keyboard alone (pause and resume are in
// operatorActs): pause, then promote out of the last wave (completed; the
// overview lists it among the recently ended, after the halted rollout),
// rollback; abort on the channel's next rollout.
async function everyActionByKeyboard(page) {
  const plan = {name: 'one', waves: [{name: 'all', share: 100, min_endpoints: 1, window_s: 600, min_bake_s: 600}]};
  const id = await newRollout('keys', 1, plan);
  await page.goto(`${cfg.url}/#/rollouts/${id}`);
  await until('the new rollout runs', async () => (await text(page, 'h1')).includes(`#${id}`) &&
    (await text(page, 'h1')).includes('running'));
  await actByKeyboard(page, 'pause', 'a look before the end', 'paused');
  await actByKeyboard(page, 'promote', 'seen enough', 'completed');
  await page.goto(`${cfg.url}/#/`);
  let rows = [];
  await until('the overview lists the completed rollout among the recently ended', async () => {
    rows = await endedRows(page);
    return rows.some((r) => r.startsWith(`#${id}`) && r.includes('completed'));
  }).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(rows).slice(0, 600)}`); });
  const at = (rid) => rows.findIndex((r) => r.startsWith(`#${rid}`));
  expect(rows[at(cfg.rollout)].includes('halted') && at(cfg.rollout) < at(id), 'halts first', rows);
  await axe(page, 'overview_ended');
  await shot(page, 'overview-ended');
  await page.goto(`${cfg.url}/#/rollouts/${id}`);
  await until('the rollout page', async () => (await text(page, 'h1')).includes('completed'));
  await actByKeyboard(page, 'rollback', 'undo it', 'rolled back');
  const next = await newRollout('keys', 2, plan);
  await page.goto(`${cfg.url}/#/rollouts/${next}`);
  await until('the next rollout', async () => (await text(page, 'h1')).includes(`#${next}`));
  await actByKeyboard(page, 'abort', 'not this one', 'aborted');
  const audit = (await api('GET', `/v1/audit?target=rollout:${id}`)).body.audit.map((a) => `${a.action}: ${a.reason}`);
  for (const want of ['rollout.pause: a look before the end', 'rollout.promote: seen enough', 'rollout.rollback: undo it'])
    expect(audit.includes(want), 'audited with its reason', want, audit);
}

// A decision pushed while a filter is being typed redraws the audit page
// (its new rows appear) and keeps what was typed.
// A rollout of a new release (version) on channel (created at version 1)
// with plan; returns its id.
async function newRollout(channel, version, plan) {
  const art = await fetch(cfg.url + '/v1/artifacts', {method: 'PUT',
    headers: {Authorization: `Bearer ${cfg.admin}`}, body: `rule ${channel} ${version}\n`});
  const {sha256} = await art.json();
  if (version === 1) expect((await api('POST', '/v1/channels', {name: channel})).status === 201, 'channel', channel);
  const rel = await api('POST', '/v1/releases', {channel, version, artifact: sha256,
    notes: `${channel} v${version}`, urgency: 'standard'});
  expect(rel.status === 201, 'a release', rel);
  const ro = await api('POST', '/v1/rollouts', {release: rel.body.id, plan});
  expect(ro.status === 201, 'a rollout', ro);
  return ro.body.id;
}

async function typedSurvivesPush(page) {
  await page.goto(`${cfg.url}/#/audit`);
  await page.waitForSelector('#f-target');
  await page.fill('#f-target', 'rollout:');
  const id = await newRollout('pushed', 1, 'standard');
  await until('the new audit rows are pushed', async () => (await text(page, 'main tbody')).includes(`rollout:${id}`));
  expect(await page.inputValue('#f-target') === 'rollout:', 'what was typed stays', await page.inputValue('#f-target'));
  await page.fill('#f-target', '');
}

// A move to another hash while a draw is under way: the page ends drawn
// for the last hash with the form the hash says, not what was typed on the
// page before (the draw of the middle hash is held until the last hash is
// set).
async function hashMovesMidDraw(page) {
  await page.goto(`${cfg.url}/#/audit`);
  await page.waitForSelector('#f-target');
  await page.fill('#f-target', 'typed before');
  let release;
  const held = new Promise((r) => { release = r; });
  let asked = 0;
  await page.route(/\/v1\/audit\?/, async (route) => {
    asked++;
    await held;
    await route.continue();
  });
  await page.evaluate(() => { location.hash = '#/audit?target=middle'; });
  await until('the middle draw asks for its rows', async () => asked >= 1);
  await page.evaluate(() => { location.hash = '#/audit?action=rollout.pause'; });
  release();
  await until('the page is drawn for the last hash', async () =>
    await page.inputValue('#f-action') === 'rollout.pause' && await page.inputValue('#f-target') === '' &&
    /matching the filter/.test(await text(page, 'caption'))).catch(async (e) => {
    throw new Error(`${e.message}: action '${await page.inputValue('#f-action')}', ` +
      `target '${await page.inputValue('#f-target')}'`);
  });
  await page.unroute(/\/v1\/audit\?/);
}

// The audit page: filtered by the server (actor, action), by keyboard;
// paged (2 rows a page: Older shows the next, older rows).
async function auditPage(page) {
  // A linked filter (in the hash, reached while a draw was under way),
  // then one more typed.
  await hashMovesMidDraw(page);
  await tabTo(page, 'f-actor');
  await page.keyboard.type('admin');
  figures.tabs_to_audit_filter = await tabTo(page, 'f-apply');
  await page.keyboard.press('Enter');
  await until('the filtered rows', async () => /actor=admin/.test(page.url()) &&
    /matching the filter/.test(await text(page, 'caption')));
  const rows = await page.$$eval('main tbody tr', (trs) => trs.map((t) => t.textContent));
  expect(rows.length === 1 && rows[0].includes('rollout.pause') && rows[0].includes('checking the dashboard'),
    'only the pause by admin', rows, page.url());
  await axe(page, 'audit');
  await shot(page, 'audit');
  // From an hour ahead: nothing (the time range is the server's filter).
  const ahead = new Date(Date.now() + 3600e3 - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  await page.fill('#f-since', ahead);
  await page.click('#f-apply');
  await until('the time filter', async () => /since_ms=/.test(page.url()) && /^0 row/.test(await text(page, 'caption')));
  await page.goto(`${cfg.url}/#/audit?limit=2`);
  await until('a page of 2', async () => (await page.$$('main tbody tr')).length === 2);
  const first = await page.$$eval('main tbody tr', (trs) => trs.map((t) => t.textContent));
  await page.click('#older');
  await until('the older page', async () => /older page/.test(await text(page, 'caption')));
  const second = await page.$$eval('main tbody tr', (trs) => trs.map((t) => t.textContent));
  expect(second.length > 0 && !second.some((r) => first.includes(r)), 'Older shows other rows', first, second);
}

// rollgated is killed (-9) and started again while the page is open: the
// page says it is reconnecting, comes back live by itself, and a decision
// made after the restart is pushed to it.
async function reconnect(page) {
  const before = page.errors.length;
  console.log('RESTART');
  await nextLine();
  await until('the page reconnects by itself', async () => (await text(page, '#live')) === 'live');
  // The browser logs the stream cut by the kill and the attempts made
  // while the server was down: refused, or reset (an attempt that reached
  // the killed process's listen queue before it closed: the kernel resets
  // those; seen at load 20); nothing else may appear.
  const during = page.errors.splice(before);
  const other = during.filter((e) => !/net::ERR_(INCOMPLETE_CHUNKED_ENCODING|CONNECTION_REFUSED|CONNECTION_RESET)/.test(e));
  expect(other.length === 0, 'no other console error while the server restarted', during);
  const r = await api('POST', `/v1/rollouts/${cfg.rollout}/rollback`, {reason: 'after the restart'});
  expect(r.status === 200, 'rollback', r);
  await until('a decision after the restart is pushed',
    async () => (await text(page, 'h1')).includes('rolled back'));
}

async function reloadAndLogout(page) {
  await page.reload();
  await page.waitForSelector('#live.on');
  expect((await text(page, 'h1')).startsWith('Endpoint'), 'a reload keeps the page and the login');
  figures.tabs_to_logout = await tabTo(page, 'logout');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#token');
  expect((await page.evaluate(() => sessionStorage.length)) === 0, 'logout clears the token');
}

(async () => {
  cfg = JSON.parse(await nextLine());
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium-headless-shell'});
  try {
    const agents = [...await enroll(10, 'linux', '6', false), ...await enroll(6, 'windows', '10', true)];
    const extra = await enroll(3, 'linux', '6', false, 'extra');
    await wrongToken(browser);
    console.log('wrong token refused');
    const page = await overviewRenders(browser);
    console.log('overview rendered');
    await viewerSeesActionsDisabled(browser);
    console.log('viewer: actions disabled');
    await operatorActs(page);
    console.log('paused and resumed by keyboard');
    await countsPushed(page, agents, extra);
    console.log('counts pushed');
    await haltPushed(page, agents);
    console.log('halt pushed');
    expect(await page.$('.bands .chart canvas'), 'the rollout page draws the confidence bands (uPlot)');
    const label = await page.getAttribute('.bands .chart', 'aria-label');
    expect(/^windows-10-x86_64: /.test(label) && /band/.test(label), 'the failing stratum first, in words', label);
    await releasePages(page);
    await typedSurvivesPush(page);
    await auditPage(page);
    console.log('releases, channels and audit pages');
    await everyActionByKeyboard(page);
    console.log('every action by keyboard');
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
