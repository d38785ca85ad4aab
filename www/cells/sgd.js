// Cell "A simple optimizer": vanilla mini-batch SGD on MNIST, trained a slice per frame.
import { TrainSession, drawCurves } from '../../pkg/descent.js';
import { bind } from '../state.js';
import { sizeCanvas, parseSizes, readNumber, showError, pct } from '../ui.js';

const $ = (id) => document.getElementById(id);
/** Milliseconds of training per animation frame: leaves room for drawing within one 50 ms task. */
const BUDGET_MS = 12;

export function setup(ctx) {
  const lr = bind($('sgd-lr'), 'sgd.lr');
  const batch = bind($('sgd-batch'), 'sgd.batch');
  const hidden = bind($('sgd-hidden'), 'sgd.hidden');
  const epochs = bind($('sgd-epochs'), 'sgd.epochs');
  const reduction = bind($('sgd-reduction'), 'sgd.reduction');
  const compare = bind($('sgd-compare'), 'sgd.compare');
  const runBtn = $('sgd-run');
  const stopBtn = $('sgd-stop');
  const status = $('sgd-status');
  const lossCanvas = $('sgd-loss');
  const errCanvas = $('sgd-error');
  let runs = [];
  let stopped = true;
  let started = 0;

  for (const b of document.querySelectorAll('#sgd .presets button')) {
    b.addEventListener('click', () => {
      lr.value = b.dataset.lr;
      lr.dispatchEvent(new Event('change'));
      start();
    });
  }

  function draw() {
    const dpr = sizeCanvas(lossCanvas);
    sizeCanvas(errCanvas);
    const total = runs.length ? runs[0].session.totalSteps : 1;
    const losses = runs.map((r) => Array.from(r.session.stepLoss()));
    const first = losses.flat().find((v) => Number.isFinite(v)) ?? 2.3;
    const top = Math.max(2.5, Math.min(12, 1.2 * first));
    drawCurves(lossCanvas, {
      title: 'training loss per mini-batch',
      xLabel: 'step', yLabel: 'cross-entropy',
      xMax: total, yRange: [0, top],
      series: runs.map((r, i) => ({ name: r.label, y: losses[i], color: r.color })),
    }, dpr);
    const series = [];
    for (const r of runs) {
      const ep = r.session.epochs();
      const x = ep.map((e) => e.epoch);
      series.push({ name: `${r.label}: validation`, x, y: ep.map((e) => e.val_error), color: r.color, markers: true });
      series.push({ name: `${r.label}: training`, x, y: ep.map((e) => e.train_error), color: r.color, dashed: true, markers: true });
    }
    drawCurves(errCanvas, {
      title: 'error per epoch', xLabel: 'epoch', yLabel: 'error rate',
      xMax: Math.max(1, runs.length ? Number(epochs.value) || 1 : 1), yRange: [0, 1],
      series,
    }, dpr);
  }

  /** `done`: null while running, else why the run ended ("finished", "stopped", "error"). */
  function report(done) {
    const parts = runs.map((r) => {
      const s = r.session;
      const ep = s.epochs();
      const last = ep[ep.length - 1];
      let text = `<b>${r.label}</b>: epoch ${s.epoch}/${epochs.value}, step ${s.steps}/${s.totalSteps}`;
      if (last) text += `, validation accuracy <b class="acc">${pct(1 - last.val_error)}</b>`;
      if (s.status() === 'diverged') text += ` — <span class="bad">${s.message}</span>`;
      return text;
    });
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const tail = done === 'stopped' ? ` · stopped after ${secs} s` : done ? ` · done in ${secs} s` : ` · ${secs} s`;
    status.innerHTML = parts.join('<br>') + tail;
    const main = runs[0]?.session.epochs();
    const last = main && main[main.length - 1];
    status.dataset.valAccuracy = last ? String(1 - last.val_error) : '';
    const diverged = runs.some((r) => r.session.status() === 'diverged');
    status.dataset.state = !done ? 'running' : done === 'finished' && diverged ? 'diverged' : done;
  }

  function finish(reason) {
    stopped = true;
    runBtn.disabled = false;
    stopBtn.disabled = true;
    draw();
    report(reason);
  }

  function frame() {
    if (stopped) return;
    const t0 = performance.now();
    const active = runs.filter((r) => r.session.status() === 'running');
    try {
      for (const r of active) r.session.runFor(BUDGET_MS / active.length);
    } catch (e) {
      showError($('sgd-error-msg'), e);
      finish('error');
      return;
    }
    draw();
    if (runs.every((r) => r.session.status() !== 'running')) {
      finish('finished');
      return;
    }
    report(null);
    window.__frameTimes?.push(performance.now() - t0); // set by the end-to-end tests
    requestAnimationFrame(frame);
  }

  function start() {
    showError($('sgd-error-msg'), null);
    try {
      const base = {
        hidden: Array.from(parseSizes(hidden.value)),
        seed: ctx.seed(),
        optimizer: 'sgd',
        options: { lr: readNumber(lr, 'learning rate', { min: 0, max: 1e6 }) },
        batchSize: readNumber(batch, 'batch size', { min: 1, max: ctx.data.trainSize, integer: true }),
        epochs: readNumber(epochs, 'epochs', { min: 1, max: 50, integer: true }),
      };
      const wanted = compare.checked ? ['mean', 'sum'] : [reduction.value];
      runs = wanted.map((red, i) => ({
        label: compare.checked ? `${red} (lr ${base.options.lr}${red === 'sum' ? ` ≈ ${+(base.options.lr * base.batchSize).toPrecision(3)} averaged` : ''})` : `SGD lr ${base.options.lr}, ${red}`,
        color: i,
        session: new TrainSession(ctx.data, { ...base, reduction: red }, undefined),
      }));
    } catch (e) {
      showError($('sgd-error-msg'), e);
      return;
    }
    stopped = false;
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
