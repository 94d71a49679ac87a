// audit.js - the audit log: who did what, when, why; filtered by the
// server (GET /v1/audit's actor, target, action, since_ms, until_ms) and
// paged newest first. The filter lives in the location's hash
// (#/audit?actor=...&after=...), so a filtered page can be linked and the
// back button works. ?limit=N sets the page's size (50).
import {api} from './api.js';
import {h, table, when} from './dom.js';

const FIELDS = [['actor', 'Actor', 'admin'], ['target', 'Target', 'rollout:3'], ['action', 'Action', 'rollout.pause']];

// "YYYY-MM-DDTHH:MM" (a datetime-local input, local time) <-> ms.
const toMs = (v) => (v ? new Date(v).getTime() : NaN);
function toLocal(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function filterForm(q) {
  const inputs = FIELDS.map(([k, label, eg]) => h('label', {}, label,
    h('input', {id: `f-${k}`, name: k, value: q.get(k) || '', placeholder: eg, spellcheck: 'false'})));
  const since = h('input', {id: 'f-since', type: 'datetime-local',
    value: q.get('since_ms') ? toLocal(Number(q.get('since_ms'))) : ''});
  const until = h('input', {id: 'f-until', type: 'datetime-local',
    value: q.get('until_ms') ? toLocal(Number(q.get('until_ms'))) : ''});
  return h('form', {class: 'filter', 'aria-label': 'Filter the audit log', onsubmit: (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const [k] of FIELDS) {
      const v = document.getElementById(`f-${k}`).value.trim();
      if (v) p.set(k, v);
    }
    if (!Number.isNaN(toMs(since.value))) p.set('since_ms', String(toMs(since.value)));
    if (!Number.isNaN(toMs(until.value))) p.set('until_ms', String(toMs(until.value)));
    const s = p.toString();
    location.hash = `#/audit${s ? `?${s}` : ''}`;
  }},
  inputs, h('label', {}, 'From', since), h('label', {}, 'Until', until),
  h('button', {type: 'submit', id: 'f-apply'}, 'Filter'),
  h('a', {href: '#/audit', id: 'f-clear'}, 'Clear'));
}

export async function auditPage(arg, me, redraw, q) {
  const p = new URLSearchParams();
  for (const k of ['actor', 'target', 'action', 'since_ms', 'until_ms', 'after', 'limit'])
    if (q.get(k)) p.set(k, q.get(k));
  if (!p.has('limit')) p.set('limit', '50');
  const v = await api('GET', `/v1/audit?${p}`);
  const next = new URLSearchParams(q);
  next.set('after', String(v.next_after));
  const filtered = ['actor', 'target', 'action', 'since_ms', 'until_ms'].some((k) => q.get(k));
  return [
    h('h1', {}, 'Audit log'),
    filterForm(q),
    table(`${v.audit.length} row(s)${filtered ? ' matching the filter' : ''}${q.get('after') ? ', older page' : ''}, newest first`,
      ['When', 'Actor', 'Role', 'Action', 'Target', 'Reason', 'Source'],
      v.audit.map((a) => [when(a.at_ms), a.actor, a.role, a.action,
        a.target.startsWith('rollout:') ? h('a', {href: `#/rollouts/${a.target.slice(8)}`}, a.target) : a.target,
        a.reason || '—', a.source || '—'])),
    h('p', {}, q.get('after') ? h('a', {href: `#/audit?${new URLSearchParams([...q].filter(([k]) => k !== 'after'))}`, id: 'newest'}, 'Newest') : null,
      q.get('after') && v.next_after ? ' · ' : null,
      v.next_after ? h('a', {href: `#/audit?${next}`, id: 'older'}, 'Older') : null),
  ];
}
