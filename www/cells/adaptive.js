// Cell "RMSprop and Adam": four short runs from one seed (SGD, RMSprop, Adam, Adam without bias
// correction); the effective learning rate of each weight, Adam's raw vs corrected moments,
// and what the correction does to the first steps.
import { AdaptiveLab, drawCurves } from '../../pkg/descent.js';
import { bind } from '../state.js';
import { sizeCanvas, parseSizes, readNumber, showError } from '../ui.js';

const $ = (id) => document.getElementById(id);
/** Milliseconds of training per animation frame, shared by the four runs (less than the other
 * cells' 14 ms: this one draws four plots per frame). */
const BUDGET_MS = 10;
const INPUTS = 784;
const CLASSES = 10;

/** A number as the readout shows it: 3 significant digits, exponent form when tiny. */
const num = (v) => (v >= 1e-3 && v < 1e4 ? String(+v.toPrecision(3)) : v.toExponential(1));

export function setup(ctx) {
  const sgdLr = bind($('adaptive-sgd-lr'), 'adaptive.sgdLr');
  const rmsLr = bind($('adaptive-rmsprop-lr'), 'adaptive.rmspropLr');
  const adamLr = bind($('adaptive-adam-lr'), 'adaptive.adamLr');
  const steps = bind($('adaptive-steps'), 'adaptive.steps');
  const batch = bind($('adaptive-batch'), 'adaptive.batch');
  const hidden = bind($('adaptive-hidden'), 'adaptive.hidden');
  const layer = $('adaptive-layer');
  const runBtn = $('adaptive-run');
  const stopBtn = $('adaptive-stop');
  const status = $('adaptive-status');
  const errBox = $('adaptive-error');
  const canvases = ['rates', 'moments', 'loss', 'updates'].map((k) => $(`adaptive-${k}`));
  let lab = null;
  let running = false;
  let started = 0;

  /** One option per weight layer of the current hidden sizes, e.g. "1: 784 → 128". */
  function fillLayers() {
    let sizes;
    try {
      sizes = [INPUTS, ...parseSizes(hidden.value), CLASSES];
    } catch {
      return;
    }
    const keep = layer.value || '1';
    layer.replaceChildren(...sizes.slice(1).map((out, i) => {
      const o = document.createElement('option');
      o.value = String(i + 1);
      o.textContent = `${i + 1}: ${sizes[i]} → ${out}`;
      return o;
    }));
    layer.value = Number(keep) <= sizes.length - 1 ? keep : '1';
  }
  fillLayers();
  bind(layer, 'adaptive.layer');
  hidden.addEventListener('change', fillLayers);

  for (const b of document.querySelectorAll('#adaptive .presets button')) {
    b.addEventListener('click', () => {
      adamLr.value = b.dataset.adamLr;
      adamLr.dispatchEvent(new Event('change'));
      start();
    });
  }

  function settings() {
    return {
      seed: ctx.seed(),
      hidden: Array.from(parseSizes(hidden.value)),
      batchSize: readNumber(batch, 'batch size', { min: 1, max: ctx.data.trainSize, integer: true }),
      steps: readNumber(steps, 'steps', { min: 1, max: 3000, integer: true }),
      layer: Number(layer.value || 1),
      sgdLr: readNumber(sgdLr, 'SGD lr', { min: 0, max: 100 }),
      rmspropLr: readNumber(rmsLr, 'RMSprop lr', { min: 0, max: 100 }),
      adamLr: readNumber(adamLr, 'Adam lr', { min: 0, max: 100 }),
    };
  }

  function draw() {
    const dpr = sizeCanvas(canvases[0]);
    canvases.slice(1).forEach(sizeCanvas);
    if (!lab) {
      // settings from the URL were invalid: empty axes, the message is already shown
      for (const c of canvases) drawCurves(c, { title: 'press Run', xLabel: 'step', yLabel: '', series: [] }, dpr);
      return;
    }
    lab.drawRates(canvases[0], dpr);
    lab.drawMoments(canvases[1], dpr);
    lab.drawLoss(canvases[2], dpr);
    lab.drawUpdates(canvases[3], dpr);
  }

  /** While training, redraw one plot per frame in turn, so a frame stays short. */
  let turn = 0;
  function drawOne() {
    const dpr = sizeCanvas(canvases[turn]);
    [() => lab.drawRates(canvases[0], dpr), () => lab.drawMoments(canvases[1], dpr),
      () => lab.drawLoss(canvases[2], dpr), () => lab.drawUpdates(canvases[3], dpr)][turn]();
    turn = (turn + 1) % 4;
  }

  function describeRates(name, s, sgd) {
    if (!s) return '';
    const spread = Math.log10(s.p90 / s.p10);
    return `<b>${name}</b>: median rate <b>${num(s.median)}</b> (${num(s.median / sgd)}× SGD's), ` +
      `80% of weights between ${num(s.p10)} and ${num(s.p90)} (${spread.toFixed(1)} decades)` +
      (s.noGradient ? `; ${s.noGradient.toLocaleString()} weights without a gradient yet left out` : '');
  }

  /** `done`: null while running, else "finished", "stopped" or "error". */
  function report(done) {
    const r = lab.report();
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const losses = r.runs.map((run) => {
      const v = run.loss == null ? '–' : run.loss.toFixed(3);
      return run.status === 'diverged' ? `${run.name} <span class="bad">${run.message}</span>` : `${run.name} ${v}`;
    });
    const first = (u) => u.map((x) => num(x)).join(', ');
    const lines = [
      `step ${r.steps}/${r.target}` + (done === 'stopped' ? ` · stopped after ${secs} s` : done ? ` · done in ${secs} s` : ` · ${secs} s`),
      `smoothed loss: ${losses.join(' · ')}`,
      describeRates('RMSprop', r.rmsprop, r.sgdLr),
      describeRates('Adam', r.adam, r.sgdLr),
    ];
    if (r.firstUpdates[0].length) {
      lines.push(`mean |Δw| of the first steps: Adam ${first(r.firstUpdates[0])}; without correction ${first(r.firstUpdates[1])}`);
    }
    status.innerHTML = lines.filter(Boolean).join('<br>');
    status.dataset.state = !done ? 'running' : done;
    status.dataset.steps = String(r.steps);
  }

  function finish(reason) {
    running = false;
    runBtn.disabled = false;
    stopBtn.disabled = true;
    // the final pictures, one plot per frame; the read-out says "finished" once all are drawn
    let left = 4;
    const next = () => {
      drawOne();
      if (--left > 0) requestAnimationFrame(next);
      else report(reason);
    };
    requestAnimationFrame(next);
  }

  function frame() {
    if (!running) return;
    const t0 = performance.now();
    let more;
    try {
      more = lab.runFor(BUDGET_MS);
    } catch (e) {
      showError(errBox, e);
      finish('error');
      return;
    }
    if (!more) {
      finish('finished');
      return;
    }
    drawOne();
    report(null);
    window.__frameTimes?.push(performance.now() - t0); // set by the end-to-end tests
    requestAnimationFrame(frame);
  }

  function build() {
    const next = new AdaptiveLab(ctx.data, settings());
    lab?.free();
    lab = next;
  }

  function start() {
    showError(errBox, null);
    try {
      build();
    } catch (e) {
      showError(errBox, e);
      return;
    }
    running = true;
    started = performance.now();
    runBtn.disabled = true;
    stopBtn.disabled = false;
    report(null);
    requestAnimationFrame(frame);
  }

  function render() {
    if (!lab) {
      // the untrained state: SGD's rate on empty axes, nothing recorded yet
      try {
        build();
      } catch (e) {
        showError(errBox, e);
      }
    }
    draw();
  }

  runBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', () => finish('stopped'));
  return { render };
}
