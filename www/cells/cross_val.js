// Cell "Cross-validation" (lab::cross_val): k folds and repeated 80/20 holdouts of one network,
// trained in the worker pool; each fold's curves under their mean and band, the estimate with
// its spread beside the holdouts' scatter, and what each fold holds.
import { CrossValidation } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { pooled } from '../pool.js';
import { pct, escapeHtml } from '../ui.js';

let runs = 0;
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

export function setup(ctx) {
  const tbody = document.querySelector('#cross-val-table tbody');
  return defineCell('cross-val', {
    controls: {
      k: { label: 'k' },
      stratified: {},
      n: { label: 'training digits', max: (c) => c.data.trainSize },
      hidden: { label: 'hidden sizes', kind: 'sizes' },
      lr: { label: 'Adam lr' },
      batch: { label: 'batch size', max: (c) => c.data.trainSize },
      epochs: { label: 'epochs' },
      holdouts: { label: '80/20 holdouts' },
      rule: {},
      patience: { label: 'patience' },
    },
    build(v, c) {
      const run = { hidden: v.hidden, seed: c.seed(), optimizer: 'adam', options: { lr: v.lr }, batchSize: Math.min(v.batch, v.n), epochs: v.epochs };
      // a rule of section 8, with that section's defaults (patience from its own control)
      if (v.rule !== 'none') run.earlyStopping = { criterion: v.rule, ...(v.rule === 'patience' ? { patience: v.patience } : {}) };
      const exp = new CrossValidation(c.data, { run, n: v.n, k: v.k, stratified: v.stratified, holdouts: v.holdouts });
      return pooled(c.pool, exp, `cross-val-${++runs}`);
    },
    charts: {
      curves: { canvas: 'cross-val-curves', empty: (v) => ({ title: `${v.k ?? 5}-fold cross-validation: error per epoch`, xLabel: 'epoch', yLabel: 'error rate', xMax: v.epochs ?? 12, yRange: [0, 1], series: [] }) },
      estimates: { canvas: 'cross-val-estimates', empty: () => ({ title: 'estimates of the validation error', xLabel: 'validation error', yLabel: '', series: [] }) },
      folds: { canvas: 'cross-val-folds', empty: () => ({ kind: 'strips', title: 'what each fold holds out, by class', strips: [] }) },
    },
    readout(r, phase) {
      const parts = [];
      if (r.estimate) {
        const e = r.estimate;
        parts.push(`error = <b>${pct(e.mean)} ± ${pct(e.std)}</b> over ${e.n === r.k ? '' : `${e.n} of `}${r.k} folds`);
      } else parts.push(`${r.k}-fold cross-validation on ${r.n.toLocaleString()} digits`);
      if (r.holdoutSpread) {
        const h = r.holdoutSpread;
        parts.push(`one 80/20 holdout: ${pct(h.mean)} on average, but ±${pct(h.std)} from split to split (${h.n} seeds)`);
      }
      if (phase === 'running') parts.push(`${r.ended} of ${r.jobs} runs done`);
      else {
        const count = (w) => [...r.folds, ...r.holdouts, ...(r.retrain ? [r.retrain] : [])].filter((x) => x.status === w).length;
        const [stopped, cancelled] = [count('stopped'), count('cancelled')];
        parts.push(`${r.finished} of ${r.jobs} runs finished${stopped ? `, ${stopped} stopped mid-run` : ''}${cancelled ? `, ${cancelled} never started` : ''}`);
      }
      const where = r.workers > 0 ? `${r.workers} worker${r.workers > 1 ? 's' : ''}` : 'the page thread';
      parts.push(`cost: ${r.jobs} trainings, ${secs(r.computeMs)} of compute in ${secs(r.wallMs)} on ${where}`);
      parts.push(`fold sizes ${r.foldSizes.join(' / ')}, class counts differ by up to ${r.classImbalance} between folds`);
      if (r.bestEpochs) {
        const b = r.bestEpochs;
        parts.push(`best epoch per fold ${b.mean.toFixed(1)} ± ${b.std.toFixed(1)}`);
      }
      const f = r.finals;
      if (f) {
        const test = (e) => (e == null ? '…' : `<b>${pct(e)}</b>`);
        parts.push(`test error: retrained on all ${r.n.toLocaleString()} digits for ${f.retrainEpochs || '…'} epochs ${test(f.retrainTestError)}, average of the ${r.k} fold models ${test(f.ensembleTestError)}` +
          (f.foldTestErrors.length ? ` (each fold model alone: ${f.foldTestErrors.map(pct).join(', ')})` : ''));
      }
      // a run that failed (not one its stopping rule or the student ended)
      const failed = [...r.folds, ...r.holdouts].find((x) => x.message && (x.status === 'error' || x.status === 'diverged'));
      let html = parts.join(' · ');
      if (failed) html += ` — <span class="bad">${escapeHtml(failed.name)}: ${escapeHtml(failed.message)}</span>`;
      return {
        html,
        data: {
          finished: String(r.finished), jobs: String(r.jobs), estimate: r.estimate ? r.estimate.mean.toFixed(6) : '',
          retrain: r.finals?.retrainTestError == null ? '' : String(r.finals.retrainTestError),
          ensemble: r.finals?.ensembleTestError == null ? '' : String(r.finals.ensembleTestError),
        },
      };
    },
    update(r) {
      tbody.innerHTML = [...r.folds, ...r.holdouts, ...(r.retrain ? [r.retrain] : [])].map((x) =>
        `<tr data-run="${escapeHtml(x.name)}" data-status="${escapeHtml(x.status)}">` +
        `<td>${escapeHtml(x.name)}</td><td>${x.trainSize.toLocaleString()}</td><td>${x.validationSize.toLocaleString()}</td>` +
        `<td>${escapeHtml(x.status)}${x.status === 'running' ? ` (epoch ${x.epochsDone})` : ''}</td>` +
        `<td>${x.valError == null ? '–' : pct(x.valError)}</td>` +
        `<td>${x.bestEpoch == null ? '–' : `${x.bestEpoch} <small>(${pct(x.bestValError)})</small>`}${x.stoppedEpoch == null ? '' : ` <small>stopped at ${x.stoppedEpoch}</small>`}</td></tr>`).join('');
    },
  }, ctx);
}
