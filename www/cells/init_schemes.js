// Cell "Random, Xavier, He": a deep network's forward activations and backward gradients,
// layer by layer, for one init; then every init trained from the same seed, side by side.
import { LayerProbe, drawCurves, drawLayerStds, sessionFrom } from '../../pkg/descent.js';
import { bind } from '../state.js';
import { sizeCanvas, readNumber, showError, pct } from '../ui.js';
import { trainInFrames, smooth, fmtLoss } from './init_common.js';

const $ = (id) => document.getElementById(id);
/** Digits pushed through the network for the histograms. */
export const PROBE_BATCH = 64;
/** Validation digits checked after each epoch of the comparison (kept small: a deep net is slow). */
const VALIDATION = 300;

/** The schemes, in the order the page lists them; `o` holds the student's a and std. */
export const SCHEMES = [
  { key: 'uniform', label: (o) => `uniform ±${o.a}`, init: (o) => ({ scheme: 'uniform', a: -o.a, b: o.a }) },
  { key: 'normal', label: (o) => `normal σ=${o.std}`, init: (o) => ({ scheme: 'normal', mean: 0, std: o.std }) },
  { key: 'xavier_uniform', label: () => 'Xavier uniform', init: () => ({ scheme: 'xavier_uniform' }) },
  { key: 'xavier_normal', label: () => 'Xavier normal', init: () => ({ scheme: 'xavier_normal' }) },
  { key: 'kaiming_uniform', label: () => 'He uniform', init: () => ({ scheme: 'kaiming_uniform' }) },
  { key: 'kaiming_normal', label: () => 'He normal', init: () => ({ scheme: 'kaiming_normal' }) },
  { key: 'default', label: () => 'PyTorch default', init: () => ({ scheme: 'default' }) },
];

/** "0.62 → 0.00031" with the mean factor per layer. */
export function trend(stds) {
  const ok = stds.filter((v) => Number.isFinite(v));
  if (ok.length < 2) return ok.map((v) => v.toPrecision(2)).join('');
  const first = ok[0];
  const last = ok[ok.length - 1];
  const per = first > 0 && last > 0 ? ` (×${Math.pow(last / first, 1 / (ok.length - 1)).toPrecision(2)} per layer)` : '';
  return `${first.toPrecision(2)} → ${last.toPrecision(2)}${per}`;
}

export function setup(ctx) {
  const depth = bind($('schemes-depth'), 'schemes.depth');
  const width = bind($('schemes-width'), 'schemes.width');
  const act = bind($('schemes-act'), 'schemes.act');
  const scheme = bind($('schemes-scheme'), 'schemes.scheme');
  const aInput = bind($('schemes-a'), 'schemes.a');
  const stdInput = bind($('schemes-std'), 'schemes.std');
  const epochs = bind($('schemes-epochs'), 'schemes.epochs');
  const lr = bind($('schemes-lr'), 'schemes.lr');
  const probeOut = $('schemes-probe');
  const status = $('schemes-status');
  const errBox = $('schemes-error');
  const trainBtn = $('schemes-train');
  const stopBtn = $('schemes-stop');
  const cv = { act: $('schemes-act-violin'), grad: $('schemes-grad-violin'), std: $('schemes-std-plot'), loss: $('schemes-loss') };
  let runs = [];
  let stopped = true;
  let started = 0;

  const options = () => ({
    a: readNumber(aInput, 'a', { min: 0, max: 100 }),
    std: readNumber(stdInput, 'std', { min: 0, max: 100 }),
  });
  const network = () => {
    const d = readNumber(depth, 'hidden layers', { min: 1, max: 12, integer: true });
    const w = readNumber(width, 'width', { min: 2, max: 512, integer: true });
    return Array(d).fill(w);
  };

  /** Forward and backward one batch for the chosen scheme; draw the three per-layer pictures. */
  function probe() {
    showError(errBox, null);
    try {
      const o = options();
      const s = SCHEMES.find((x) => x.key === scheme.value) ?? SCHEMES[0];
      const hidden = network();
      const p = new LayerProbe(ctx.data, Uint32Array.from(hidden), act.value, ctx.seed(), s.init(o), undefined, PROBE_BATCH);
      const dpr = sizeCanvas(cv.act);
      sizeCanvas(cv.grad);
      sizeCanvas(cv.std);
      const name = s.label(o);
      p.drawActivations(cv.act, `${name}: activations per layer`, 0, dpr);
      p.drawGradients(cv.grad, `${name}: weight gradients per layer`, 1, dpr);
      const a = Array.from(p.activationStd());
      const g = Array.from(p.gradientStd());
      drawLayerStds(cv.std, {
        title: `${name}: spread per layer (log scale)`, yLabel: 'standard deviation',
        series: [
          { name: 'activations (forward)', y: a, color: 0 },
          { name: 'weight gradients (backward)', y: g, color: 1, dashed: true },
        ],
      }, dpr);
      const zeros = Array.from(p.zeroFraction());
      const dead = act.value === 'relu' ? ` · exactly zero after ReLU: ${pct(zeros[0])} in layer 1, ${pct(zeros[zeros.length - 1])} in layer ${zeros.length}` : '';
      probeOut.innerHTML = `<b>${name}</b>, ${hidden.length} × ${hidden[0]} ${act.value}, ${PROBE_BATCH} digits · loss ${fmtLoss(p.loss)}` +
        `<br>activation std: ${trend(a)} · gradient std: ${trend(g)}${dead}`;
      probeOut.dataset.actStd = JSON.stringify(a);
      probeOut.dataset.gradStd = JSON.stringify(g);
      p.free();
    } catch (e) {
      showError(errBox, e);
    }
  }

  function drawLoss() {
    const dpr = sizeCanvas(cv.loss);
    const total = runs.length ? runs[0].session.totalSteps : 100;
    drawCurves(cv.loss, {
      title: 'training loss per scheme (smoothed)', xLabel: 'step', yLabel: 'cross-entropy',
      xMax: total, yRange: [0, 3],
      // no legend inside the plot (it would hide the flat curves): the read-out above lists
      // every scheme with its colour
      series: runs.map((r) => ({ y: smooth(r.session.stepLoss()), color: r.color })),
    }, dpr);
  }

  function report(done) {
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const rows = runs.map((r) => {
      const s = r.session;
      const ep = s.epochs();
      const last = ep[ep.length - 1];
      const loss = smooth(s.stepLoss());
      let text = `<span class="swatch c${r.color}"></span><b>${r.label}</b>: step ${s.steps}/${s.totalSteps}`;
      if (loss.length) text += `, loss ${fmtLoss(loss[loss.length - 1])}`;
      if (last) text += `, validation error ${pct(last.val_error)}`;
      if (s.status() === 'diverged') text += ` — <span class="bad">${s.message}</span>`;
      return text;
    });
    const tail = done === 'stopped' ? `stopped after ${secs} s` : done ? `done in ${secs} s` : `${secs} s`;
    status.innerHTML = rows.join('<br>') + `<br>${tail}`;
    status.dataset.state = done ?? 'running';
    status.dataset.curves = String(runs.filter((r) => r.session.stepLoss().length > 0).length);
  }

  function finish(reason) {
    stopped = true;
    trainBtn.disabled = false;
    stopBtn.disabled = true;
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

  function train() {
    showError(errBox, null);
    try {
      const o = options();
      const config = {
        hidden: network(), activation: act.value, seed: ctx.seed(), optimizer: 'sgd',
        options: { lr: readNumber(lr, 'learning rate', { min: 0, max: 100 }) }, batchSize: 64,
        epochs: readNumber(epochs, 'epochs', { min: 1, max: 5, integer: true }),
      };
      runs = SCHEMES.map((s, i) => ({ label: s.label(o), color: i, session: sessionFrom(ctx.data, config, s.init(o), undefined, VALIDATION) }));
    } catch (e) {
      showError(errBox, e);
      return;
    }
    stopped = false;
    started = performance.now();
    trainBtn.disabled = true;
    stopBtn.disabled = false;
    report(null);
    loop();
  }

  for (const el of [depth, width, act, scheme, aInput, stdInput]) el.addEventListener('change', probe);
  trainBtn.addEventListener('click', train);
  stopBtn.addEventListener('click', () => finish('stopped'));
  $('schemes-probe-run').addEventListener('click', probe);
  for (const b of document.querySelectorAll('#init-schemes .presets button')) {
    b.addEventListener('click', () => {
      for (const [k, el] of [['act', act], ['scheme', scheme]]) {
        if (b.dataset[k]) {
          el.value = b.dataset[k];
          el.dispatchEvent(new Event('change'));
        }
      }
    });
  }
  return {
    render() {
      probe();
      drawLoss();
    },
  };
}
