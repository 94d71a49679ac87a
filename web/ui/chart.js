// chart.js - why the gate decided, over time: per stratum, its excess
// silence (the share of its exposed windows that fell silent minus the
// share of their matched controls that did, in points) against the
// gate's minimum effect, and how many times the harmless share its
// exposed endpoints fail against 1, each with its anytime-valid
// confidence band. The gate halts a stratum when a band's lower edge
// rises above its line. The bands come from the server (GET
// /v1/rollouts/{id}/band: the gate's own tests inverted on the gate's own
// counts); nothing is computed here but the layout. Drawn with uPlot, an
// npm package the build copies beside these files; without it the page
// says so and goes on.
import {h} from './dom.js';

const MAX_CHARTS = 12;

// How far a stratum's bands are above their halt lines (> 1: halted).
const lean = (s) => Math.max(s.silence.lo / s.silence.min_effect, s.failure.lo);

// The strata of the band answer, the most suspicious first (highest
// lower edge against its line at the latest point), at most MAX_CHARTS.
export function strataOf(points) {
  const last = new Map();
  for (const p of points) for (const s of p.strata) last.set(s.stratum, s);
  return [...last.values()].sort((a, b) => lean(b) - lean(a) || (a.stratum < b.stratum ? -1 : 1))
    .slice(0, MAX_CHARTS).map((s) => s.stratum);
}

// uPlot's columns for one stratum: x (s), then the silence series in
// points (minimum effect, excess, low, high), then the failure series
// (ratio, low, high) and their line at 1 (null where a point lacks it).
export function columns(points, name) {
  const cols = [[], [], [], [], [], [], [], [], []];
  const pts = (v) => (v === null ? null : 100 * v);
  for (const p of points) {
    const s = p.strata.find((x) => x.stratum === name);
    const v = s ? [pts(s.silence.min_effect), pts(s.silence.excess), pts(s.silence.lo), pts(s.silence.hi),
      s.failure.ratio, s.failure.lo, s.failure.hi, 1]
      : [null, null, null, null, null, null, null, null];
    [p.at_ms / 1000, ...v].forEach((x, i) => cols[i].push(x));
  }
  return cols;
}

function describe(points, name) {
  const p = points[points.length - 1];
  const s = p && p.strata.find((x) => x.stratum === name);
  if (!s) return `${name}: no evidence at the latest point.`;
  const f = (v) => (v >= 100 ? v.toFixed(0) : v.toPrecision(2));
  const pt = (v) => `${(100 * v).toFixed(1)} pt`;
  const x = s.silence;
  return `${name}: silence ${x.excess === null ? 'not judged yet' : `${pt(x.excess)} above`} its matched controls ` +
    `(band ${pt(x.lo)} to ${pt(x.hi)}, halt above ${pt(x.min_effect)}; ${x.exposed_silent} of ${x.exposed_windows} ` +
    `exposed windows silent vs ${(100 * x.control_share).toFixed(1)} % of their controls); failures ` +
    `${s.failure.ratio === null ? 'no trial yet' : `${f(s.failure.ratio)}×`} the harmless share ` +
    `(band ${f(s.failure.lo)}–${f(s.failure.hi)}; ${s.failure.failed} of ${s.failure.trials}).`;
}

function opts(name) {
  const thin = (stroke, label) => ({label, stroke, width: 1, spanGaps: true, points: {show: false}});
  return {
    width: 560, height: 220, title: name,
    scales: {x: {time: true}, pt: {range: (u, lo, hi) => [Math.min(0, lo), Math.max(hi, 2)]},
      x1: {distr: 3, log: 10, range: () => [1e-3, 1e3]}},
    axes: [{}, {scale: 'pt', label: 'excess silence (points)'},
      {scale: 'x1', side: 1, label: '× the harmless failures', grid: {show: false}}],
    series: [{},
      {scale: 'pt', label: 'halt: silence band above', stroke: '#b00020', dash: [6, 4], width: 2, points: {show: false}},
      {scale: 'pt', label: 'excess silence', stroke: '#0a58ca', width: 2, spanGaps: true},
      {scale: 'pt', ...thin('#0a58ca55', 'low')}, {scale: 'pt', ...thin('#0a58ca55', 'high')},
      {scale: 'x1', label: 'failures ÷ harmless', stroke: '#7a4d00', width: 2, spanGaps: true},
      {scale: 'x1', ...thin('#7a4d0055', 'low')}, {scale: 'x1', ...thin('#7a4d0055', 'high')},
      {scale: 'x1', label: 'halt: failure band above', stroke: '#7a4d00', dash: [2, 4], width: 1, points: {show: false}}],
    bands: [{series: [4, 3], fill: '#0a58ca22'}, {series: [7, 6], fill: '#7a4d0022'}],
  };
}

// uPlot's module, loaded once (a page may start loading it before its
// data comes): resolves to the class, or null without the package.
let plot = null;
export function loadPlot() {
  plot = plot || import('./uPlot.esm.js').then((m) => m.default, () => null);
  return plot;
}

export async function bandCharts(band) {
  const points = band.points || [];
  const alpha = points.length ? points[points.length - 1].alpha : null;
  const caption = h('figcaption', {}, 'Per stratum: excess silence (the share of exposed windows silent minus the ' +
    'share of their matched controls silent, in points, left axis) and the failure share as a multiple of the ' +
    `harmless share (right axis), each with its ${alpha ? `${100 * (1 - alpha)}% ` : ''}anytime-valid confidence ` +
    'band (the gate’s own tests, inverted on its counts). The gate halts a stratum when a band’s lower edge rises ' +
    'above its dashed line: the minimum effect for silence, 1 for failures.');
  if (!points.length) return h('figure', {}, caption, h('p', {}, 'No evaluation stored yet.'));
  const uPlot = await loadPlot();
  if (!uPlot)
    return h('figure', {}, caption, h('p', {}, 'Charts are not available: this build was made without the dashboard’s npm packages (scripts/deps.sh web).'));
  const charts = strataOf(points).map((name) => {
    const box = h('div', {class: 'chart', role: 'img', 'aria-label': describe(points, name)});
    new uPlot(opts(name), columns(points, name), box);
    return box;
  });
  return h('figure', {class: 'bands'}, caption, h('div', {class: 'cols'}, charts));
}
