// Cell "L1 and L2" (lab::regularization): none, L1, L2 and (under Adam) AdamW from one seed
// on a small training subset; the first layer's weight magnitudes and pictures; λ₁, λ₂, their
// convention and the L1 mode move while the runs train.
import { LambdaSweep, Regularization } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { pooled } from '../pool.js';
import { escapeHtml, pct } from '../ui.js';

let sweeps = 0;

/** λ from a log₁₀ slider, rounded to 2 significant digits (what the read-out shows). */
const lambda = (log10) => Number((10 ** log10).toPrecision(2));
const num = (x) => (x === 0 ? '0' : x < 1e-4 || x >= 1e3 ? x.toExponential(1) : String(Number(x.toPrecision(2))));
const CONVENTIONS = { pytorch: 'PyTorch weight_decay', keras: 'Keras l2', playground: 'TF Playground rate' };

export function setup(ctx) {
  const tbody = document.querySelector('#l1-l2-table tbody');
  const line = document.getElementById('l1-l2-lambda');
  const live = { live: true };
  const title = (t) => ({ title: t, xLabel: 'epoch', yLabel: 'error rate', xMax: 30, yRange: [0, 0.3], series: [] });
  const showLambda = (v) => {
    line.innerHTML = `λ₁ = ${num(lambda(v.l1))} · λ₂ = ${num(lambda(v.l2))} as ${CONVENTIONS[v.convention]}`;
  };
  const cell = defineCell('l1-l2', {
    controls: {
      n: { label: 'training digits', max: (c) => c.data.trainSize },
      hidden: { label: 'hidden sizes', kind: 'sizes' },
      optimizer: {},
      lr: { label: 'lr' },
      batch: { label: 'batch size', max: (c) => c.data.trainSize },
      epochs: { label: 'epochs' },
      l1: { label: 'log₁₀ λ₁', kind: 'number', ...live },
      l2: { label: 'log₁₀ λ₂', kind: 'number', ...live },
      convention: { ...live },
      mode: { label: 'L1 by', ...live },
    },
    build(v, c) {
      const run = {
        hidden: v.hidden, seed: c.seed(), optimizer: v.optimizer, options: { lr: v.lr },
        batchSize: Math.min(v.batch, v.n), epochs: v.epochs, trainSubset: v.n,
      };
      showLambda(v);
      return new Regularization(c.data, {
        run, l1: lambda(v.l1), l2: lambda(v.l2), l2Convention: v.convention, l1Mode: v.mode,
        decoupled: v.optimizer === 'adam', unitsShown: Math.min(16, v.hidden[0]),
      });
    },
    live: (v, exp) => {
      showLambda(v);
      exp.setPenalty(lambda(v.l1), lambda(v.l2), v.convention, v.mode);
    },
    charts: {
      error: { canvas: 'l1-l2-error', empty: (v) => ({ ...title('error per epoch (dashed: training)'), xMax: v.epochs ?? 30 }) },
      magnitudes: { canvas: 'l1-l2-magnitudes', empty: () => ({ kind: 'logHistogram', title: 'first layer: weight magnitudes', xLabel: '|w| (log scale)', yLabel: "% of the layer's weights", groups: [] }) },
      weights0: { canvas: 'l1-l2-weights0', empty: () => ({ title: 'none: first-layer units', series: [] }) },
      weights1: { canvas: 'l1-l2-weights1', empty: () => ({ title: 'L1: first-layer units', series: [] }) },
      weights2: { canvas: 'l1-l2-weights2', empty: () => ({ title: 'L2: first-layer units', series: [] }) },
      weights3: { canvas: 'l1-l2-weights3', empty: () => ({ title: 'AdamW: first-layer units (Adam only)', series: [] }) },
    },
    readout(r) {
      const c = r.conventions;
      const parts = [`${r.progress.done.toLocaleString()} / ${r.progress.total.toLocaleString()} steps`];
      parts.push(`L1 by ${r.l1Mode}, λ₁ = ${num(r.l1)}`);
      parts.push(`λ₂ = ${num(c.pytorch)} here = PyTorch weight_decay ${num(c.pytorch)} = Keras l2(${num(c.keras)}) = Playground rate ${num(c.playground)}`);
      let html = parts.join(' · ');
      const bad = r.runs.find((x) => x.message && x.status !== 'finished');
      if (bad) html += ` — <span class="bad">${escapeHtml(bad.label)}: ${escapeHtml(bad.message)}</span>`;
      const l1 = r.runs.find((x) => x.label === 'L1');
      return { html, data: { zerosL1: l1 ? String(l1.zeros) : '', runs: String(r.runs.length) } };
    },
    update(r) {
      // AdamW's pictures only exist under Adam
      document.getElementById('l1-l2-weights3').hidden = r.runs.length < 4;
      tbody.innerHTML = r.runs.map((x) => {
        const last = x.last;
        return `<tr data-run="${escapeHtml(x.label)}"><td>${escapeHtml(x.label)}</td><td>${escapeHtml(x.regularizer)}</td>` +
          `<td>${last ? pct(last.val_error) : '–'}</td><td>${last ? pct(last.train_error) : '–'}</td>` +
          `<td data-col="zeros">${x.zeros.toLocaleString()} of ${x.weights.toLocaleString()} (${pct(x.zeros / x.weights)})</td>` +
          `<td>${x.weightNorm.toFixed(2)}</td></tr>`;
      }).join('');
    },
  }, ctx);
  // the λ line follows the sliders as they move, before or during a run
  const refresh = () => {
    try { showLambda(cell.values()); } catch { /* a bad value is reported when Run is pressed */ }
  };
  for (const name of ['l1', 'l2', 'convention']) cell.controls[name].el.addEventListener('input', refresh);
  refresh();
  const sweep = setupSweep(ctx, cell);
  return { ...cell, render: () => { cell.render(); sweep.render(); } };
}

/** The validation curve over log λ: one pooled run per λ with the settings of the cell above. */
function setupSweep(ctx, main) {
  return defineCell('l1-l2-sweep', {
    controls: {
      penalty: {},
      from: { label: 'log₁₀ λ from' },
      to: { label: 'to' },
      points: { label: 'points' },
      epochs: { label: 'epochs' },
    },
    build(v, c) {
      const m = main.values();
      const run = {
        hidden: m.hidden, seed: c.seed(), optimizer: m.optimizer, options: { lr: m.lr },
        batchSize: Math.min(m.batch, m.n), epochs: v.epochs, trainSubset: m.n, l1Mode: m.mode,
      };
      return pooled(c.pool, new LambdaSweep(c.data, { run, penalty: v.penalty, from: v.from, to: v.to, points: v.points }), `l1-l2-sweep-${++sweeps}`);
    },
    charts: {
      sweep: { canvas: 'l1-l2-sweep-chart', empty: (v) => ({ title: 'validation curve over λ', xLabel: 'log₁₀ λ', yLabel: 'error rate', xMax: 0, yRange: [0, 0.3], series: [{ name: '', x: [v.from ?? -5], y: [0], color: 0 }] }) },
    },
    readout(r) {
      const which = r.penalty === 'l1' ? 'λ₁' : 'λ₂';
      const parts = [];
      if (r.best != null) {
        parts.push(`best ${which} = <b>${num(r.best)}</b>: validation error ${pct(r.bestValError)}${r.noise == null ? '' : ` ± ${pct(r.noise)}`}`);
        if (r.baseline.valError != null) parts.push(`no penalty ${pct(r.baseline.valError)}`);
      }
      parts.push(`${r.ended} of ${r.jobs} runs done`);
      let html = parts.join(' · ');
      if (r.message) html += ` — <span class="bad">${escapeHtml(r.message)}</span>`;
      return { html, data: { best: r.best == null ? '' : String(r.best), ended: String(r.ended), jobs: String(r.jobs) } };
    },
  }, ctx);
}
