// overview.js - the overview page: active rollouts (holds first) with
// their wave and progress, the recently ended ones (halts first, then
// completions), and the fleet by stratum and installed version with its
// online share.
import {api} from './api.js';
import {ago, badge, bar, h, pct, table} from './dom.js';

// The order rollouts are listed in: those that need a person first.
const ATTENTION = {halted: 0, held: 1, rolled_back: 2, aborted: 3, paused: 4, running: 5,
  pending: 6, completed: 7};

const FINAL = ['halted', 'rolled_back', 'aborted', 'completed'];

function rank(r) {
  return ATTENTION[r.state] ?? 8;
}

function waveCell(r) {
  const n = (r.plan && r.plan.waves || []).length;
  return `${r.wave + 1} of ${n}${r.wave_name ? ` (${r.wave_name})` : ''}`;
}

function countsCell(c) {
  if (!c) return '—';
  return `${c.exposed} exposed, ${c.healthy} healthy, ${c.failed} failed, ${c.silent} silent`;
}

function rolloutRow(r) {
  const share = r.share_ppm / 10000;
  return [
    h('a', {href: `#/rollouts/${r.id}`}, `#${r.id}`),
    `${r.channel} v${r.version}`,
    badge(r.state),
    waveCell(r),
    h('span', {class: 'progress'}, bar(`rollout ${r.id} share`, r.share_ppm, 1e6), ` ${share}%`),
    countsCell(r.counts),
    ago(r.updated_ms),
  ];
}

function fleetSection(f) {
  const online = h('span', {class: 'progress'},
    bar('online share', f.online, f.endpoints), ` ${pct(f.online, f.endpoints)} online`);
  return h('section', {'aria-labelledby': 'fleet-h'},
    h('h2', {id: 'fleet-h'}, 'Fleet'),
    h('p', {}, `${f.endpoints} endpoints; `, online,
      ` (heard from in the last ${f.online_window_s} s; counted ${ago(f.at_ms)})`),
    h('div', {class: 'cols'},
      table('By stratum', ['Stratum', 'Endpoints', 'Online'],
        f.strata.map((s) => [s.name, String(s.endpoints), pct(s.online, s.endpoints)])),
      table('By installed version', ['Channel', 'Version', 'Endpoints'],
        f.versions.map((v) => [v.channel, `v${v.version}`, String(v.endpoints)]))));
}

export async function overview() {
  const [active, recent, fleet] = await Promise.all([
    api('GET', '/v1/rollouts?active=1&limit=200'),
    api('GET', '/v1/rollouts?limit=50'),
    api('GET', '/v1/fleet'),
  ]);
  const byAttention = (a, b) => rank(a) - rank(b) || b.updated_ms - a.updated_ms;
  const rows = active.rollouts.slice().sort(byAttention);
  const ended = recent.rollouts.filter((r) => FINAL.includes(r.state)).sort(byAttention);
  const head = ['Rollout', 'Release', 'State', 'Wave', 'Share', 'Endpoints', 'Updated'];
  return [
    h('h1', {}, 'Overview'),
    h('section', {'aria-labelledby': 'active-h'},
      h('h2', {id: 'active-h'}, 'Active rollouts'),
      table(`${rows.length} active (holds first, then paused)`, head, rows.map(rolloutRow))),
    h('section', {'aria-labelledby': 'ended-h'},
      h('h2', {id: 'ended-h'}, 'Recently ended'),
      table(`${ended.length} of the newest 50 rollouts: halts, rollbacks and aborts first, then completions`,
        head, ended.map(rolloutRow))),
    fleetSection(fleet),
  ];
}
