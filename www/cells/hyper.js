// Cell "Hyperparameter search" (lab::tuning): grid, random and Bayesian search with one budget
// on two hyperparameters — real MNIST trainings in the worker pool, or a synthetic objective
// over many seeds — each method's trials on the map, the best-so-far race, and the model behind
// each of Bayesian optimization's trials, browsed with ◀ / ▶; with "one trial at a time" the
// search waits after its initial design and "next trial" runs exactly one more of its trials.
import { HyperSearch } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { pooled } from '../pool.js';
import { escapeHtml, pct } from '../ui.js';

let runs = 0;
const $ = (id) => document.getElementById(id);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** Length-scales per axis, as the read-outs print them. */
const lengthScales = (r, ls) => ls.map((l, i) => `${escapeHtml(r.axes[i])} ${l < 10 ? l.toFixed(2) : l.toFixed(0)}`).join(', ');

export function setup(ctx) {
  const methodsBody = document.querySelector('#hyper-methods tbody');
  const trialsBody = document.querySelector('#hyper-table tbody');
  const modelBox = $('hyper-model');
  let last = null; // the last report, for ◀ / ▶ and next trial
  let current = null; // the running experiment (the pool's wrapper), for next trial
  const trialBtn = $('hyper-trial');
  const runOnBtn = $('hyper-run-on');
  const y = (r, v) => (v == null ? '–' : r.objective === 'mnist' ? pct(v) : v.toFixed(3));

  const cell = defineCell('hyper', {
    controls: {
      objective: {},
      x: { label: 'x axis' },
      y: { label: 'y axis' },
      budget: { label: 'budget' },
      seeds: { label: 'seeds' },
      n: { label: 'training digits', max: (c) => c.data.trainSize },
      validation: { label: 'validation digits', max: (c) => c.data.validationSize },
      width: { label: 'hidden width' },
      epochs: { label: 'epochs' },
      acquisition: {},
      xi: { label: 'ξ' },
      kappa: { label: 'κ' },
      step: { label: 'one trial at a time' },
      show: { label: 'model before trial', live: true },
      axis: { live: true },
    },
    budgetMs: 8,
    tableName: 'all trials',
    progressUnit: 'trials',
    build(v, c) {
      if (v.objective === 'mnist' && v.x === v.y) throw new Error(`x axis and y axis: pick two different hyperparameters (both are ${v.x})`);
      const parallel = Math.max(1, c.pool.size);
      const run = { hidden: [v.width], seed: c.seed(), optimizer: 'adam', options: { lr: 0.002 }, batchSize: 32, epochs: v.epochs };
      const exp = new HyperSearch(c.data, {
        objective: v.objective, axes: [v.x, v.y], run, n: v.n, validation: v.validation, budget: v.budget, seeds: v.seeds,
        parallel, acquisition: v.acquisition, xi: v.xi, kappa: v.kappa, step: v.step,
      });
      exp.inspect(v.show, Number(v.axis));
      current = pooled(c.pool, exp, `hyper-${++runs}`);
      return current;
    },
    live(v, exp) {
      exp.inner.inspect(v.show, Number(v.axis));
      exp.touch();
    },
    charts: {
      grid: { canvas: 'hyper-grid', empty: () => ({ kind: 'lines', title: 'grid search', xLabel: 'x', yLabel: 'y', series: [] }) },
      random: { canvas: 'hyper-random', empty: () => ({ kind: 'lines', title: 'random search', xLabel: 'x', yLabel: 'y', series: [] }) },
      bayes: { canvas: 'hyper-bayes', empty: () => ({ kind: 'lines', title: 'Bayesian optimization', xLabel: 'x', yLabel: 'y', series: [] }) },
      best: { canvas: 'hyper-best', empty: (v) => ({ title: 'best so far', xLabel: 'trial', yLabel: 'best error so far', xMax: v.budget ?? 16, yRange: [0, 1], series: [] }) },
      slice: { canvas: 'hyper-slice', empty: () => ({ title: 'the model along one axis', xLabel: '', yLabel: 'error', xMax: 1, yRange: [0, 1], series: [] }) },
      acquisition: { canvas: 'hyper-acq-slice', empty: () => ({ title: 'the acquisition along the same slice', xLabel: '', yLabel: 'score', xMax: 1, yRange: [0, 1], series: [] }) },
      mean: { canvas: 'hyper-mean', empty: () => ({ kind: 'lines', title: "the model's mean", series: [] }) },
      std: { canvas: 'hyper-std', empty: () => ({ kind: 'lines', title: "the model's σ", series: [] }) },
      'acquisition-map': { canvas: 'hyper-acq-map', empty: () => ({ kind: 'lines', title: 'the acquisition', series: [] }) },
    },
    readout(r, phase) {
      const parts = [];
      const what = r.objective === 'mnist' ? `validation error of ${r.axes.join(' × ')}` : `synthetic objective over ${r.seeds} seeds`;
      const done = r.methods.filter((m) => m.best != null);
      if (r.objective === 'synthetic' && r.methods.every((m) => m.medianBest != null)) {
        parts.push(`median best of ${r.budget} trials, ${what}: ` + r.methods.map((m) => `${escapeHtml(m.label)} <b>${m.medianBest.toFixed(3)}</b>`).join(', '));
      } else if (done.length) {
        parts.push(`best of ${r.budget} trials, ${what}: ` + done.map((m) => `${escapeHtml(m.label)} <b>${y(r, m.best)}</b>`).join(', '));
      } else parts.push(`${r.methods.length} methods × ${r.budget} trials, ${what}`);
      const grid = r.methods.find((m) => m.method === 'grid');
      const random = r.methods.find((m) => m.method === 'random');
      if (grid && random && grid.handed > 0) {
        parts.push(`distinct values of ${escapeHtml(r.axes[0])}: grid ${grid.distinct[0]}, random ${random.distinct[0]}`);
      }
      const bayesRow = r.methods.find((m) => m.method === 'bayes');
      if (phase === 'running' && r.waiting) {
        parts.push(`Bayesian optimization has run ${bayesRow.handed} of ${r.budget} trials and waits: <b>next trial</b> runs one more`);
      } else if (phase === 'running') parts.push(`${r.progress.done} of ${r.progress.total} trials done`);
      if (r.objective === 'mnist') {
        const where = r.workers > 0 ? `${r.workers} worker${r.workers > 1 ? 's' : ''}` : 'the page thread';
        parts.push(`${secs(r.computeMs)} of training in ${secs(r.wallMs)} on ${where}, Bayesian optimization keeps ${r.bayesBatch} out at once`);
      }
      let html = parts.join(' · ');
      if (r.failure) html += ` — <span class="bad">${escapeHtml(r.failure)}</span>`;
      const bayes = r.methods.find((m) => m.method === 'bayes');
      return {
        html,
        data: {
          trials: String(r.progress.done),
          grid: grid?.medianBest != null ? String(grid.medianBest) : grid?.best != null ? String(grid.best) : '',
          random: random?.medianBest != null ? String(random.medianBest) : random?.best != null ? String(random.best) : '',
          bayes: bayes?.medianBest != null ? String(bayes.medianBest) : bayes?.best != null ? String(bayes.best) : '',
        },
      };
    },
    update(r, phase) {
      last = r;
      const bayesRow = r.methods.find((x) => x.method === 'bayes');
      // next trial: one more trial while the search waits, else (no step-by-step run going) start one
      trialBtn.disabled = phase === 'running' && !r.waiting;
      runOnBtn.disabled = !(phase === 'running' && r.stepping);
      modelBox.dataset.bayesTrials = String(bayesRow?.handed ?? 0);
      modelBox.dataset.waiting = String(Boolean(r.waiting));
      methodsBody.innerHTML = r.methods.map((m) =>
        `<tr data-method="${m.method}"><td>${escapeHtml(m.label)}</td>` +
        `<td>${y(r, m.best)}${m.bestTrial == null ? '' : ` <small>(trial ${m.bestTrial}${r.seeds > 1 ? ', seed 1' : ''})</small>`}</td>` +
        `<td>${m.bestValues.map(escapeHtml).join(', ') || '–'}</td>` +
        `<td>${m.medianBest == null ? '–' : `${y(r, m.medianBest)} <small>(${y(r, m.quartiles[0])}–${y(r, m.quartiles[1])})</small>`}</td>` +
        `<td>${m.distinct.join(' / ')} <small>in ${m.handed} trials</small></td></tr>`).join('');
      $('hyper-trial-count').textContent = `(${r.trials.length}${r.seeds > 1 ? ', seed 1' : ''})`;
      trialsBody.innerHTML = r.trials.map((t) =>
        `<tr data-method="${t.method}" data-status="${escapeHtml(t.status)}"><td>${t.method}</td><td>${t.trial}${t.proposal == null ? '' : ' <small>model</small>'}</td>` +
        `<td>${escapeHtml(t.values[0])}</td><td>${escapeHtml(t.values[1])}</td><td>${escapeHtml(t.status)}</td><td>${y(r, t.y)}</td></tr>`).join('');
      const m = r.model;
      // MNIST: the maps behind the trials come from a model of their own, fitted on every result
      const maps = r.mapLengthScales
        ? ` The maps above are drawn from a model fitted on every result so far; its length-scales: ${lengthScales(r, r.mapLengthScales)}.`
        : '';
      if (!m) {
        modelBox.textContent = !bayesRow
          ? 'Bayesian optimization is not among the methods.'
          : r.waiting
            ? 'The initial trials (5 spread-out points of a Latin hypercube) are in: press next trial for the model\'s first choice.'
            : 'The model appears after the initial trials (5 spread-out points of a Latin hypercube).';
        if (maps) modelBox.innerHTML = escapeHtml(modelBox.textContent) + maps;
        modelBox.dataset.trial = '';
        return;
      }
      const ls = lengthScales(r, m.lengthScales);
      const short = m.lengthScales[0] < m.lengthScales[1] ? 0 : 1;
      modelBox.innerHTML = `The model before trial <b>${m.trial}</b> (decision ${m.proposal + 1} of ${m.proposals}): ` +
        `${m.observed} results${m.pending ? ` and ${m.pending} trial${m.pending > 1 ? 's' : ''} still running (lied about with the worst error)` : ''}, best so far ${y(r, m.best)}; ` +
        `it chose ${m.values.map(escapeHtml).join(', ')}. Length-scales (1 = the whole range): ${ls} — the model thinks <b>${escapeHtml(r.axes[short])}</b> matters more.${maps}`;
      modelBox.dataset.trial = String(m.trial);
    },
  }, ctx);

  // ◀ / ▶ step through the model's decisions (0 in the box: always the latest)
  const showEl = $('hyper-show');
  const step = (d) => {
    const m = last?.model;
    if (!m) return;
    const t = m.trial + d;
    showEl.value = String(t >= m.lastTrial ? 0 : Math.max(m.firstTrial, t));
    showEl.dispatchEvent(new Event('change'));
  };
  $('hyper-prev').addEventListener('click', () => step(-1));
  $('hyper-next').addEventListener('click', () => step(1));

  // next trial: while a step-by-step run waits, exactly one more trial (and the latest model
  // shown); otherwise a new run that goes one trial at a time
  const stepEl = $('hyper-step');
  trialBtn.addEventListener('click', () => {
    if (current && last?.waiting && last.status === 'running') {
      if (!current.inner.stepBayes()) return;
      if (showEl.value !== '0') {
        showEl.value = '0';
        showEl.dispatchEvent(new Event('change'));
      }
      current.touch();
      trialBtn.disabled = true; // until the trial has run
      return;
    }
    if (!stepEl.checked) {
      stepEl.checked = true;
      stepEl.dispatchEvent(new Event('change'));
    }
    cell.start();
  });
  runOnBtn.addEventListener('click', () => {
    if (!current) return;
    current.inner.runOn();
    current.touch();
    runOnBtn.disabled = true;
  });
  return cell;
}
