// releases.js - releases and channels: the release list, one release
// (notes, urgency, activation, preflight result with its log, signatures
// counted against the newest root), the channel list and one channel with
// its releases and rollouts.
import {api} from './api.js';
import {ago, badge, dl, h, table, when} from './dom.js';

const relLink = (r) => h('a', {href: `#/releases/${r.id}`}, `#${r.id}`);
const chanLink = (name) => h('a', {href: `#/channels/${encodeURIComponent(name)}`}, name);

function signedCell(r) {
  const sigs = (r.metadata && r.metadata.signatures) || [];
  return r.metadata ? `signed (${sigs.length})` : 'unsigned';
}

function releaseRows(list) {
  return list.map((r) => [relLink(r), chanLink(r.channel), `v${r.version}`, r.urgency,
    r.preflight.status, signedCell(r), `${r.created_by}, ${ago(r.created_ms)}`]);
}

const RELEASE_HEAD = ['Release', 'Channel', 'Version', 'Urgency', 'Preflight', 'Signatures', 'Created'];

// A page of a list with an "Older" link when the server has more
// (next_after, docs/api.md); hash is the page's route without ?after.
function older(next, hash) {
  return next ? h('p', {}, h('a', {href: `${hash}?after=${next}`, id: 'older'}, 'Older')) : null;
}

export async function releasesPage(arg, me, redraw, q) {
  const after = q.get('after');
  const v = await api('GET', `/v1/releases?limit=50${after ? `&after=${encodeURIComponent(after)}` : ''}`);
  return [h('h1', {}, 'Releases'),
    table('Newest first', RELEASE_HEAD, releaseRows(v.releases)),
    older(v.next_after, '#/releases')];
}

function preflightSection(p) {
  const rows = [['Status', p.status], ['Detail', p.detail || '—'],
    ['Finished', p.finished_ms ? when(p.finished_ms) : '—']];
  if (p.reason) rows.push(['Reason', p.reason]);
  if (p.stage) rows.push(['Stage', p.stage]);
  if (p.signal) rows.push(['Signal', p.signal]);
  if (p.exit_code !== undefined && p.exit_code !== null) rows.push(['Exit code', String(p.exit_code)]);
  if (p.duration_ms !== undefined) rows.push(['Duration', `${p.duration_ms} ms`]);
  if (p.engine) rows.push(['Engine', p.engine]);
  if (p.sandbox) rows.push(['Sandbox', Object.entries(p.sandbox)
    .filter(([k]) => k !== 'notes').map(([k, on]) => `${k} ${on ? 'on' : 'off'}`).join(', ')]);
  return h('section', {'aria-labelledby': 'pf-h'}, h('h2', {id: 'pf-h'}, 'Preflight'), dl(rows),
    p.stderr_tail ? h('figure', {}, h('figcaption', {}, 'The engine’s log (last 4 KiB of its stderr)'),
      h('pre', {class: 'log-text', tabindex: '0', 'aria-label': 'preflight log'}, p.stderr_tail))
      : h('p', {}, 'No log was kept for this run.'));
}

function signatureSection(s) {
  let text;
  if (!s) text = 'Unsigned: agents that pin a root refuse this release.';
  else if (s.root_version === null) text = 'Signed, but the server holds no root to count the signatures against (rollgate root put).';
  else text = `${s.valid} valid of the ${s.threshold} the root (version ${s.root_version}) requires: ` +
    (s.met ? 'threshold met.' : `threshold NOT met (${s.verdict}).`) +
    (s.bad ? ` ${s.bad} signature(s) do not verify.` : '') + (s.unknown ? ` ${s.unknown} by keys the root does not list.` : '');
  return h('section', {'aria-labelledby': 'sig-h'}, h('h2', {id: 'sig-h'}, 'Signatures'),
    h('p', {id: 'sig-verdict'}, text),
    s ? table('Signing key ids', ['Key id'], s.keyids.map((k) => [h('code', {}, k)])) : null);
}

export async function releasePage(id) {
  const [r, ros] = await Promise.all([api('GET', `/v1/releases/${id}`),
    api('GET', `/v1/rollouts?release=${encodeURIComponent(id)}&limit=50`)]);
  return [
    h('h1', {}, `Release #${r.id}: ${r.channel} v${r.version}`),
    dl([['Channel', chanLink(r.channel)], ['Urgency', r.urgency],
      ['Artifact', h('code', {}, r.sha256)], ['Size', `${r.size} bytes`],
      ['Activation', `${r.activation.kind}, within ${r.activation.max_s} s${r.activation.declared ? '' : ' (not declared: learned)'}`],
      ['Created', `${when(r.created_ms)} by ${r.created_by}`]]),
    h('section', {'aria-labelledby': 'notes-h'}, h('h2', {id: 'notes-h'}, 'Notes: what changes and why'),
      h('p', {class: 'notes'}, r.notes)),
    preflightSection(r.preflight),
    signatureSection(r.signatures),
    h('section', {'aria-labelledby': 'ro-h'}, h('h2', {id: 'ro-h'}, 'Rollouts'),
      rolloutTable(`Rollouts of this release, newest first${more(ros)}`, ros.rollouts)),
  ];
}

// " (the newest 50)" when a list's page is not its whole.
function more(page) {
  return page.next_after === null ? '' : ` (the newest ${page.rollouts.length})`;
}

function rolloutTable(caption, list) {
  return table(caption, ['Rollout', 'Release', 'State', 'Wave', 'Updated'], list.map((o) => [
    h('a', {href: `#/rollouts/${o.id}`}, `#${o.id}`), h('a', {href: `#/releases/${o.release}`}, `v${o.version}`),
    badge(o.state), `${o.wave + 1} (${o.wave_name})`, ago(o.updated_ms)]));
}

export async function channelsPage() {
  const v = await api('GET', '/v1/channels?limit=1000');
  return [h('h1', {}, 'Channels'),
    table('Channels', ['Channel', 'Description', 'Current release', 'Preflight', 'Created'],
      v.channels.map((c) => [chanLink(c.name), c.description || '—',
        c.current_release ? h('a', {href: `#/releases/${c.current_release}`}, `#${c.current_release}`) : 'none',
        c.preflight ? c.preflight.engine : 'none', when(c.created_ms)]))];
}

export async function channelPage(name) {
  const [chs, rels, ros] = await Promise.all([api('GET', '/v1/channels?limit=1000'),
    api('GET', `/v1/releases?channel=${encodeURIComponent(name)}&limit=50`),
    api('GET', `/v1/rollouts?channel=${encodeURIComponent(name)}&limit=50`)]);
  const c = chs.channels.find((x) => x.name === name);
  if (!c) return [h('h1', {}, 'Channel'), h('p', {class: 'error', role: 'alert'}, `No channel '${name}'.`)];
  const p = c.preflight;
  return [
    h('h1', {}, `Channel ${c.name}`),
    dl([['Description', c.description || '—'],
      ['Current release', c.current_release ? h('a', {href: `#/releases/${c.current_release}`}, `#${c.current_release}`) : 'none'],
      ['Preflight', p ? `${p.engine}, ${p.timeout_s} s, ${p.memory_mb} MB${p.corpus ? ', with a corpus' : ''}` : 'none'],
      ['Created', when(c.created_ms)]]),
    h('section', {'aria-labelledby': 'crel-h'}, h('h2', {id: 'crel-h'}, 'Releases'),
      table('Newest first (50)', RELEASE_HEAD, releaseRows(rels.releases))),
    h('section', {'aria-labelledby': 'cro-h'}, h('h2', {id: 'cro-h'}, 'Rollouts'),
      rolloutTable(`Rollouts on this channel, newest first${more(ros)}`, ros.rollouts)),
  ];
}
