// Cell "Why not start equal?": the same small network started with every weight equal and
// started at random, trained side by side from one seed; the hidden units drawn as pictures.
import { TrainSession, drawCurves, drawUnitWeights, unitSpread } from '../../pkg/descent.js';
import { bind } from '../state.js';
import { sizeCanvas, readNumber, showError } from '../ui.js';
import { BUDGET_MS, advance, smooth, fmtLoss } from './init_common.js';

const $ = (id) => document.getElementById(id);
const INPUTS = 784;

export function setup(ctx) {
  const units = bind($('equal-hidden'), 'equal.hidden');
  const value = bind($('equal-value'), 'equal.value');
  const act = bind($('equal-act'), 'equal.act');
  const steps = bind($('equal-steps'), 'equal.steps');
  const lr = bind($('equal-lr'), 'equal.lr');
  const runBtn = $('equal-run');
  const stopBtn = $('equal-stop');
  const status = $('equal-status');
  const errBox = $('equal-error');
  const canvases = { equal: $('equal-units-const'), random: $('equal-units-random'), loss: $('equal-loss') };
  let runs = [];
  let target = 0;
  let stopped = true;
  let hidden = 8;
  let builtFor = null; // the MnistData the runs were built on (a new seed brings new data)

  /** Both runs, untrained: same seed, so the same batch order; only the init differs. */
  function build() {
    hidden = readNumber(units, 'hidden units', { min: 2, max: 16, integer: true });
    const c = readNumber(value, 'equal value c', { min: -10, max: 10 });
    target = readNumber(steps, 'steps', { min: 1, max: 3000, integer: true });
    const batchSize = 32;
    const config = {
      hidden: [hidden], activation: act.value, seed: ctx.seed(), optimizer: 'sgd',
      options: { lr: readNumber(lr, 'learning rate', { min: 0, max: 100 }) }, batchSize,
      epochs: Math.max(1, Math.ceil(target / Math.ceil(ctx.data.trainSize / batchSize))),
    };
    builtFor = ctx.data;
    runs = [
      { key: 'equal', label: `all weights = ${c}`, color: 1, session: new TrainSession(ctx.data, config, { scheme: 'constant', value: c }) },
      { key: 'random', label: 'random (PyTorch default)', color: 0, session: new TrainSession(ctx.data, config, { scheme: 'default' }) },
    ];
    for (const r of runs) r.session.holdAfter(target); // exactly `target` steps, also on the GPU
  }

  let unitsDrawn = 0;
  let turn = 0;

  /**
   * `all`: redraw both pictures of the units. While training they are the costly part, so they
   * are redrawn at most every 100 ms, one run's picture at a time.
   */
  function draw(all = true) {
    const dpr = sizeCanvas(canvases.loss);
    const now = performance.now();
    if (all) {
      drawUnits(dpr, runs);
    } else if (now - unitsDrawn > 100) {
      unitsDrawn = now;
      turn = (turn + 1) % runs.length;
      drawUnits(dpr, [runs[turn]]);
    }
    drawCurves(canvases.loss, {
      title: 'training loss (smoothed)', xLabel: 'step', yLabel: 'cross-entropy',
      xMax: Math.max(target, 1), yRange: [0, 2.6],
      series: runs.map((r) => ({ name: r.label, y: smooth(r.session.stepLoss()), color: r.color })),
    }, dpr);
  }

  function drawUnits(dpr, which) {
    for (const r of which) {
      sizeCanvas(canvases[r.key]);
      const s = r.session;
      const when = s.steps === 0 ? 'before training' : `after ${s.steps} steps`;
      drawUnitWeights(canvases[r.key], s.parameters(), INPUTS, hidden, `${r.key === 'equal' ? 'equal start' : 'random start'}, ${when}`, dpr);
    }
  }

  function report(done) {
    const parts = runs.map((r) => {
      const s = r.session;
      const spread = unitSpread(s.parameters(), INPUTS, hidden);
      r.spread = spread;
      const loss = s.stepLoss();
      const recent = loss.length ? smooth(loss)[loss.length - 1] : NaN;
      const same = spread === 0 ? ` (all ${hidden} units identical)` : '';
      let text = `<b>${r.key === 'equal' ? 'equal start' : 'random start'}</b>: step ${s.steps}/${target} · ` +
        `max difference between hidden units: <b class="spread">${spread === 0 ? '0' : spread.toPrecision(3)}</b>${same}`;
      if (Number.isFinite(recent)) text += ` · loss ${fmtLoss(recent)}`;
      if (s.status() === 'diverged') text += ` — <span class="bad">${s.message}</span>`;
      return text;
    });
    status.innerHTML = parts.join('<br>');
    status.dataset.spreadEqual = String(runs[0]?.spread ?? '');
    status.dataset.spreadRandom = String(runs[1]?.spread ?? '');
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
    try {
      advance(runs.map((r) => r.session), BUDGET_MS, target);
    } catch (e) {
      showError(errBox, e);
      finish('error');
      return;
    }
    if (runs.every((r) => r.session.status() !== 'running' || r.session.steps >= target)) {
      finish('finished');
      return;
    }
    draw(false);
    report(null);
    requestAnimationFrame(frame);
  }

  function start() {
    showError(errBox, null);
    try {
      build();
    } catch (e) {
      showError(errBox, e);
      return;
    }
    stopped = false;
    runBtn.disabled = true;
    stopBtn.disabled = false;
    report(null);
    requestAnimationFrame(frame);
  }

  function render() {
    if (!stopped) return draw();
    try {
      if (runs.length === 0 || runs[0].session.steps === 0 || builtFor !== ctx.data) {
        build();
        draw();
        report('ready');
      } else {
        draw();
      }
    } catch (e) {
      showError(errBox, e);
    }
  }

  runBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', () => finish('stopped'));
  return { render };
}
