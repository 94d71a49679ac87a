// chart.js - why the gate decided, over time: per stratum, how many times
// as often its exposed endpoints fall silent as its control endpoints, and
// how many times the harmless share they fail, each with its anytime-valid
// confidence band, against 1 (no excess). The gate halts a stratum when a
// band's lower edge rises above 1. The bands come from the server (GET
// /v1/rollouts/{id}/band: the gate's own tests inverted on the gate's own
// counts); nothing is computed here but the layout. Drawn with uPlot, an
// npm package the build copies beside these files; without it the page
// says so and goes on.
import {h} from './dom.js';

const MAX_CHARTS = 12;

// The strata of the band answer, the most suspicious first (highest
// lower edge at the latest point), at most MAX_CHARTS.
export function strataOf(points) {
  const last = new Map();
  for (const p of points) for (const s of p.strata) last.set(s.stratum, s);
  const worst = (s) => Math.max(s.silence.lo, s.failure.lo);
  return [...last.values()].sort((a, b) => worst(b) - worst(a) || (a.stratum < b.stratum ? -1 : 1))
    .slice(0, MAX_CHARTS).map((s) => s.stratum);
}

// uPlot's columns for one stratum: x (s), 1, then silence ratio, low,
// high and failure ratio, low, high (null where a point lacks it).
export function columns(points, name) {
  const cols = [[], [], [], [], [], [], [], []];
  for (const p of points) {
    const s = p.strata.find((x) => x.stratum === name);
    const v = s ? [s.silence.ratio, s.silence.lo, s.silence.hi, s.failure.ratio, s.failure.lo, s.failure.hi]
      : [null, null, null, null, null, null];
    [p.at_ms / 1000, 1, ...v].forEach((x, i) => cols[i].push(x));
  }
  return cols;
}

function describe(points, name) {
  const p = points[points.length - 1];
  const s = p && p.strata.find((x) => x.stratum === name);
  if (!s) return `${name}: no evidence at the latest point.`;
  const f = (v) => (v >= 100 ? v.toFixed(0) : v.toPrecision(2));
  return `${name}: silence ${s.silence.ratio === null ? 'not comparable yet' : `${f(s.silence.ratio)}×`} control ` +
    `(band ${f(s.silence.lo)}–${f(s.silence.hi)}; ${s.silence.exposed_silent} of ${s.silence.exposed_windows} exposed ` +
    `vs ${s.silence.control_silent} of ${s.silence.control_windows} control windows silent); failures ` +
    `${s.failure.ratio === null ? 'no trial yet' : `${f(s.failure.ratio)}×`} the harmless share ` +
    `(band ${f(s.failure.lo)}–${f(s.failure.hi)}; ${s.failure.failed} of ${s.failure.trials}).`;
}

function opts(name) {
  return {
    width: 560, height: 220, title: name,
    scales: {x: {time: true}, y: {distr: 3, log: 10, range: () => [1e-3, 1e3]}},
    axes: [{}, {label: '× the harmless level'}],
    series: [{},
      {label: 'halt: band above 1', stroke: '#b00020', dash: [6, 4], width: 2, points: {show: false}},
      {label: 'silence ÷ control', stroke: '#0a58ca', width: 2, spanGaps: true},
      {label: 'low', stroke: '#0a58ca55', width: 1, spanGaps: true, points: {show: false}},
      {label: 'high', stroke: '#0a58ca55', width: 1, spanGaps: true, points: {show: false}},
      {label: 'failures ÷ harmless', stroke: '#7a4d00', width: 2, spanGaps: true},
      {label: 'low', stroke: '#7a4d0055', width: 1, spanGaps: true, points: {show: false}},
      {label: 'high', stroke: '#7a4d0055', width: 1, spanGaps: true, points: {show: false}}],
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
  const caption = h('figcaption', {}, 'Per stratum: exposed silence as a multiple of control silence, and the failure ' +
    `share as a multiple of the harmless share, each with its ${alpha ? `${100 * (1 - alpha)}% ` : ''}anytime-valid ` +
    'confidence band (the gate’s own tests, inverted on its counts). The gate halts a stratum when a band’s ' +
    'lower edge rises above 1 (the dashed line).');
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
