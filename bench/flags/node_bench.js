// bench/flags/node_bench.js FEATURES_JSON CASES_JSON SECONDS: the Unleash
// Node SDK's evaluator (unleash-client's UnleashClient over an in-memory
// repository: no network) on the same flags and (flag, context) cases as
// flags_bench; prints "node_ns_per_eval=N enabled=K".
'use strict';
const fs = require('fs');
const UnleashClient = require('unleash-client/lib/client').default;
const { defaultStrategies } = require('unleash-client/lib/strategy');

const doc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const input = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const cases = input.cases.map(([flag, i]) => ({ flag, context: input.contexts[i] }));
const seconds = Number(process.argv[4] || 2);
const toggles = new Map(doc.features.map((f) => [f.name, f]));
const segments = new Map((doc.segments || []).map((s) => [s.id, s]));
const repo = { getToggle: (n) => toggles.get(n), getSegment: (id) => segments.get(id) };
const client = new UnleashClient(repo, defaultStrategies);
const no = () => false;

let enabled = 0;
let evals = 0;
const start = process.hrtime.bigint();
const budget = BigInt(Math.round(seconds * 1e9));
while (process.hrtime.bigint() - start < budget) {
  for (const c of cases) enabled += client.isEnabled(c.flag, c.context, no) ? 1 : 0;
  evals += cases.length;
}
const ns = Number(process.hrtime.bigint() - start) / evals;
console.log(`node_ns_per_eval=${ns.toFixed(1)} enabled=${enabled / (evals / cases.length)}`);
