// endpoint.js - one endpoint: stratum, tags, last contact, installed,
// pending and quarantined releases, its state in each rollout and its
// event history.
import {api} from './api.js';
import {ago, dl, h, table, when} from './dom.js';

export async function endpointPage(id) {
  const e = await api('GET', `/v1/endpoints/${encodeURIComponent(id)}?events=100`);
  const a = e.attributes || {};
  const installed = Object.entries(e.installed || {}).map(([ch, v]) => [ch, `v${v.version}`, `release ${v.release}`]);
  return [
    h('h1', {}, `Endpoint ${e.id}`),
    dl([['Stratum', e.stratum], ['Tags', (a.tags || []).join(', ') || 'none'],
      ['Last contact', `${ago(e.last_seen_ms)} (${when(e.last_seen_ms)})`],
      ['Enrolled', when(e.enrolled_ms)], ['Region', a.region || '—'], ['Hardware', a.hw || '—']]),
    h('div', {class: 'cols'},
      table('Installed', ['Channel', 'Version', 'Release'], installed),
      table('Pending', ['Channel', 'Version', 'Release'],
        (e.pending || []).map((p) => [p.channel, `v${p.version}`, `release ${p.release}`])),
      table('Quarantined', ['Channel', 'Version', 'Since'],
        (e.quarantined || []).map((q) => [q.channel, `v${q.version}`, when(q.at_ms)]))),
    table('In rollouts', ['Channel', 'Version', 'State', 'Applying', 'Healthy'],
      (e.rollouts || []).map((r) => [r.channel, `v${r.version}`, r.state, when(r.applying_ms), when(r.healthy_ms)])),
    table('Event history, newest first', ['Received', 'Event', 'Channel', 'Version', 'Detail'],
      (e.events || []).map((v) => [when(v.received_ms), v.type, v.channel, `v${v.version}`, v.detail || ''])),
  ];
}
