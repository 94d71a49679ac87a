// dialog.js - the reason dialog in front of every operator action: a modal
// <dialog> (focus trapped, Escape cancels) whose reason is required and
// sent with the action; the audit log keeps it.
import {api} from './api.js';
import {fill, h} from './dom.js';

export function reasonDialog(r, action, status, redraw) {
  const input = h('textarea', {id: 'reason', required: true, maxlength: 512, rows: 3});
  const error = h('p', {class: 'error', role: 'alert'});
  const dlg = h('dialog', {'aria-labelledby': 'dlg-title'},
    h('form', {method: 'dialog', onsubmit: async (ev) => {
      ev.preventDefault();
      const reason = input.value.trim();
      if (!reason) { fill(error, 'A reason is required.'); input.focus(); return; }
      try {
        await api('POST', `/v1/rollouts/${r.id}/${action}`, {reason});
      } catch (e) {
        fill(error, e.message);
        return;
      }
      dlg.close();
      fill(status, `${action} done: ${reason}`);
      redraw();
    }},
    h('h2', {id: 'dlg-title'}, `${action[0].toUpperCase()}${action.slice(1)} rollout #${r.id}`),
    h('label', {for: 'reason'}, 'Reason (kept in the audit log)'), input, error,
    h('div', {class: 'actions'},
      h('button', {type: 'submit', id: 'dlg-confirm'}, action),
      h('button', {type: 'button', id: 'dlg-cancel', onclick: () => dlg.close()}, 'Cancel'))));
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  input.focus();
}
