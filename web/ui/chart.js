// chart.js - why the gate decided, over time: for each stratum, the
// stronger of its failure and silence log likelihood ratios in every
// stored decision's evidence, against the halt threshold (a stratum whose
// line crosses it is halted). Drawn with uPlot, an npm package the build
// copies beside these files; without it the page says so and goes on.
import {h} from './dom.js';

const COLORS = ['#0a58ca', '#116329', '#7a4d00', '#6f42c1', '#1b6d85', '#8a3b12'];

// The chart's data from the decisions (oldest first): x in seconds, the
// halt threshold, then one series per stratum (null where a decision does
// not name it).
export function series(decisions) {
  const points = [];
  for (const d of decisions) {
    const an = d.evidence && d.evidence.gate && d.evidence.gate.evidence &&
      d.evidence.gate.evidence.analysis;
    if (!an || !an.strata || !an.thresholds) continue;
    const by = new Map();
    for (const s of an.strata)
      by.set(s.stratum, Math.max(by.get(s.stratum) ?? -Infinity, s.failure_llr, s.silence_llr));
    points.push({x: d.at_ms / 1000, halt: an.thresholds.halt, by});
  }
  const names = [...new Set(points.flatMap((p) => [...p.by.keys()]))].sort();
  return {names, data: [points.map((p) => p.x), points.map((p) => p.halt),
    ...names.map((n) => points.map((p) => (p.by.has(n) ? p.by.get(n) : null)))]};
}

export async function gateChart(decisions) {
  const {names, data} = series(decisions);
  const caption = h('figcaption', {}, 'The gate’s evidence per stratum (log likelihood ratio, the stronger of failures and silence) at each stored decision, against the halt threshold.');
  if (data[0].length === 0)
    return h('figure', {}, caption, h('p', {}, 'No evaluation stored yet.'));
  let uPlot;
  try {
    ({default: uPlot} = await import('./uPlot.esm.js'));
  } catch {
    return h('figure', {}, caption, h('p', {}, 'Charts are not available: this build was made without the dashboard’s npm packages (scripts/deps.sh web).'));
  }
  const box = h('div', {class: 'chart', role: 'img', 'aria-label':
    `Chart of ${names.length} strata over ${data[0].length} decisions; the table of strata above holds the latest values.`});
  const opts = {
    width: 720, height: 260,
    scales: {x: {time: true}},
    axes: [{}, {label: 'log likelihood ratio'}],
    series: [{}, {label: 'halt threshold', stroke: '#b00020', dash: [6, 4], width: 2},
      ...names.map((n, i) => ({label: n, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true}))],
  };
  new uPlot(opts, data, box);
  return h('figure', {}, caption, box);
}
