// flags_node.js - the real Unleash Node SDK (unleash-client, fetched by
// scripts/deps.sh flags; NODE_PATH finds it) against rollgated, for
// test_flags.py and bench/flags. Reads {"url", "token", "cases": [{"flag",
// "context"}]} on stdin; prints {"results": [{"enabled", "variant"}],
// "errors": [...]} once the SDK has synchronized, then flushes its metrics
// (POST /api/client/metrics) and exits.
'use strict';
const { initialize, InMemStorageProvider } = require('unleash-client');

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  const errors = [];
  const unleash = initialize({
    url: req.url + '/api/',
    appName: 'rollgate-e2e',
    customHeaders: { Authorization: req.token },
    refreshInterval: 60000,
    metricsInterval: 60000,
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
  });
  unleash.on('error', (e) => errors.push(String(e && e.message ? e.message : e)));
  unleash.on('synchronized', async () => {
    const results = req.cases.map((c) => {
      const v = unleash.getVariant(c.flag, c.context);
      return {
        enabled: unleash.isEnabled(c.flag, c.context),
        variant: { name: v.name, enabled: v.enabled,
                   feature_enabled: v.feature_enabled,
                   payload: v.payload || null },
      };
    });
    await unleash.destroyWithFlush();
    // exit only once the pipe took everything (writes to pipes are async)
    process.stdout.write(JSON.stringify({ results, errors }) + '\n',
                         () => process.exit(0));
  });
});
