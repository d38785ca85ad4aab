// Cell "Batch normalization" (lab::batch_norm): one deep network plain and with batch-norm (and
// optionally noisy batch-norm) from one seed, looked inside as it trains: a unit's input
// percentiles, every layer's activations, running vs whole-training-set statistics, train vs
// eval by batch size, every unit's γ and β, the γ/β identity exercise and the loss along the
// gradient.
import { BatchNormCell } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { pct, escapeHtml } from '../ui.js';

const $ = (id) => document.getElementById(id);
/** Milliseconds of work per frame: the looks inside and the charts take the rest. */
const BUDGET_MS = 10;
const num = (v) => (v == null || !Number.isFinite(v) ? '–' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? String(+v.toPrecision(3)) : v.toExponential(2));

/** chart name → canvas id */
const PLOTS = {
  loss: 'batch-norm-loss',
  error: 'batch-norm-error',
  percentiles: 'batch-norm-percentiles',
  percentilesBn: 'batch-norm-percentiles-bn',
  activations: 'batch-norm-activations',
  activationsBn: 'batch-norm-activations-bn',
  runningMean: 'batch-norm-running-mean',
  runningVar: 'batch-norm-running-var',
  affine: 'batch-norm-affine-chart',
  smoothness: 'batch-norm-smoothness',
  profile: 'batch-norm-profile',
};

/** Axes with nothing on them yet (what the lab's charts look like before a step). */
function empty(name, v) {
  const layer = v.layer ?? 3;
  const titles = {
    loss: ['training loss (moving average, β = 0.9)', 'step', 'cross-entropy'],
    error: ['validation error', 'step', 'error rate'],
    percentiles: [`plain: layer ${layer}, unit ${v.unit ?? 1}'s input`, 'step', 'input to the non-linearity'],
    percentilesBn: [`batch-norm: layer ${layer}, unit ${v.unit ?? 1}'s input`, 'step', 'input to the non-linearity'],
    activations: ['plain: activations per layer', 'hidden layer', 'output'],
    activationsBn: ['batch-norm: activations per layer', 'hidden layer', 'output'],
    runningMean: [`layer ${layer}: running mean`, 'step', "mean of the Linear's output"],
    runningVar: [`layer ${layer}: running variance`, 'step', "variance of the Linear's output"],
    affine: [`batch-norm: layer ${layer}'s γ and β per unit`, 'unit', 'γ, β'],
    smoothness: ['loss along the gradient, η from lr/4 to 8·lr', 'step', 'cross-entropy'],
    profile: ['loss at w − η·g, last look', 'step size η', 'cross-entropy'],
  };
  const [title, xLabel, yLabel] = titles[name];
  return { kind: 'lines', title, xLabel, yLabel, series: [] };
}

/**
 * The experiment drawing two of its eleven plots a frame while it trains, and all of them once it
 * has stopped (defineCell draws every chart each frame). A plot whose turn has not come keeps its
 * last picture.
 */
function twoPlotsAFrame(exp) {
  const names = Object.keys(PLOTS);
  let turn = 0;
  let training = true;
  return {
    runFor(ms) {
      training = exp.runFor(ms);
      turn = (turn + 2) % names.length;
      return training;
    },
    draw(name, canvas, dpr) {
      const i = names.indexOf(name);
      if (!training || i === turn || i === (turn + 1) % names.length) exp.draw(name, canvas, dpr);
    },
    report: () => exp.report(),
    chart: (name) => exp.chart(name),
    identity: (g, b) => exp.identity(g, b),
    stop() {
      training = false;
      exp.stop();
    },
    free: () => exp.free(),
  };
}

function runLine(r) {
  const err = r.valError == null ? '–' : pct(r.valError);
  const best = r.bestValError == null ? '' : ` (best ${pct(r.bestValError)})`;
  const status = r.status === 'diverged' ? ` <span class="bad">${escapeHtml(r.message ?? 'diverged')}</span>` : '';
  const p = r.percentiles ? ` · unit input 15/50/85%: ${r.percentiles.map(num).join(' / ')}` : '';
  return `<b>${r.name}</b> (${r.backend}): validation error ${err}${best}${p}${status}`;
}

export function setup(ctx) {
  let current = null;
  const modes = document.querySelector('#batch-norm-modes tbody');
  const affine = document.querySelector('#batch-norm-affine tbody');
  const identityOut = $('batch-norm-identity');

  const cell = defineCell('batch-norm', {
    controls: {
      hidden: { label: 'hidden sizes', kind: 'sizes', min: 1, max: 4096 },
      activation: {},
      lr: { label: 'SGD lr' },
      batch: { label: 'batch size', max: (c) => c.data.trainSize },
      epochs: { label: 'epochs' },
      layer: { label: 'layer' },
      unit: { label: 'unit' },
      momentum: { label: 'momentum' },
      noisy: {},
      noise: { label: 'noise' },
      every: { label: 'look every' },
    },
    error: 'batch-norm-error-msg',
    budgetMs: BUDGET_MS,
    reset: () => { current = null; }, // the core restarted: the run is gone
    build: (v, c) => {
      current = twoPlotsAFrame(new BatchNormCell(c.data, {
        seed: c.seed(), hidden: v.hidden, activation: v.activation, lr: v.lr, batchSize: v.batch, epochs: v.epochs,
        layer: v.layer, unit: v.unit, bnMomentum: v.momentum, noise: v.noisy ? v.noise : 0, traceEvery: v.every,
      }));
      identityOut.textContent = '';
      return current;
    },
    charts: Object.fromEntries(Object.entries(PLOTS).map(([name, canvas]) => [name, { canvas, empty: (v) => empty(name, v) }])),
    readout(r) {
      const lines = r.runs.map(runLine);
      if (r.running) {
        const units = r.units.join(', ');
        lines.push(`running statistics of layer ${r.layer}, units ${units} at step ${r.running.step}: mean ${r.running.mean.map(num).join(', ')}, ` +
          `variance ${r.running.var.map(num).join(', ')} (momentum ${num(r.momentum)} in PyTorch's convention = ${num(r.kerasMomentum)} in Keras's)`);
      }
      if (r.population) {
        lines.push(`whole training set (${r.trainSize.toLocaleString()} digits) at step ${r.population.step}: mean ${r.population.mean.map(num).join(', ')}, ` +
          `variance ${r.population.var.map(num).join(', ')}`);
      }
      const prof = r.runs.filter((x) => x.profile).map((x) => `${x.name} ${num(x.profile.range)} (|g| ${num(x.profile.gradNorm)})`);
      if (prof.length) lines.push(`loss range along the gradient: ${prof.join(' · ')}`);
      const errors = r.runs.map((x) => x.valError ?? NaN).join(',');
      return { html: lines.join('<br>'), data: { steps: String(r.progress.done), modes: String(r.modes.length), errors } };
    },
    update(r) {
      if (r.modes.length) {
        modes.innerHTML = r.modes.map((m) => `<tr><td>${m.batch}</td><td>${pct(m.trainMode)}</td><td>${pct(m.evalMode)}</td></tr>`).join('');
      }
      if (r.affine.length) {
        affine.innerHTML = r.affine.map((a) => `<tr><td>${a.unit}</td><td>${num(a.gamma)}</td><td>${num(a.beta)}</td><td>${num(a.runningMean)}</td><td>${num(a.runningVar)}</td></tr>`).join('');
      }
    },
  }, ctx);

  $('batch-norm-check').addEventListener('click', () => {
    if (!current) {
      identityOut.textContent = 'Run the cell first: the check uses the trained batch-norm network.';
      identityOut.dataset.state = 'idle';
      return;
    }
    try {
      const r = current.identity($('batch-norm-gamma').value, $('batch-norm-beta').value);
      // float precision relative to the size of the inputs, the native test's criterion: f32
      // keeps about 7 digits, so a z near 100 comes back off by ~1e-5 from rounding alone
      const ok = r.maxDifference <= 1e-5 * Math.max(1, r.maxInput);
      identityOut.dataset.state = ok ? 'finished' : 'stopped';
      identityOut.dataset.difference = String(r.maxDifference);
      identityOut.innerHTML = `layer ${r.layer}, step ${r.step}, ${r.rows} digits: largest |BN(z) − z| = <b>${num(r.maxDifference)}</b> ` +
        `(unit ${r.unit + 1}, digit ${r.row + 1}; |z| up to ${num(r.maxInput)}) — ` +
        (ok ? 'the layer gives back its input: this γ and β undo the normalization.' : 'not the identity.');
    } catch (e) {
      identityOut.dataset.state = 'error';
      identityOut.textContent = e.message;
    }
  });
  return cell;
}
