// bench/flags/node_bench.js FEATURES_JSON CASES_JSON SECONDS: the Unleash
// Node SDK's evaluator (unleash-client's UnleashClient over an in-memory
// repository: no network) on the same flags and (flag, context) cases as
// flags_bench, for SECONDS of the process's CPU time (process.cpuUsage:
// the machine may be shared); prints "node_ns_per_eval=N enabled=K".
'use strict';
const fs = require('fs');
const UnleashClient = require('unleash-client/lib/client').default;
const { defaultStrategies } = require('unleash-client/lib/strategy');

const doc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const input = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
// flag names interned as in flags_bench: the flag set's own strings
const names = new Map(doc.features.map((f) => [f.name, f.name]));
const cases = input.cases.map(([flag, i]) => ({
  flag: names.get(flag) ?? flag, context: input.contexts[i],
}));
const seconds = Number(process.argv[4] || 2);
const toggles = new Map(doc.features.map((f) => [f.name, f]));
const segments = new Map((doc.segments || []).map((s) => [s.id, s]));
const repo = { getToggle: (n) => toggles.get(n), getSegment: (id) => segments.get(id) };
const client = new UnleashClient(repo, defaultStrategies);
const no = () => false;

const cpuUs = (u) => u.user + u.system;
let enabled = 0;
let evals = 0;
const start = process.cpuUsage();
while (cpuUs(process.cpuUsage(start)) < seconds * 1e6) {
  for (const c of cases) enabled += client.isEnabled(c.flag, c.context, no) ? 1 : 0;
  evals += cases.length;
}
const ns = (cpuUs(process.cpuUsage(start)) * 1000) / evals;
console.log(`node_ns_per_eval=${ns.toFixed(1)} enabled=${enabled / (evals / cases.length)}`);
