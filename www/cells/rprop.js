// Cell "Rprop: full batch works, mini-batches fail": (a) the recitation's one-weight thought
// experiment, stepped through; (b) Rprop full-batch vs mini-batch vs RMSprop on MNIST.
import { TrainSession, drawCurves, drawLogChart, rpropThought } from '../../pkg/descent.js';
import { bind } from '../state.js';
import { sizeCanvas, readNumber, showError, pct } from '../ui.js';

const $ = (id) => document.getElementById(id);
/** Milliseconds of training per animation frame (a full-batch step may take longer on its own). */
const BUDGET_MS = 14;
/** Thought experiment playback: one mini-batch step per this many milliseconds. */
const PLAY_MS = 90;

const sign = (v) => (v > 0 ? `+${v}` : `${v}`);
const num = (v, digits = 3) => (Math.abs(v) < 5e-5 ? '0' : v.toFixed(digits));

function thoughtExperiment() {
  const epochs = bind($('rprop-t-epochs'), 'rprop.tEpochs');
  const lr = bind($('rprop-t-lr'), 'rprop.tLr');
  const sgdLr = bind($('rprop-t-sgd-lr'), 'rprop.tSgdLr');
  const stepBtn = $('rprop-t-step');
  const playBtn = $('rprop-t-play');
  const status = $('rprop-t-status');
  const wCanvas = $('rprop-t-weight');
  const sCanvas = $('rprop-t-step-size');
  const errorBox = $('rprop-t-error');
  let t = null; // the whole experiment, worked out by Rust; k says how much of it is shown
  let k = 0;
  let timer = 0;

  function compute() {
    showError(errorBox, null);
    try {
      t = rpropThought({
        epochs: readNumber(epochs, 'epochs', { min: 1, max: 20, integer: true }),
        rprop: { lr: readNumber(lr, 'rprop initial step', { min: 0, max: 50 }) },
        sgdLr: readNumber(sgdLr, 'SGD lr', { min: 0, max: 100 }),
      });
    } catch (e) {
      showError(errorBox, e);
      t = null;
    }
    k = 0;
  }

  function draw() {
    const dpr = sizeCanvas(wCanvas);
    sizeCanvas(sCanvas);
    if (!t) return;
    const n = t.grads.length;
    const per = t.batchesPerEpoch;
    const steps = Array.from({ length: k + 1 }, (_, i) => i);
    const fullShown = Math.floor(k / per);
    const fullX = Array.from({ length: fullShown + 1 }, (_, e) => e * per);
    // Fixed axes: the whole experiment's range, so the curves grow into a still frame.
    const all = [...t.rpropW, ...t.sgdW, ...t.fullW];
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const span = Math.max(hi - lo, 0.1);
    drawCurves(wCanvas, {
      title: 'the weight after each mini-batch step',
      xLabel: `step (${per} mini-batches per epoch)`, yLabel: 'weight w',
      xMax: n, yRange: [lo - 0.05 * span, hi + 0.3 * span], // room for the legend above the curves
      series: [
        { name: 'Rprop, mini-batches', x: steps, y: t.rpropW.slice(0, k + 1), color: 3, markers: true },
        { name: 'SGD, mini-batches', x: steps, y: t.sgdW.slice(0, k + 1), color: 0, markers: true },
        { name: 'Rprop, full batch (1 step/epoch)', x: fullX, y: t.fullW.slice(0, fullShown + 1), color: 2, markers: true, dashed: true },
      ],
    }, dpr);
    const top = Math.max(...t.rpropStep, ...t.fullStep);
    drawCurves(sCanvas, {
      title: "Rprop's step size",
      xLabel: 'step', yLabel: 'step size Δ',
      xMax: n, yRange: [0, 1.4 * top],
      series: [
        { name: 'Rprop, mini-batches', x: steps, y: t.rpropStep.slice(0, k + 1), color: 3, markers: true },
        { name: 'Rprop, full batch', x: fullX, y: t.fullStep.slice(0, fullShown + 1), color: 2, markers: true, dashed: true },
      ],
    }, dpr);
  }

  function report() {
    if (!t) return;
    const n = t.grads.length;
    const per = t.batchesPerEpoch;
    const epochsDone = Math.floor(k / per);
    let where = 'before the first step';
    if (k > 0) {
      const e = Math.floor((k - 1) / per) + 1;
      const b = ((k - 1) % per) + 1;
      where = `step ${k}/${n} · epoch ${e}, mini-batch ${b}: gradient <b>${sign(+t.grads[k - 1].toFixed(3))}</b>`;
    }
    status.innerHTML = `${where}<br>` +
      `<span class="swatch c3"></span>Rprop, mini-batches: step size ${t.rpropStep[k].toPrecision(3)}, weight <b>${num(t.rpropW[k])}</b> · ` +
      `<span class="swatch c0"></span>SGD: weight <b>${num(t.sgdW[k])}</b> · ` +
      `<span class="swatch c2"></span>Rprop, full batch: weight <b>${num(t.fullW[epochsDone])}</b> after ${epochsDone} epoch${epochsDone === 1 ? '' : 's'} (its gradient is ${epochsDone > 0 ? t.fullGrad[0] : 0})`;
    status.dataset.step = String(k);
    status.dataset.rpropWeight = String(t.rpropW[k]);
    status.dataset.sgdWeight = String(t.sgdW[k]);
    status.dataset.fullWeight = String(t.fullW[epochsDone]);
    status.dataset.state = k >= n ? 'done' : timer ? 'playing' : 'idle';
    stepBtn.disabled = k >= n;
  }

  function stop() {
    clearInterval(timer);
    timer = 0;
    playBtn.textContent = 'Play';
  }

  function advance() {
    if (!t) return;
    if (k < t.grads.length) k += 1;
    if (k >= t.grads.length) stop();
    draw();
    report();
  }

  function restart() {
    stop();
    compute();
    draw();
    report();
  }

  stepBtn.addEventListener('click', () => {
    stop();
    advance();
  });
  playBtn.addEventListener('click', () => {
    if (timer) {
      stop();
      report();
      return;
    }
    if (!t) return;
    if (k >= t.grads.length) k = 0;
    playBtn.textContent = 'Pause';
    timer = setInterval(advance, PLAY_MS);
    report();
  });
  $('rprop-t-reset').addEventListener('click', restart);
  for (const el of [epochs, lr, sgdLr]) el.addEventListener('change', restart);
  compute();
  return () => {
    draw();
    report();
  };
}

function mnistComparison(ctx) {
  const n = bind($('rprop-n'), 'rprop.n');
  const hidden = bind($('rprop-hidden'), 'rprop.hidden');
  const batch = bind($('rprop-batch'), 'rprop.batch');
  const epochs = bind($('rprop-epochs'), 'rprop.epochs');
  const lr = bind($('rprop-lr'), 'rprop.lr');
  const rmsLr = bind($('rprop-rms-lr'), 'rprop.rmsLr');
  const runBtn = $('rprop-run');
  const stopBtn = $('rprop-stop');
  const status = $('rprop-status');
  const lossCanvas = $('rprop-loss');
  const valCanvas = $('rprop-val');
  const errorBox = $('rprop-error');
  let runs = [];
  let stopped = true;
  let started = 0;
  let totalEpochs = 30;
  let drawnRecords = 0;

  /** Median of rprop's per-weight step sizes (recomputed once per finished epoch). */
  function medianStep(r) {
    const epoch = r.session.epoch;
    if (r.medianAt !== epoch) {
      const s = r.session.optimizerState('step_size');
      if (s && s.length) {
        s.sort();
        r.median = s[s.length >> 1];
      }
      r.medianAt = epoch;
    }
    return r.median;
  }

  function draw() {
    const dpr = sizeCanvas(lossCanvas);
    sizeCanvas(valCanvas);
    const records = runs.map((r) => r.session.epochs());
    drawLogChart(lossCanvas, {
      title: 'training loss per epoch (log scale)',
      xLabel: 'epoch', yLabel: 'cross-entropy',
      xMax: totalEpochs,
      yRange: runs.length ? undefined : [0.01, 10],
      series: runs.map((r, i) => ({ name: r.label, x: records[i].map((e) => e.epoch), y: records[i].map((e) => e.train_loss), color: r.color, markers: true })),
    }, dpr);
    drawCurves(valCanvas, {
      title: 'validation error per epoch',
      xLabel: 'epoch', yLabel: 'error rate',
      xMax: totalEpochs, yRange: [0, 0.75],
      series: runs.map((r, i) => ({ name: r.label, x: records[i].map((e) => e.epoch), y: records[i].map((e) => e.val_error), color: r.color, markers: true })),
    }, dpr);
  }

  /** `done`: null while running, else why the runs ended ("finished", "stopped", "error"). */
  function report(done) {
    const parts = runs.map((r) => {
      const s = r.session;
      const ep = s.epochs();
      const last = ep[ep.length - 1];
      let text = `<span class="swatch c${r.color}"></span><b>${r.label}</b>: epoch ${s.epoch}/${totalEpochs} (${s.steps} steps)`;
      if (last) text += `, training loss ${last.train_loss.toPrecision(3)}, validation error <b>${pct(last.val_error)}</b>`;
      if (r.rprop) {
        const m = medianStep(r);
        if (m !== undefined) text += `, median step size <span class="nowrap">${m >= 1e-3 ? m.toPrecision(2) : m.toExponential(1)}</span>`;
      }
      if (s.status() === 'diverged') text += ` — <span class="bad">${s.message}</span>`;
      return `<span data-run="${r.key}" data-status="${s.status()}" data-epochs="${ep.length}">${text}</span>`;
    });
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const tail = done === 'stopped' ? `stopped after ${secs} s` : done ? `done in ${secs} s` : `${secs} s`;
    status.innerHTML = parts.join('<br>') + `<br>${tail}`;
    status.dataset.state = done ?? 'running';
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
    // The run furthest behind (by share of its epochs) trains next, so the curves grow together.
    const active = runs.filter((r) => r.session.status() === 'running');
    const behind = active.reduce((a, r) => (r.session.steps / r.session.totalSteps < a.session.steps / a.session.totalSteps ? r : a), active[0]);
    try {
      if (behind) behind.session.runFor(BUDGET_MS);
    } catch (e) {
      showError(errorBox, e);
      finish('error');
      return;
    }
    // The curves gain a point per epoch: redraw only then (drawing axes is not free).
    const records = runs.reduce((n, r) => n + r.session.epoch, 0);
    if (records !== drawnRecords) {
      drawnRecords = records;
      draw();
    }
    if (runs.every((r) => r.session.status() !== 'running')) {
      finish('finished');
      return;
    }
    report(null);
    window.__frameTimes?.push(performance.now() - t0); // set by the end-to-end tests
    requestAnimationFrame(frame);
  }

  function start() {
    showError(errorBox, null);
    try {
      const subset = readNumber(n, 'training digits', { min: 100, max: ctx.data.trainSize, integer: true });
      const m = readNumber(batch, 'mini-batch size', { min: 1, max: subset, integer: true });
      totalEpochs = readNumber(epochs, 'epochs', { min: 1, max: 200, integer: true });
      const base = {
        hidden: [readNumber(hidden, 'hidden units', { min: 1, max: 512, integer: true })],
        seed: ctx.seed(),
        epochs: totalEpochs,
        trainSubset: subset,
      };
      const rpropOptions = { lr: readNumber(lr, 'Rprop lr', { min: 0, max: 50 }) };
      const rmsOptions = { lr: readNumber(rmsLr, 'RMSprop lr', { min: 0, max: 10 }) };
      const plan = [
        { key: 'full', label: `Rprop, full batch of ${subset}`, color: 2, rprop: true, config: { ...base, optimizer: 'rprop', options: rpropOptions, batchSize: subset } },
        { key: 'mini', label: `Rprop, mini-batches of ${m}`, color: 3, rprop: true, config: { ...base, optimizer: 'rprop', options: rpropOptions, batchSize: m } },
        { key: 'rmsprop', label: `RMSprop, mini-batches of ${m}`, color: 4, rprop: false, config: { ...base, optimizer: 'rmsprop', options: rmsOptions, batchSize: m } },
      ];
      const sessions = plan.map((p) => new TrainSession(ctx.data, p.config, undefined));
      for (const r of runs) r.session.free();
      runs = plan.map((p, i) => ({ ...p, session: sessions[i] }));
    } catch (e) {
      showError(errorBox, e);
      return;
    }
    stopped = false;
    drawnRecords = 0;
    started = performance.now();
    runBtn.disabled = true;
    stopBtn.disabled = false;
    report(null);
    requestAnimationFrame(frame);
  }

  runBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', () => finish('stopped'));
  return draw;
}

export function setup(ctx) {
  const renderThought = thoughtExperiment();
  const renderMnist = mnistComparison(ctx);
  return {
    render() {
      renderThought();
      renderMnist();
    },
  };
}
