// Cell "Tracking metrics and early stopping" (lab::early_stop): one run that overfits, each
// metric with its measured cost, and every stopping rule applied to the same recorded curve;
// a rule's knobs move its stop at once, without training again.
import { EarlyStop } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { pct } from '../ui.js';

const ms = (v) => (v == null ? '–' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);
const epochText = (e) => (e == null ? '–' : Number.isInteger(e) ? String(e) : e.toFixed(1));

/** The five rules from the knobs (one warm-up and monitor for all). */
function rules(v) {
  const shared = { warmup: v.warmup };
  return [
    { criterion: 'patience', patience: v.patience, minDelta: v['min-delta'], ...shared },
    { criterion: 'gl', alpha: v['gl-alpha'], ...shared },
    { criterion: 'pq', alpha: v['pq-alpha'], strip: v.strip, ...shared },
    { criterion: 'up', strip: v.strip, strips: v.strips, ...shared },
    { criterion: 'cumulative', window: v.window, minDelta: v['min-delta'], ...shared },
  ];
}

export function setup(ctx) {
  const tbody = document.querySelector('#early-stop-table tbody');
  const live = { live: true };
  return defineCell('early-stop', {
    controls: {
      n: { label: 'training digits', max: (c) => c.data.trainSize },
      hidden: { label: 'hidden sizes', kind: 'sizes' },
      lr: { label: 'Adam lr' },
      batch: { label: 'batch size', max: (c) => c.data.trainSize },
      epochs: { label: 'epochs' },
      full: {},
      monitor: {},
      every: { label: 'validate every', ...live },
      warmup: { label: 'warm-up', ...live },
      patience: { label: 'patience', ...live },
      'min-delta': { label: 'minDelta', ...live },
      'gl-alpha': { label: 'GL α', ...live },
      'pq-alpha': { label: 'PQ α', ...live },
      strip: { label: 'strip', ...live },
      strips: { label: 'UP strips', ...live },
      window: { label: 'window', ...live },
    },
    build(v, c) {
      const run = {
        hidden: v.hidden, seed: c.seed(), optimizer: 'adam', options: { lr: v.lr },
        batchSize: Math.min(v.batch, v.n), epochs: v.epochs, trainSubset: v.n, fullTrainError: v.full,
      };
      return new EarlyStop(c.data, { run, monitor: v.monitor, rules: rules(v), validateEvery: v.every });
    },
    live: (v, exp) => exp.setRules(rules(v), v.every),
    charts: {
      loss: { canvas: 'early-stop-loss', empty: (v) => ({ title: 'loss per epoch', xLabel: 'epoch', yLabel: 'cross-entropy', xMax: v.epochs ?? 60, yRange: [0, 2.5], series: [] }) },
      error: { canvas: 'early-stop-error', empty: (v) => ({ title: 'error per epoch', xLabel: 'epoch', yLabel: 'error rate', xMax: v.epochs ?? 60, yRange: [0, 1], series: [] }) },
    },
    readout(r) {
      const parts = [`epoch ${r.epoch}/${r.epochs}`];
      parts.push(`cost: loss free · training error ${r.trainPassMsPerEpoch == null ? 'counted on the fly (free)' : `+${ms(r.trainPassMsPerEpoch)} an epoch for the full pass`} · validation +${ms(r.validationMsPerCheck)} a check (training: ${ms(r.cost.stepsMs)} in all)`);
      if (r.best) parts.push(`best check: epoch ${epochText(r.best.epoch)}, validation error <b>${pct(r.best.valError)}</b>`);
      if (r.noise != null) parts.push(`noise floor ±${pct(r.noise)}`);
      let html = parts.join(' · ');
      if (r.message) html += ` — <span class="bad">${r.message}</span>`;
      const best = r.best;
      return { html, data: { bestEpoch: best ? String(best.epoch) : '', stops: r.rules.map((o) => o.stopEpoch ?? '').join(',') } };
    },
    update(r) {
      tbody.innerHTML = r.rules.map((o) => {
        const fired = o.stop != null;
        return `<tr data-rule="${o.name}" title="${o.reason.replace(/"/g, '&quot;')}">` +
          `<td>${o.name}</td>` +
          `<td data-col="stop">${fired ? epochText(o.stopEpoch) : 'never'}</td>` +
          `<td>${fired ? epochText(o.epochsSaved) : '0'}</td>` +
          `<td>${o.valErrorAtStop == null ? '–' : pct(o.valErrorAtStop)}</td>` +
          `<td>${o.testErrorBest == null ? '–' : pct(o.testErrorBest)}${o.bestEpoch == null ? '' : ` <small>(epoch ${epochText(o.bestEpoch)})</small>`}</td>` +
          `<td>${o.testErrorAtStop == null ? '–' : pct(o.testErrorAtStop)}</td>` +
          `<td>${o.regret == null ? '–' : `+${pct(o.regret)}`}</td></tr>`;
      }).join('');
    },
  }, ctx);
}
