// Cell "Your turn": the student's own initializer (a distribution, or weights from a file)
// beside a built-in scheme: per-layer spread of the signals, then a training run of each.
import { LayerProbe, drawCurves, drawLayerStds, parseWeights, sessionFrom, weightsJson } from '../../pkg/descent.js';
import { bind } from '../state.js';
import { sizeCanvas, parseSizes, readNumber, showError, pct } from '../ui.js';
import { trainInFrames, smooth, download, fmtLoss } from './init_common.js';
import { PROBE_BATCH, SCHEMES, trend } from './init_schemes.js';

const $ = (id) => document.getElementById(id);
const VALIDATION = 500;

export function setup(ctx) {
  const source = bind($('custom-source'), 'custom.source');
  const dist = bind($('custom-dist'), 'custom.dist');
  const a = bind($('custom-a'), 'custom.a');
  const b = bind($('custom-b'), 'custom.b');
  const mean = bind($('custom-mean'), 'custom.mean');
  const std = bind($('custom-std'), 'custom.std');
  const hiddenIn = bind($('custom-hidden'), 'custom.hidden');
  const act = bind($('custom-act'), 'custom.act');
  const compare = bind($('custom-compare'), 'custom.compare');
  const epochs = bind($('custom-epochs'), 'custom.epochs');
  const lr = bind($('custom-lr'), 'custom.lr');
  const fileIn = $('custom-file');
  const fileInfo = $('custom-file-info');
  const runBtn = $('custom-run');
  const stopBtn = $('custom-stop');
  const downloadBtn = $('custom-download');
  const status = $('custom-status');
  const probeOut = $('custom-probe');
  const errBox = $('custom-error');
  const cv = { act: $('custom-act-std'), grad: $('custom-grad-std'), loss: $('custom-loss') };
  let loaded = null; // { sizes, hidden, parameters, name } from a weights file
  let runs = [];
  let stopped = true;
  let started = 0;

  /** Show the inputs that belong to the chosen source and distribution. */
  function syncControls() {
    const fromFile = source.value === 'file';
    $('custom-dist-fields').hidden = fromFile;
    $('custom-file-fields').hidden = !fromFile;
    $('custom-uniform').hidden = dist.value !== 'uniform';
    $('custom-normal').hidden = dist.value !== 'normal';
    hiddenIn.disabled = fromFile;
    if (fromFile && loaded) hiddenIn.value = loaded.hidden.join(', ');
  }

  /** What the student's side starts from: `{ label, init, start, hidden }`. */
  function custom() {
    if (source.value === 'file') {
      if (!loaded) throw new Error('choose a weights file first (JSON with "sizes" and "parameters"), or switch the source to a distribution');
      return { label: `weights from ${loaded.name}`, init: undefined, start: loaded.parameters, hidden: loaded.hidden };
    }
    const hidden = Array.from(parseSizes(hiddenIn.value));
    if (hidden.length === 0) throw new Error('hidden sizes: give at least one hidden layer, e.g. "128, 128, 128"');
    if (dist.value === 'uniform') {
      const lo = readNumber(a, 'a', { min: -100, max: 100 });
      const hi = readNumber(b, 'b', { min: -100, max: 100 });
      return { label: `your U(${lo}, ${hi})`, init: { scheme: 'uniform', a: lo, b: hi }, start: undefined, hidden };
    }
    const m = readNumber(mean, 'mean', { min: -100, max: 100 });
    const s = readNumber(std, 'std', { min: 0, max: 100 });
    return { label: `your N(${m}, ${s}²)`, init: { scheme: 'normal', mean: m, std: s }, start: undefined, hidden };
  }

  function builtin(hidden) {
    const s = SCHEMES.find((x) => x.key === compare.value) ?? SCHEMES[4];
    return { label: s.label({}), init: s.init({}), start: undefined, hidden };
  }

  /** Forward and backward one batch for both starts; draw the spread per layer. */
  function probe() {
    showError(errBox, null);
    try {
      const mine = custom();
      const theirs = builtin(mine.hidden);
      const seed = ctx.seed();
      const stats = [mine, theirs].map((x) => {
        const p = new LayerProbe(ctx.data, Uint32Array.from(x.hidden), act.value, seed, x.init, x.start, PROBE_BATCH);
        const r = { label: x.label, a: Array.from(p.activationStd()), g: Array.from(p.gradientStd()), loss: p.loss };
        p.free();
        return r;
      });
      const dpr = sizeCanvas(cv.act);
      sizeCanvas(cv.grad);
      const lines = (key) => stats.map((s, i) => ({ name: s.label, y: s[key], color: i === 0 ? 3 : 0, dashed: i === 1 }));
      drawLayerStds(cv.act, { title: 'activation std per layer (forward)', yLabel: 'standard deviation', series: lines('a') }, dpr);
      drawLayerStds(cv.grad, { title: 'weight-gradient std per layer (backward)', yLabel: 'standard deviation', series: lines('g') }, dpr);
      probeOut.innerHTML = stats.map((s) => `<b>${s.label}</b>: loss on ${PROBE_BATCH} digits ${fmtLoss(s.loss)} · activation std ${trend(s.a)} · gradient std ${trend(s.g)}`).join('<br>');
      probeOut.dataset.state = 'probed';
      return true;
    } catch (e) {
      showError(errBox, e);
      return false;
    }
  }

  /** Nothing to probe (no weights file yet): empty axes and no stale numbers. */
  function drawEmpty() {
    const dpr = sizeCanvas(cv.act);
    sizeCanvas(cv.grad);
    drawLayerStds(cv.act, { title: 'activation std per layer (forward)', yLabel: 'standard deviation', series: [] }, dpr);
    drawLayerStds(cv.grad, { title: 'weight-gradient std per layer (backward)', yLabel: 'standard deviation', series: [] }, dpr);
    probeOut.textContent = '';
    delete probeOut.dataset.state;
  }

  function drawLoss() {
    const dpr = sizeCanvas(cv.loss);
    drawCurves(cv.loss, {
      title: 'training loss (smoothed)', xLabel: 'step', yLabel: 'cross-entropy',
      xMax: runs.length ? runs[0].session.totalSteps : 100, yRange: [0, 3],
      series: runs.map((r) => ({ name: r.label + (r.session.status() === 'diverged' ? ' (diverged)' : ''), y: smooth(r.session.stepLoss()), color: r.color, dashed: r.color === 0 })),
    }, dpr);
  }

  function report(done) {
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const rows = runs.map((r) => {
      const s = r.session;
      const ep = s.epochs();
      const last = ep[ep.length - 1];
      const loss = smooth(s.stepLoss());
      let text = `<b>${r.label}</b>: step ${s.steps}/${s.totalSteps}`;
      if (loss.length) text += `, loss ${fmtLoss(loss[loss.length - 1])}`;
      if (last) text += `, validation error ${pct(last.val_error)}`;
      if (s.status() === 'diverged') text += ` — <span class="bad">${s.message}</span>`;
      return text;
    });
    const tail = done === 'stopped' ? `stopped after ${secs} s` : done ? `done in ${secs} s` : `${secs} s`;
    status.innerHTML = rows.join('<br>') + `<br>${tail}`;
    status.dataset.state = done ?? 'running';
  }

  function finish(reason) {
    stopped = true;
    runBtn.disabled = false;
    stopBtn.disabled = true;
    downloadBtn.disabled = !runs.length || runs[0].session.steps === 0;
    drawLoss();
    report(reason);
  }

  const loop = () => trainInFrames({
    sessions: () => runs.map((r) => r.session),
    isStopped: () => stopped,
    draw: () => {
      drawLoss();
      report(null);
    },
    finish,
    onError: (e) => showError(errBox, e),
  });

  function start() {
    if (!probe()) return;
    try {
      const mine = custom();
      const theirs = builtin(mine.hidden);
      const config = {
        hidden: mine.hidden, activation: act.value, seed: ctx.seed(), optimizer: 'sgd',
        options: { lr: readNumber(lr, 'learning rate', { min: 0, max: 100 }) }, batchSize: 64,
        epochs: readNumber(epochs, 'epochs', { min: 1, max: 5, integer: true }),
      };
      runs = [mine, theirs].map((x, i) => ({
        label: x.label, color: i === 0 ? 3 : 0, sizes: [784, ...x.hidden, 10],
        session: sessionFrom(ctx.data, config, x.init, x.start, VALIDATION),
      }));
    } catch (e) {
      showError(errBox, e);
      return;
    }
    stopped = false;
    started = performance.now();
    runBtn.disabled = true;
    stopBtn.disabled = false;
    downloadBtn.disabled = true;
    report(null);
    loop();
  }

  async function loadFile() {
    const file = fileIn.files[0];
    if (!file) return;
    showError(errBox, null);
    loaded = null;
    fileInfo.textContent = '';
    fileInfo.dataset.state = 'loading';
    try {
      const w = parseWeights(await file.text());
      loaded = { sizes: Array.from(w.sizes), hidden: Array.from(w.hidden), parameters: w.parameters, name: file.name };
      w.free();
      fileInfo.textContent = `${file.name}: ${loaded.sizes.join('-')}, ${loaded.parameters.length.toLocaleString()} parameters`;
      fileInfo.dataset.state = 'loaded';
      syncControls();
      probe();
    } catch (e) {
      fileInfo.textContent = 'no weights loaded';
      fileInfo.dataset.state = 'error';
      drawEmpty();
      showError(errBox, new Error(`${file.name}: ${e.message}`));
    }
  }

  function save() {
    const r = runs[0];
    if (!r) return;
    try {
      const text = weightsJson(Uint32Array.from(r.sizes), r.session.parameters());
      download(`descent-weights-${r.sizes.join('-')}-seed${ctx.seed()}.json`, text);
    } catch (e) {
      showError(errBox, e);
    }
  }

  for (const el of [source, dist]) {
    el.addEventListener('change', () => {
      syncControls();
      if (source.value === 'file' && !loaded) {
        showError(errBox, null);
        drawEmpty();
      } else {
        probe();
      }
    });
  }
  for (const el of [a, b, mean, std, hiddenIn, act, compare]) el.addEventListener('change', probe);
  fileIn.addEventListener('change', loadFile);
  runBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', () => finish('stopped'));
  downloadBtn.addEventListener('click', save);
  syncControls();
  return {
    render() {
      if (stopped && (source.value !== 'file' || loaded)) probe();
      else if (stopped) drawEmpty();
      drawLoss();
    },
  };
}
