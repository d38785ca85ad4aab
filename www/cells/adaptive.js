// Cell "RMSprop and Adam" (lab::adaptive): four short runs from one seed (SGD, RMSprop, Adam, Adam
// without bias correction); the effective learning rate of each weight, Adam's raw vs corrected
// moments, and what the correction does to the first steps.
import { Adaptive } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { get } from '../state.js';

const $ = (id) => document.getElementById(id);
/** Milliseconds of training per frame (the other cells take 12): the read-out alone ranks two
 * layers' worth of per-weight rates every frame. */
const BUDGET_MS = 10;
const INPUTS = 784;
const CLASSES = 10;

/** A number as the read-out shows it: 3 significant digits, exponent form when tiny. */
const num = (v) => (v >= 1e-3 && v < 1e4 ? String(+v.toPrecision(3)) : v.toExponential(1));

/** [784, …hidden, 10] for hidden sizes as typed, or null when they do not parse. */
function layerSizes(text) {
  const hidden = text.split(/[,\s]+/).filter((s) => s.length > 0).map(Number);
  return hidden.every((v) => Number.isInteger(v) && v >= 1 && v <= 4096) ? [INPUTS, ...hidden, CLASSES] : null;
}

function describeRates(name, s, sgd) {
  if (!s) return '';
  const spread = Math.log10(s.p90 / s.p10);
  return `<b>${name}</b>: median rate <b>${num(s.median)}</b> (${num(s.median / sgd)}× SGD's), ` +
    `80% of weights between ${num(s.p10)} and ${num(s.p90)} (${spread.toFixed(1)} decades)` +
    (s.noGradient ? `; ${s.noGradient.toLocaleString()} weights without a gradient yet left out` : '');
}

/** The lab's charts with nothing recorded yet (what `Adaptive.chart` gives before a step). */
function emptyCharts(v) {
  const sizes = (v.hidden && [INPUTS, ...v.hidden, CLASSES]) ?? [INPUTS, 128, CLASSES];
  const layer = Number(v.layer) >= 1 && Number(v.layer) < sizes.length ? Number(v.layer) : 1;
  const steps = v.steps ?? 200;
  const none = (name, color, dashed = false) => ({ name, y: [], color, dashed });
  const lr = v['adam-lr'];
  return {
    rates: {
      kind: 'logHistogram', title: `per-weight learning rate, layer ${layer} (${sizes[layer - 1]} → ${sizes[layer]})`,
      xLabel: 'learning rate the weight gets (log scale)', yLabel: "% of the layer's weights", groups: [],
      lines: v['sgd-lr'] == null ? [] : [{ name: `SGD: lr = ${v['sgd-lr']} for every weight`, x: v['sgd-lr'], color: 0 }],
    },
    moments: {
      kind: 'logY', title: `Adam's moments, layer ${layer}: raw vs bias-corrected`, xLabel: 'step t', yLabel: "mean over the layer's weights",
      xMax: steps, yFloor: 1e-7,
      series: [none("|g|, this step's gradient", 6), none('|m|, raw', 5, true), none('|m̂| = |m| / (1 − β₁ᵗ)', 5), none('√v, raw', 1, true), none('√v̂ = √v / √(1 − β₂ᵗ)', 1)],
    },
    loss: {
      kind: 'lines', title: 'training loss, moving average (β = 0.9)', xLabel: 'step', yLabel: 'cross-entropy', xMax: steps, yRange: [0, 2.6],
      series: [none('SGD', 0), none('RMSprop', 4), none('Adam', 5), none('Adam, no bias correction', 3, true)],
    },
    updates: {
      kind: 'logY', title: `mean update size |Δw| per step, layer ${layer}`, xLabel: 'step t', yLabel: 'mean |Δw|', xMax: steps, yFloor: 1e-7,
      series: [none('Adam', 5), none('Adam, no bias correction', 3, true),
        ...(lr == null ? [] : [{ name: `lr = ${lr}`, x: [0, steps], y: [lr, lr], color: 6, dashed: true }])],
    },
  };
}

/**
 * `exp` drawing one of its plots a frame, in turn, while it trains, and all of them once it has
 * stopped: four plots every frame would double a frame's work (defineCell draws every chart each
 * frame). A plot whose turn has not come keeps its last picture.
 */
function onePlotAFrame(exp, names) {
  let turn = 0;
  let training = true;
  return {
    runFor(ms) {
      training = exp.runFor(ms);
      turn = (turn + 1) % names.length;
      return training;
    },
    draw(name, canvas, dpr) {
      if (!training || name === names[turn]) exp.draw(name, canvas, dpr);
    },
    report: () => exp.report(),
    chart: (name) => exp.chart(name),
    stop() {
      training = false;
      exp.stop();
    },
    free: () => exp.free(),
  };
}

const PLOTS = ['rates', 'moments', 'loss', 'updates'];

export function setup(ctx) {
  const hidden = $('adaptive-hidden');
  const layer = $('adaptive-layer');

  /** One option per weight layer of the hidden sizes, e.g. "1: 784 → 128". */
  function fillLayers(text) {
    const sizes = layerSizes(text);
    if (!sizes) return false;
    const keep = layer.value || '1';
    layer.replaceChildren(...sizes.slice(1).map((out, i) => {
      const o = document.createElement('option');
      o.value = String(i + 1);
      o.textContent = `${i + 1}: ${sizes[i]} → ${out}`;
      return o;
    }));
    layer.value = Number(keep) <= sizes.length - 1 ? keep : '1';
    return true;
  }
  // defineCell restores the layer from the URL, so its options must exist first, for the hidden
  // sizes the URL restores at the same moment (or the default sizes, when the link's do not read)
  if (!fillLayers(get('adaptive.hidden', hidden.value))) fillLayers(hidden.value);

  const cell = defineCell('adaptive', {
    controls: {
      'sgd-lr': { key: 'adaptive.sgdLr', label: 'SGD lr', max: 100 },
      'rmsprop-lr': { key: 'adaptive.rmspropLr', label: 'RMSprop lr', max: 100 },
      'adam-lr': { key: 'adaptive.adamLr', label: 'Adam lr', max: 100 },
      steps: { label: 'steps' },
      batch: { label: 'batch size', max: (c) => c.data.trainSize },
      hidden: { label: 'hidden sizes', kind: 'sizes', min: 1, max: 4096 },
      layer: {},
    },
    error: 'adaptive-error',
    budgetMs: BUDGET_MS,
    build: (v, c) => onePlotAFrame(new Adaptive(c.data, {
      seed: c.seed(), hidden: v.hidden, batchSize: v.batch, steps: v.steps, layer: Number(v.layer || 1),
      sgdLr: v['sgd-lr'], rmspropLr: v['rmsprop-lr'], adamLr: v['adam-lr'],
    }), PLOTS),
    charts: Object.fromEntries(PLOTS.map((name) =>
      [name, { canvas: `adaptive-${name}`, empty: (v) => emptyCharts(v)[name] }])),
    readout(r) {
      const losses = r.runs.map((run) => {
        const v = run.loss == null ? '–' : run.loss.toFixed(3);
        return run.status === 'diverged' ? `${run.name} <span class="bad">${run.message}</span>` : `${run.name} ${v}`;
      });
      const first = (u) => u.map((x) => num(x)).join(', ');
      const lines = [
        `step ${r.steps}/${r.target}`,
        `smoothed loss: ${losses.join(' · ')}`,
        describeRates('RMSprop', r.rmsprop, r.sgdLr),
        describeRates('Adam', r.adam, r.sgdLr),
      ];
      if (r.firstUpdates[0].length) {
        lines.push(`mean |Δw| of the first steps: Adam ${first(r.firstUpdates[0])}; without correction ${first(r.firstUpdates[1])}`);
      }
      return { html: lines.filter(Boolean).join('<br>'), data: { steps: String(r.steps) } };
    },
  }, ctx);
  hidden.addEventListener('change', () => fillLayers(hidden.value));
  return cell;
}
