// Cell "Overfitting curves" (lab::overfit): error by epoch of a large network over k folds
// (real and smoothed, the onset marked), a validation curve over widths, a learning curve over
// training-set sizes, and the optimism of choosing by the test set — all through the pool.
import { OverfitCurves } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { pooled } from '../pool.js';
import { escapeHtml, pct } from '../ui.js';

let runs = 0;

/** "0.1, 0.5, 1" → [0.1, 0.5, 1]; throws an Error naming the control. */
function fractions(text) {
  const parts = text.split(/[,\s]+/).filter(Boolean).map(Number);
  if (parts.length === 0 || parts.length > 10 || parts.some((f) => !(f > 0 && f <= 1))) {
    throw new Error(`fractions: "${text}" should be 1 to 10 numbers above 0 and at most 1, separated by commas`);
  }
  return parts;
}

export function setup(ctx) {
  const tbody = document.querySelector('#overfit-table tbody');
  return defineCell('overfit', {
    controls: {
      k: { label: 'k' },
      n: { label: 'training digits', max: (c) => c.data.trainSize },
      hidden: { label: 'large network', kind: 'sizes' },
      lr: { label: 'Adam lr' },
      batch: { label: 'batch size', max: (c) => c.data.trainSize },
      epochs: { label: 'epochs' },
      widths: { label: 'widths', kind: 'sizes' },
      fractions: { label: 'fractions', kind: 'text' },
      'sweep-epochs': { label: 'sweep epochs' },
      reuse: {},
    },
    build(v, c) {
      const run = { hidden: v.hidden, seed: c.seed(), optimizer: 'adam', options: { lr: v.lr }, batchSize: Math.min(v.batch, v.n), epochs: v.epochs };
      const spec = { run, n: v.n, k: v.k, widths: v.widths, fractions: fractions(v.fractions), sweepEpochs: v['sweep-epochs'], reuse: v.reuse };
      return pooled(c.pool, new OverfitCurves(c.data, spec), `overfit-${++runs}`);
    },
    charts: {
      real: { canvas: 'overfit-real', empty: (v) => ({ title: 'real: each fold, their mean and spread', xLabel: 'epoch', yLabel: 'cross-entropy', xMax: v.epochs ?? 40, yRange: [0, 2.5], series: [] }) },
      idealized: { canvas: 'overfit-idealized', empty: (v) => ({ title: 'idealized: the mean, smoothed', xLabel: 'epoch', yLabel: 'cross-entropy', xMax: v.epochs ?? 40, yRange: [0, 2.5], series: [] }) },
      widths: { canvas: 'overfit-widths-chart', empty: () => ({ title: 'validation curve: error vs width', xLabel: 'hidden width (log₂)', yLabel: 'error rate', yRange: [0, 1], series: [] }) },
      sizes: { canvas: 'overfit-sizes', empty: () => ({ title: 'learning curve: error vs data', xLabel: 'training digits', yLabel: 'error rate', yRange: [0, 1], series: [] }) },
    },
    readout(r) {
      const parts = [];
      if (r.onset != null) {
        const [lo, hi] = r.onsetRange;
        parts.push(`overfitting starts ≈ epoch <b>${r.onset}</b> (smoothed); the data cannot tell epochs ${lo}–${hi} apart`);
      }
      if (r.bestWidth != null) parts.push(`lowest cross-validated error at width ${r.bestWidth}`);
      const full = r.sizes.at(-1);
      if (full?.valError && full?.trainError) parts.push(`gap at ${full.x} digits: ${pct(full.valError.mean - full.trainError.mean)}`);
      const u = r.reuse;
      if (u?.byTest) {
        const [w, a, b] = u.byTest;
        parts.push(`chosen by test half A: width ${w}, quoted ${pct(a)}, on unseen half B <b>${pct(b)}</b> (the quote is off by ${(100 * (a - b)).toFixed(1)} points)`);
        if (u.byValidation) parts.push(`chosen by cross-validation: width ${u.byValidation[0]}, half B ${pct(u.byValidation[1])}`);
      }
      parts.push(`${r.ended} of ${r.jobs} runs done`);
      let html = parts.join(' · ');
      if (r.message) html += ` — <span class="bad">${escapeHtml(r.message)}</span>`;
      return { html, data: { onset: r.onset == null ? '' : String(r.onset), optimism: u?.optimism == null ? '' : String(u.optimism), ended: String(r.ended), jobs: String(r.jobs) } };
    },
    update(r) {
      const cell = (s) => (s ? `${pct(s.mean)} <small>± ${pct(s.std)}</small>` : '–');
      tbody.innerHTML = r.widths.map((p, i) =>
        `<tr data-width="${p.x}"><td>${p.x}</td><td>${cell(p.valError)}</td><td>${cell(p.trainError)}</td>` +
        `<td>${r.reuse?.a[i] == null ? '–' : pct(r.reuse.a[i])}</td><td>${r.reuse?.b[i] == null ? '–' : pct(r.reuse.b[i])}</td></tr>`).join('');
    },
  }, ctx);
}
