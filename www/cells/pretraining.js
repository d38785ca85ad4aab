// Cell "Pretraining" (lab::pretrain): learn digits 0–4, then fine-tune on a few labelled 5–9s
// starting from those hidden weights, beside the same network fine-tuned from a random start.
import { Pretrain, pretrainSizes } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { pct } from '../ui.js';

/** The charts that change in each phase. */
const PHASE_CHARTS = { pretraining: ['pretrain'], 'fine-tuning': ['validation', 'loss'] };

/**
 * `exp` drawing, while it runs, only the charts of the phase under way: defineCell redraws every
 * chart every frame, and the other phase's charts do not change meanwhile. Each chart is still
 * drawn once at the start (clearing the last run's curves), again when its canvas was resized
 * (which blanks it), and every chart once the run ends.
 */
function byPhase(exp) {
  let running = true;
  let phase = 'pretraining';
  const drawnAt = new Map(); // chart → the canvas size it was last drawn at
  return {
    runFor(ms) {
      running = exp.runFor(ms);
      phase = exp.report().phase;
      return running;
    },
    report: () => exp.report(),
    chart: (name) => exp.chart(name),
    stop: () => {
      running = false;
      exp.stop();
    },
    free: () => exp.free(),
    draw(name, canvas, dpr) {
      const size = `${canvas.width}x${canvas.height}`;
      if (running && drawnAt.get(name) === size && !PHASE_CHARTS[phase].includes(name)) return;
      drawnAt.set(name, size);
      exp.draw(name, canvas, dpr);
    },
  };
}

export function setup(ctx) {
  const ctl = (id, key, extra = {}) => ({ el: `pre-${id}`, key: `pre.${key}`, ...extra });
  const lines = (title, xLabel, yLabel, xMax, yRange) => ({ title, xLabel, yLabel, xMax, yRange, series: [] });
  return defineCell('pretraining', {
    controls: {
      labelled: ctl('labelled', 'labelled', { label: 'labelled examples', max: (c) => pretrainSizes(c.data).finetuneAvailable }),
      hidden: ctl('hidden', 'hidden', { label: 'hidden sizes', kind: 'sizes', min: 1, max: 4096 }),
      epochs: ctl('epochs', 'epochs', { label: 'pretraining epochs' }),
      ftEpochs: ctl('ft-epochs', 'ftEpochs', { label: 'fine-tuning epochs' }),
      lr: ctl('lr', 'lr', { label: 'learning rate', max: 10 }),
    },
    run: 'pre-run',
    stop: 'pre-stop',
    status: 'pre-status',
    error: 'pre-error',
    build: (v, c) => byPhase(new Pretrain(c.data, { hidden: v.hidden, seed: c.seed(), lr: v.lr, epochs: v.epochs, finetuneEpochs: v.ftEpochs, labelled: v.labelled })),
    charts: {
      pretrain: { canvas: 'pre-pretrain', empty: () => lines('step 1: pretraining on digits 0–4', 'step', 'cross-entropy (smoothed)', 100, [0, 2]) },
      validation: { canvas: 'pre-val', empty: (v) => lines('step 2: fine-tuning on digits 5–9', 'epoch', 'validation error', v.ftEpochs ?? 20, [0, 1]) },
      loss: { canvas: 'pre-loss', empty: () => lines('fine-tuning loss', 'step', 'cross-entropy (smoothed)', 100, [0, 2]) },
    },
    readout(r, phase) {
      const p = r.pretrain;
      const out = [`<b>pretraining</b> on ${r.pretrainExamples.toLocaleString()} digits 0–4: epoch ${p.epoch}/${p.epochs}` +
        (p.valError != null ? `, validation error on 0–4: ${pct(p.valError)}` : '')];
      for (const f of r.finetune) {
        out.push(`<span class="swatch c${f.color}"></span><b>${f.label}</b>: epoch ${f.epoch}/${f.epochs}` +
          (f.valError != null ? `, validation error on 5–9: <b>${pct(f.valError)}</b>` : '') +
          (f.status === 'diverged' ? ` — <span class="bad">${f.message}</span>` : ''));
      }
      const k = r.early?.epochs;
      if (k) out.push(`after ${k} fine-tuning epoch${k > 1 ? 's' : ''}: pretrained ${pct(r.early.pretrained)} vs random ${pct(r.early.random)}`);
      if (phase === 'running') out.push(r.phase);
      const err = (f) => (f.valError == null ? '' : String(f.valError));
      const data = r.finetune.length === 2 ? { pretrainedError: err(r.finetune[0]), randomError: err(r.finetune[1]) } : {};
      return { html: out.join('<br>'), data };
    },
  }, ctx);
}
