// Cell "Dropout" (lab::dropout): the overfitting network with and without dropout from one
// seed; then, on a probe of validation digits, train vs evaluation mode per epoch, the scaling
// lab (inverted dropout, weight scaling and the two mistakes) and the ensemble of dropout passes.
// The hidden and the input p move while the runs train.
import { Dropout } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { escapeHtml, pct } from '../ui.js';

/** A probability the core holds as f32, as the student typed it (0.2, not 0.20000000298). */
const prob = (x) => String(Number(x.toPrecision(6)));

export function setup(ctx) {
  const tbody = document.querySelector('#dropout-table tbody');
  const lines = (title, xLabel, xMax) => ({ title, xLabel, yLabel: 'error rate', xMax, yRange: [0, 0.5], series: [] });
  return defineCell('dropout', {
    controls: {
      p: { label: 'dropout p', live: true },
      inputP: { label: 'input p', el: 'dropout-input-p', live: true },
      n: { label: 'training digits', max: (c) => c.data.trainSize },
      hidden: { label: 'hidden sizes', kind: 'sizes' },
      lr: { label: 'SGD lr' },
      batch: { label: 'batch size', max: (c) => c.data.trainSize },
      epochs: { label: 'epochs' },
      passes: { label: 'passes' },
    },
    build(v, c) {
      const run = { hidden: v.hidden, seed: c.seed(), optimizer: 'sgd', options: { lr: v.lr }, batchSize: Math.min(v.batch, v.n), epochs: v.epochs, trainSubset: v.n };
      return new Dropout(c.data, { run, p: v.p, inputP: v.inputP, passes: v.passes, probe: 500 });
    },
    live: (v, exp) => exp.setP(v.p, v.inputP),
    charts: {
      error: { canvas: 'dropout-error', empty: (v) => lines('error per epoch (dashed: training)', 'epoch', v.epochs ?? 30) },
      modes: { canvas: 'dropout-modes', empty: (v) => lines('dropout run: train vs eval mode', 'epoch', v.epochs ?? 30) },
      ensemble: { canvas: 'dropout-ensemble', empty: (v) => lines('the ensemble view', 'log₂ K (passes averaged)', Math.log2(v.passes ?? 64)) },
      disputed: { canvas: 'dropout-disputed', empty: () => ({ title: 'digits the passes disagree on most: after training', series: [] }) },
    },
    readout(r) {
      const parts = [];
      for (const x of r.runs) {
        if (x.last) parts.push(`${escapeHtml(x.label)}: validation error <b>${pct(x.last.val_error)}</b> (training ${pct(x.last.train_error)})`);
      }
      const m = r.modes.at(-1);
      if (m) parts.push(`epoch ${m.epoch}, ${r.probe} digits: eval mode ${pct(m.evalError)}, train mode ${pct(m.trainModeError)}`);
      if (r.ensemble.length > 0) {
        const [k, e] = r.ensemble.at(-1);
        parts.push(`average of ${k} passes ${pct(e)} vs eval mode ${pct(r.evalError)} · passes disagree on ${pct(r.disagreement)} of votes`);
      } else if (r.status === 'running' && r.runs.every((x) => x.status !== 'running')) {
        parts.push('taking the trained network apart…');
      }
      const ps = `dropout run: p ${prob(r.p)}, input p ${prob(r.inputP)}`;
      const moved = r.changes.map(([epoch, what]) => `${escapeHtml(what)} at epoch ${epoch.toFixed(1)}`);
      parts.push(moved.length > 0 ? `${ps} (${moved.join(', ')})` : ps);
      let html = parts.join(' · ');
      const bad = r.runs.find((x) => x.message && x.status !== 'finished');
      if (bad) html += ` — <span class="bad">${escapeHtml(bad.label)}: ${escapeHtml(bad.message)}</span>`;
      return { html, data: { passes: String(r.passesDone), scaling: String(r.scaling.length), p: prob(r.p), inputP: prob(r.inputP), changes: String(r.changes.length) } };
    },
    update(r) {
      if (r.scaling.length === 0) return;
      tbody.innerHTML = r.scaling.map((s) =>
        `<tr data-correct="${s.correct}"><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.how)}</td>` +
        `<td data-col="error">${pct(s.error)}</td><td data-col="loss">${s.loss.toFixed(3)}</td></tr>`).join('');
    },
  }, ctx);
}
