// dom.js - building the page from data without HTML strings: every text
// goes in as a text node, so nothing the server or a user sends can become
// markup (the Content-Security-Policy allows no inline script either).

// h('a', {href: '#/'}, 'text', child, [children]) -> Element. Props named
// on* are listeners; class, for, aria-*, data-*, role... are attributes.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replaces el's children with children.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// "3 s ago", "5 min ago", ... for a time in ms since the epoch (0: never).
export function ago(ms, now = Date.now()) {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

// A time as local "YYYY-MM-DD HH:MM:SS".
export function when(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function pct(part, whole) {
  if (!whole) return '0%';
  const v = (100 * part) / whole;
  return `${v < 10 && v > 0 ? v.toFixed(1) : Math.round(v)}%`;
}

// A labelled progress bar (value of max).
export function bar(label, value, max) {
  return h('progress', {value: Math.max(0, value), max: Math.max(1, max),
    'aria-label': label, title: `${label}: ${pct(value, max)}`});
}

// A state badge: running, held, paused, halted, completed...
export function badge(state) {
  return h('span', {class: `badge s-${state}`}, state.replace('_', ' '));
}

// A description list of [term, value] pairs.
export function dl(pairs) {
  return h('dl', {}, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// A table: head is a list of column names, rows a list of cell lists.
export function table(caption, head, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))
      : h('tr', {}, h('td', {colspan: head.length, class: 'none'}, 'none'))));
}
