// render.js - bench/web's browser side: opens the dashboard in Debian's
// chromium-headless-shell (playwright-core) and prints, as one JSON line,
// the first render of the overview and of a rollout page (ms, each the
// median of RUNS fresh page loads) and the JS and CSS loaded, gzipped.
// With PAGES=N it then keeps N pages open on the overview for HOLD_S s
// (rollgated's CPU is measured meanwhile by bench.py), page i logged in
// with viewers[i] (a stream cap is per token). Setup on stdin:
// {url, token, viewers, rollout, rollouts, runs, pages, hold_s}.
const {chromium} = require('playwright-core');
const zlib = require('zlib');

const cfg = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const median = (v) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];

// A fresh context logged in (the token in its sessionStorage).
async function loggedIn(browser, token = cfg.token) {
  const context = await browser.newContext();
  await context.addInitScript((t) => sessionStorage.setItem('rollgate.token', t), token);
  return context.newPage();
}

async function timed(browser, hash, selector) {
  const page = await loggedIn(browser);
  const bytes = {js: 0, css: 0};
  page.on('response', async (r) => {
    const m = /\.(js|css)$/.exec(r.url());
    if (m && r.status() === 200) bytes[m[1]] += zlib.gzipSync(await r.body(), {level: 9}).length;
  });
  const t0 = Date.now();
  await page.goto(`${cfg.url}/${hash}`);
  await page.waitForSelector(selector, {timeout: 60000});
  const ms = Date.now() - t0;
  await page.context().close();
  return {ms, bytes};
}

(async () => {
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium-headless-shell'});
  const out = {overview_ms: [], rollout_ms: []};
  let bytes = null;
  for (let i = 0; i < cfg.runs; i++) {
    const o = await timed(browser, '#/', `tbody tr:nth-child(${cfg.rollouts}) a[href^="#/rollouts/"]`);
    const r = await timed(browser, `#/rollouts/${cfg.rollout}`, 'section[aria-labelledby="log-h"] li');
    out.overview_ms.push(o.ms);
    out.rollout_ms.push(r.ms);
    bytes = {js: Math.max(o.bytes.js, r.bytes.js), css: Math.max(o.bytes.css, r.bytes.css)};
  }
  const result = {overview_ms: median(out.overview_ms), rollout_ms: median(out.rollout_ms),
    js_gzip_bytes: bytes.js, css_gzip_bytes: bytes.css};
  if (cfg.pages > 0) {
    const pages = [];
    for (let i = 0; i < cfg.pages; i++) {
      const p = await loggedIn(browser, cfg.viewers[i]);
      await p.goto(`${cfg.url}/#/`);
      await p.waitForSelector('#live.on', {timeout: 60000});
      pages.push(p);
    }
    console.log(JSON.stringify({open: pages.length}));
    await new Promise((r) => setTimeout(r, cfg.hold_s * 1000));
  }
  console.log(JSON.stringify(result));
  await browser.close();
})().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
