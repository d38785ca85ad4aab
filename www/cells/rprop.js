// Cell "Rprop: full batch works, mini-batches fail": (a) the recitation's one-weight thought
// experiment (lab::rprop_thought), stepped through or played; (b) Rprop full-batch vs
// mini-batch vs RMSprop on MNIST (lab::rprop). Two defineCells, #rprop-t and #rprop-mnist.
import { RpropCompare, RpropThought } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { pct } from '../ui.js';

const $ = (id) => document.getElementById(id);
const sign = (v) => (v > 0 ? `+${v}` : `${v}`);
const num = (v, digits = 3) => (Math.abs(v) < 5e-5 ? '0' : v.toFixed(digits));

/** The thought experiment's read-out at the step shown. */
function thoughtText(r) {
  let where = 'before the first step';
  if (r.step > 0) where = `step ${r.step}/${r.total} · epoch ${r.epoch}, mini-batch ${r.batch}: gradient <b>${sign(+r.gradient.toFixed(3))}</b>`;
  return `${where}<br>` +
    `<span class="swatch c3"></span>Rprop, mini-batches: step size ${r.rpropStepSize.toPrecision(3)}, weight <b>${num(r.rpropWeight)}</b> · ` +
    `<span class="swatch c0"></span>SGD: weight <b>${num(r.sgdWeight)}</b> · ` +
    `<span class="swatch c2"></span>Rprop, full batch: weight <b>${num(r.fullWeight)}</b> after ${r.epochsDone} epoch${r.epochsDone === 1 ? '' : 's'} (its gradient is ${r.epochsDone > 0 ? r.fullGradient : 0})`;
}

// Play is the cell's run (from the step shown, or from the start once at the end) and Pause its
// stop; Step builds the experiment at the next step with nothing to play; Reset, and any change
// of a setting, build it at step 0.
function thought(ctx) {
  const status = $('rprop-t-status');
  let shown = null; // the experiment on show, which Step and Play continue from
  let mode = 'play';
  const cell = defineCell('rprop-t', {
    run: 'rprop-t-play',
    stop: 'rprop-t-pause',
    error: 'rprop-t-error',
    reset: () => { shown = null; }, // the core restarted: Step and Play begin at step 0
    controls: {
      epochs: { el: 'rprop-t-epochs', key: 'rprop.tEpochs', label: 'epochs' },
      lr: { el: 'rprop-t-lr', key: 'rprop.tLr', label: 'rprop initial step' },
      sgdLr: { el: 'rprop-t-sgd-lr', key: 'rprop.tSgdLr', label: 'SGD lr' },
    },
    build(v) {
      const at = shown?.report() ?? { step: 0, total: 0 };
      const where = {
        reset: { from: 0, until: 0 },
        step: { from: at.step + 1, until: at.step + 1 },
        play: { from: at.step >= at.total ? 0 : at.step },
      }[mode];
      shown = new RpropThought({ epochs: v.epochs, lr: v.lr, sgdLr: v.sgdLr, ...where });
      return shown;
    },
    charts: { weight: { canvas: 'rprop-t-weight' }, stepSize: { canvas: 'rprop-t-step-size' } },
    readout: (r) => ({
      html: thoughtText(r),
      data: { step: String(r.step), rpropWeight: String(r.rpropWeight), sgdWeight: String(r.sgdWeight), fullWeight: String(r.fullWeight) },
    }),
    update(r, phase) {
      $('rprop-t-step').disabled = r.step >= r.total;
      if (phase === 'idle') status.innerHTML = thoughtText(r); // a step taken, not a run "done in 0.0 s"
    },
  }, ctx);
  const build = (m) => {
    mode = m;
    cell.start();
    mode = 'play';
  };
  $('rprop-t-step').addEventListener('click', () => build('step'));
  $('rprop-t-reset').addEventListener('click', () => build('reset'));
  for (const c of Object.values(cell.controls)) c.el.addEventListener('change', () => build('reset'));
  build('reset');
  return cell;
}

function mnist(ctx) {
  return defineCell('rprop-mnist', {
    status: 'rprop-status',
    error: 'rprop-error',
    run: 'rprop-run',
    stop: 'rprop-stop',
    controls: {
      n: { el: 'rprop-n', key: 'rprop.n', label: 'training digits', max: (c) => c.data.trainSize },
      hidden: { el: 'rprop-hidden', key: 'rprop.hidden', label: 'hidden units' },
      batch: { el: 'rprop-batch', key: 'rprop.batch', label: 'mini-batch size' },
      epochs: { el: 'rprop-epochs', key: 'rprop.epochs', label: 'epochs' },
      lr: { el: 'rprop-lr', key: 'rprop.lr', label: 'Rprop lr' },
      rmsLr: { el: 'rprop-rms-lr', key: 'rprop.rmsLr', label: 'RMSprop lr' },
    },
    build: (v, c) => new RpropCompare(c.data, {
      seed: c.seed(), digits: v.n, hidden: v.hidden, batchSize: v.batch, epochs: v.epochs, lr: v.lr, rmspropLr: v.rmsLr,
    }),
    charts: {
      loss: {
        canvas: 'rprop-loss',
        empty: (v) => ({ kind: 'convergence', title: 'training loss per epoch (log scale)', xLabel: 'epoch', yLabel: 'cross-entropy', xMax: v.epochs ?? 30, yRange: [0.01, 10], series: [] }),
      },
      validation: {
        canvas: 'rprop-val',
        empty: (v) => ({ title: 'validation error per epoch', xLabel: 'epoch', yLabel: 'error rate', xMax: v.epochs ?? 30, yRange: [0, 0.75], series: [] }),
      },
    },
    readout: (r) => r.runs.map((run) => {
      let text = `<span class="swatch c${run.color}"></span><b>${run.label}</b>: epoch ${run.epoch}/${r.epochs} (${run.steps} steps)`;
      if (run.last) text += `, training loss ${run.last.train_loss.toPrecision(3)}, validation error <b>${pct(run.last.val_error)}</b>`;
      const m = run.medianStepSize;
      if (m != null) text += `, median step size <span class="nowrap">${m >= 1e-3 ? m.toPrecision(2) : m.toExponential(1)}</span>`;
      if (run.status === 'diverged') text += ` — <span class="bad">${run.message}</span>`;
      return `<span data-run="${run.key}" data-status="${run.status}" data-epochs="${run.records}">${text}</span>`;
    }).join('<br>'),
  }, ctx);
}

export function setup(ctx) {
  const cells = [thought(ctx), mnist(ctx)];
  return { render: () => cells.forEach((c) => c.render()) };
}
