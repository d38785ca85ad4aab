// Cell "Pretraining": learn digits 0–4, then fine-tune on a few labelled 5–9s starting from
// those hidden weights, beside the same network fine-tuned from a random start.
import { drawCurves, finetuneSession, pretrainSession, pretrainSizes } from '../../pkg/descent.js';
import { bind } from '../state.js';
import { sizeCanvas, parseSizes, readNumber, showError, pct } from '../ui.js';
import { advance, smooth } from './init_common.js';

const $ = (id) => document.getElementById(id);
const MOMENTUM = 0.9;

export function setup(ctx) {
  const labelled = bind($('pre-labelled'), 'pre.labelled');
  const hiddenIn = bind($('pre-hidden'), 'pre.hidden');
  const preEpochs = bind($('pre-epochs'), 'pre.epochs');
  const ftEpochs = bind($('pre-ft-epochs'), 'pre.ftEpochs');
  const lr = bind($('pre-lr'), 'pre.lr');
  const runBtn = $('pre-run');
  const stopBtn = $('pre-stop');
  const status = $('pre-status');
  const errBox = $('pre-error');
  const cv = { pre: $('pre-pretrain'), val: $('pre-val'), loss: $('pre-loss') };
  let pre = null;
  let runs = [];
  let phase = 'idle';
  let settings = null;
  let started = 0;

  function readSettings() {
    const sizes = pretrainSizes(ctx.data);
    const hidden = Array.from(parseSizes(hiddenIn.value));
    if (hidden.length === 0) throw new Error('hidden sizes: give at least one hidden layer, e.g. "256, 256"');
    const n = readNumber(labelled, 'labelled examples', { min: 10, max: sizes.finetuneAvailable, integer: true });
    const base = { hidden, activation: 'relu', seed: ctx.seed(), optimizer: 'sgd', options: { lr: readNumber(lr, 'learning rate', { min: 0, max: 10 }), momentum: MOMENTUM } };
    return {
      sizes, n,
      pretrain: { ...base, batchSize: 32, epochs: readNumber(preEpochs, 'pretraining epochs', { min: 1, max: 10, integer: true }) },
      finetune: { ...base, batchSize: Math.min(10, n), epochs: readNumber(ftEpochs, 'fine-tuning epochs', { min: 1, max: 200, integer: true }) },
    };
  }

  /** Redraw the charts; while training, only those of the running phase change. */
  function draw() {
    const dpr = sizeCanvas(cv.pre);
    sizeCanvas(cv.val);
    sizeCanvas(cv.loss);
    if (phase !== 'finetune') drawPretrain(dpr);
    if (phase !== 'pretrain' && phase !== 'handover') drawFinetune(dpr);
  }

  function drawPretrain(dpr) {
    const preLoss = pre ? smooth(pre.stepLoss()) : [];
    drawCurves(cv.pre, {
      title: 'step 1: pretraining on digits 0–4', xLabel: 'step', yLabel: 'cross-entropy (smoothed)',
      xMax: pre ? pre.totalSteps : 100, yRange: [0, 2],
      series: pre ? [{ name: 'training loss', y: preLoss, color: 2 }] : [],
      // a line at each epoch's end with its validation error (the last one is in the read-out)
      marks: pre ? pre.epochs().filter((e) => e.step < pre.totalSteps).map((e) => [e.step, `${pct(e.val_error)} err`]) : [],
    }, dpr);
  }

  function drawFinetune(dpr) {
    const epochsMax = settings ? settings.finetune.epochs : 20;
    drawCurves(cv.val, {
      title: 'step 2: fine-tuning on digits 5–9', xLabel: 'epoch', yLabel: 'validation error',
      xMax: epochsMax, yRange: [0, 1],
      series: runs.map((r) => {
        const ep = r.session.epochs();
        return { name: r.label, x: ep.map((e) => e.epoch), y: ep.map((e) => e.val_error), color: r.color, markers: true };
      }),
    }, dpr);
    drawCurves(cv.loss, {
      title: 'fine-tuning loss', xLabel: 'step', yLabel: 'cross-entropy (smoothed)',
      xMax: runs.length ? runs[0].session.totalSteps : 100, yRange: [0, 2],
      series: runs.map((r) => ({ name: r.label, y: smooth(r.session.stepLoss(), 0.8), color: r.color })),
    }, dpr);
  }

  function report(done) {
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const lines = [];
    if (pre) {
      const ep = pre.epochs();
      const last = ep[ep.length - 1];
      lines.push(`<b>pretraining</b> on ${settings.sizes.pretrainTrain.toLocaleString()} digits 0–4: epoch ${pre.epoch}/${settings.pretrain.epochs}` +
        (last ? `, validation error on 0–4: ${pct(last.val_error)}` : ''));
    }
    for (const r of runs) {
      const ep = r.session.epochs();
      const last = ep[ep.length - 1];
      lines.push(`<span class="swatch c${r.color}"></span><b>${r.label}</b>: epoch ${r.session.epoch}/${settings.finetune.epochs}` +
        (last ? `, validation error on 5–9: <b>${pct(last.val_error)}</b>` : '') +
        (r.session.status() === 'diverged' ? ` — <span class="bad">${r.session.message}</span>` : ''));
    }
    if (runs.length === 2) {
      const [a, b] = runs.map((r) => r.session.epochs());
      const k = Math.min(a.length, b.length, 5);
      if (k > 0) lines.push(`after ${k} fine-tuning epoch${k > 1 ? 's' : ''}: pretrained ${pct(a[k - 1].val_error)} vs random ${pct(b[k - 1].val_error)}`);
      status.dataset.pretrainedError = a.length ? String(a[a.length - 1].val_error) : '';
      status.dataset.randomError = b.length ? String(b[b.length - 1].val_error) : '';
    }
    const tail = done === 'stopped' ? `stopped after ${secs} s` : done ? `done in ${secs} s` : `${phase === 'finetune' ? 'fine-tuning' : 'pretraining'} · ${secs} s`;
    status.innerHTML = lines.join('<br>') + `<br>${tail}`;
    status.dataset.state = done ?? 'running';
  }

  function finish(reason) {
    phase = 'idle';
    runBtn.disabled = false;
    stopBtn.disabled = true;
    draw();
    report(reason);
  }

  /** Pretraining done: both fine-tuning runs, same seed, same labelled digits, same output layer. */
  function startFinetune() {
    const weights = pre.parameters();
    runs = [
      { label: 'from pretrained', color: 2, session: finetuneSession(ctx.data, settings.finetune, undefined, settings.n, weights) },
      { label: 'from random', color: 1, session: finetuneSession(ctx.data, settings.finetune, undefined, settings.n, undefined) },
    ];
    phase = 'finetune';
  }

  function frame() {
    if (phase === 'idle') return;
    const t0 = performance.now();
    try {
      if (phase === 'pretrain') {
        advance([pre]);
        if (pre.status() === 'diverged') {
          showError(errBox, new Error(`pretraining stopped: ${pre.message}`));
          finish('error');
          return;
        }
        if (pre.status() === 'finished') phase = 'handover'; // draw it now, build the runs next frame
      } else if (phase === 'handover') {
        startFinetune();
        report(null);
        requestAnimationFrame(frame);
        return;
      } else {
        advance(runs.map((r) => r.session));
        if (runs.every((r) => r.session.status() !== 'running')) {
          finish('finished');
          return;
        }
      }
    } catch (e) {
      showError(errBox, e);
      finish('error');
      return;
    }
    draw();
    report(null);
    window.__frameTimes?.push(performance.now() - t0); // set by the end-to-end tests
    requestAnimationFrame(frame);
  }

  function start() {
    showError(errBox, null);
    try {
      settings = readSettings();
      pre = pretrainSession(ctx.data, settings.pretrain, undefined);
      runs = [];
    } catch (e) {
      showError(errBox, e);
      return;
    }
    drawFinetune(sizeCanvas(cv.val)); // clear the last run's fine-tuning curves
    phase = 'pretrain';
    started = performance.now();
    runBtn.disabled = true;
    stopBtn.disabled = false;
    report(null);
    requestAnimationFrame(frame);
  }

  runBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', () => finish('stopped'));
  return { render: draw };
}
