// stream.js - the server's push channel, GET /v1/stream (Server-Sent
// Events). EventSource cannot send an Authorization header, so the stream
// is read with fetch(): the token stays out of the URL. After a drop it
// reconnects (1 s, doubling to 30 s) with Last-Event-ID, and the server
// replays what was missed, or sends `reset` when it cannot.
import {token} from './api.js';

// Parses SSE text: feeds complete events to onEvent({id, event, data});
// returns the unfinished tail.
export function parse(buffer, onEvent) {
  let at;
  while ((at = buffer.search(/\r?\n\r?\n/)) >= 0) {
    const block = buffer.slice(0, at);
    buffer = buffer.slice(at + (buffer[at] === '\r' ? 4 : 2));
    const ev = {id: null, event: 'message', data: ''};
    let hasData = false;
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') ev.id = value;
      else if (field === 'event') ev.event = value;
      else if (field === 'data') { ev.data += (hasData ? '\n' : '') + value; hasData = true; }
    }
    if (hasData) onEvent(ev);
  }
  return buffer;
}

// Keeps a stream open while the page is; calls onEvent for each event and
// onState('live' | 'reconnecting' | 'refused: ...') when that changes.
// Returns a function that closes it.
export function openStream(onEvent, onState) {
  let lastId = null, stopped = false, delay = 1000, ctrl = null, timer = null;
  async function once() {
    ctrl = new AbortController();
    const headers = {Authorization: `Bearer ${token.get()}`, Accept: 'text/event-stream'};
    if (lastId) headers['Last-Event-ID'] = lastId;
    const r = await fetch('/v1/stream', {headers, signal: ctrl.signal, cache: 'no-store'});
    if (!r.ok) {
      let msg = `HTTP ${r.status}`;
      try { msg = (await r.json()).error.message; } catch { /* keep it */ }
      const e = new Error(msg);
      e.status = r.status;
      throw e;
    }
    onState('live');
    delay = 1000;
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      buf = parse(buf + value, (ev) => {
        if (ev.id) lastId = ev.id;
        onEvent(ev);
      });
    }
  }
  async function loop() {
    while (!stopped) {
      try {
        await once();
        if (!stopped) onState('reconnecting');
      } catch (e) {
        if (stopped) return;
        if (e.status === 401) { onState('refused: ' + e.message); return; }
        onState(e.status ? `reconnecting (${e.message})` : 'reconnecting');
      }
      await new Promise((res) => { timer = setTimeout(res, delay); });
      delay = Math.min(30000, delay * 2);
    }
  }
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (ctrl) ctrl.abort();
  };
}
