// rollout.js - one rollout: its waves as a timeline, the gate's latest
// evidence per stratum (exposed, healthy, silent, failed, pending and the
// control cohort's silence), the failing and silent endpoints, the
// decision log in words, and the operator actions behind a reason dialog.
import {api} from './api.js';
import {ago, badge, h, pct, table, when} from './dom.js';
import {reasonDialog} from './dialog.js';
import {bandCharts, loadPlot} from './chart.js';

// Which states each action is valid in (docs/api.md).
const ACTIONS = [
  ['pause', ['running']],
  ['resume', ['paused', 'held']],
  ['promote', ['paused', 'held']],
  ['rollback', ['running', 'paused', 'held', 'halted', 'completed']],
  ['abort', ['pending', 'running', 'paused', 'held']],
];

function timeline(r) {
  const waves = (r.plan && r.plan.waves) || [];
  return h('ol', {class: 'timeline', 'aria-label': 'Waves'}, waves.map((w, i) => {
    const done = i < r.wave || (i === r.wave && r.state === 'completed');
    const cur = i === r.wave && !done;
    const what = done ? 'done' : cur ? `${r.state}, since ${ago(r.wave_started_ms)}` : 'to come';
    return h('li', {class: done ? 'done' : cur ? 'current' : 'next', 'aria-current': cur ? 'step' : null},
      h('strong', {}, w.name || `wave ${i + 1}`), ` ${w.share}% — ${what}`);
  }));
}

// Sums the analyzer's per-stratum (and period) records by stratum.
function strataRows(ev) {
  const gate = (ev && ev.gate && ev.gate.evidence) || {};
  const verdicts = new Map((gate.strata || []).map((s) => [s.name, s]));
  const st = (ev && ev.strata_state) || {};
  const stateOf = (n) => ['halted', 'held', 'cleared'].find((k) => (st[k] || []).includes(n)) || 'open';
  const sums = new Map();
  for (const s of (gate.analysis && gate.analysis.strata) || []) {
    const a = sums.get(s.stratum) || {exposed: 0, healthy: 0, silent: 0, failed: 0, pending: 0, cw: 0, cs: 0};
    a.exposed += s.exposed; a.healthy += s.exposed_healthy; a.silent += s.exposed_silent;
    a.failed += s.exposed_failed + (s.early_failed || 0); a.pending += s.exposed_pending;
    a.cw += s.control_windows; a.cs += s.control_silent;
    sums.set(s.stratum, a);
  }
  for (const n of verdicts.keys()) if (!sums.has(n)) sums.set(n, null);
  return [...sums.entries()].map(([name, a]) => {
    const v = verdicts.get(name);
    return [name, stateOf(name), v ? `${v.verdict}: ${v.reason}` : '—',
      ...(a ? [a.exposed, a.healthy, a.silent, a.failed, a.pending].map(String) : ['—', '—', '—', '—', '—']),
      a && a.cw ? `${pct(a.cs, a.cw)} of ${a.cw}` : '—'];
  });
}

function decisionText(d) {
  const move = d.from === d.to && d.from_wave === d.to_wave
    ? `evaluated ${d.to} wave ${d.to_wave + 1}`
    : `${d.from} wave ${d.from_wave + 1} → ${d.to} wave ${d.to_wave + 1}`;
  return [h('time', {}, when(d.at_ms)), ` ${d.actor}: ${move}. ${d.reason}`];
}

function actions(r, me, redraw) {
  const viewer = !me || me.role === 'viewer';
  const note = h('p', {id: 'actions-note', class: 'note'}, viewer
    ? `Your token (${me ? me.role : 'none'}) may only look: an operator or admin token can pause, resume, promote, roll back or abort.`
    : 'Every action asks for a reason, which the audit log keeps.');
  const status = h('p', {id: 'action-status', role: 'status', 'aria-live': 'polite'});
  const buttons = ACTIONS.map(([name, states]) => {
    const valid = states.includes(r.state);
    const why = viewer ? 'actions-note' : valid ? null : `why-${name}`;
    return h('span', {class: 'action'},
      h('button', {type: 'button', id: `act-${name}`, disabled: viewer || !valid,
        'aria-describedby': why, onclick: () => reasonDialog(r, name, status, redraw)}, name),
      !viewer && !valid ? h('span', {id: `why-${name}`, class: 'why'}, `not while ${r.state}`) : null);
  });
  return h('section', {'aria-labelledby': 'actions-h'},
    h('h2', {id: 'actions-h'}, 'Actions'), note, h('div', {class: 'actions'}, buttons), status);
}

function endpointList(caption, eps) {
  return table(caption, ['Endpoint', 'Stratum', 'Last contact'], eps.map((e) => [
    h('a', {href: `#/endpoints/${encodeURIComponent(e.id)}`}, e.id), e.stratum, ago(e.last_seen_ms)]));
}

// The last list fetched per rollout and state, with the gate's count it
// was fetched at.
const lists = new Map();

// The endpoints of rollout id in state (the first 50). The lists cost the
// server a fleet scan, so one is asked for only when the gate counts some
// (or has no counts now) and its count changed since the last fetch; the
// server may answer one up to 5 s old (Cache-Control, docs/dashboard.md).
async function stateList(id, state, counts) {
  const count = counts ? counts[state] : null;
  const key = `${id}/${state}`;
  const last = lists.get(key);
  if (counts && count === 0) return {endpoints: []};
  if (last && count !== null && last.count === count) return last.value;
  const value = await api('GET', `/v1/endpoints?rollout=${id}&state=${state}&limit=50`,
    undefined, undefined, {'Cache-Control': 'max-age=5'});
  lists.set(key, {count, value});
  return value;
}

export async function rolloutPage(id, me, redraw) {
  // The gate's latest counts (no fleet scan) decide which lists to fetch.
  loadPlot(); // in parallel with the data
  const r = await api('GET', `/v1/rollouts/${id}?measure=0`);
  const list = (state) => stateList(id, state, r.counts);
  const [failed, silent, band] = await Promise.all([list('failed'), list('silent'),
    api('GET', `/v1/rollouts/${id}/band`)]);
  // The gate's evaluation in memory, else (a final rollout is no longer
  // evaluated) the newest stored decision that carries the gate's evidence.
  const stored = (r.decisions || []).filter((d) => d.evidence && d.evidence.gate).pop();
  const last = r.evaluation || (stored && {at_ms: stored.at_ms, verdict: stored.evidence.gate.verdict,
    reason: stored.evidence.gate.reason, evidence: stored.evidence});
  const ev = last && last.evidence;
  const c = r.counts;
  const decisions = (r.decisions || []).slice().reverse();
  const chart = await bandCharts(band);
  return [
    h('h1', {}, `Rollout #${r.id}: ${r.channel} v${r.version} `, badge(r.state)),
    h('p', {id: 'summary'}, `Wave ${r.wave + 1} (${r.wave_name}), ${r.share_ppm / 10000}% of the target fleet; `,
      c ? `${c.targeted} targeted, ${c.exposed} exposed, ${c.healthy} healthy, ${c.failed} failed, ` +
        `${c.silent} silent of ${c.fleet} (the gate's latest count). `
        : 'the gate is not counting it now. ',
      `Created by ${r.created_by} ${ago(r.created_ms)}.`),
    h('section', {'aria-labelledby': 'waves-h'}, h('h2', {id: 'waves-h'}, 'Waves'), timeline(r)),
    actions(r, me, redraw),
    h('section', {'aria-labelledby': 'strata-h'},
      h('h2', {id: 'strata-h'}, 'Strata'),
      last ? h('p', {}, `The gate's latest evaluation (${ago(last.at_ms)}): ${last.verdict}, ${last.reason}`)
        : h('p', {}, 'No evaluation yet in this server process.'),
      h('div', {id: 'strata'}, table('Per stratum: the gate evidence of the current wave', ['Stratum', 'State', 'Gate',
        'Exposed', 'Healthy', 'Silent', 'Failed', 'Pending', 'Control silence'], strataRows(ev)),
      h('p', {class: 'note'}, 'Failed counts an endpoint as soon as it reports a failure; until its window ' +
        'ends it is also pending (or, reported after a healthy or silent window, also counted there).')),
      chart),
    h('section', {'aria-labelledby': 'eps-h'},
      h('h2', {id: 'eps-h'}, 'Failing and silent endpoints'),
      h('div', {class: 'cols'}, endpointList(`Failed (${failed.endpoints.length})`, failed.endpoints),
        endpointList(`Silent (${silent.endpoints.length})`, silent.endpoints))),
    h('section', {'aria-labelledby': 'log-h'},
      h('h2', {id: 'log-h'}, 'Decision log'),
      h('ol', {class: 'log', reversed: true}, decisions.map((d) => h('li', {class: `to-${d.to}`}, decisionText(d))))),
  ];
}
