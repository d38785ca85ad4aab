// Cell "Your turn": the student's own initializer (a distribution, or weights from a file)
// beside a built-in scheme: per-layer spread of the signals (lab::probe), then a training run
// of each (lab::init_runs), whose trained weights can be saved as a weights file.
import { CustomRuns, LayerProbe, drawChart, parseWeights } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { sizeCanvas, parseSizes, readNumber, showError, pct, escapeHtml } from '../ui.js';
import { PROBE_BATCH, trend, fmtLoss } from './init_schemes.js';

const $ = (id) => document.getElementById(id);
const STD_CHARTS = [['activationStd', 'custom-act-std', 'activation std per layer (forward)'], ['gradientStd', 'custom-grad-std', 'weight-gradient std per layer (backward)']];

/** Offer `text` to the student as a file download. */
function download(name, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function setup(ctx) {
  const fileIn = $('custom-file');
  const fileInfo = $('custom-file-info');
  const downloadBtn = $('custom-download');
  const probeOut = $('custom-probe');
  const errBox = $('custom-error');
  let loaded = null; // { sizes, hidden, parameters, name } from a weights file
  let current = null; // the experiment the cell runs now (for the download)

  const ctl = (name, extra = {}) => ({ el: `custom-${name}`, key: `custom.${name}`, ...extra });
  const cell = defineCell('init-custom', {
    controls: {
      source: ctl('source'),
      dist: ctl('dist'),
      a: ctl('a', { label: 'a', min: -100, max: 100 }),
      b: ctl('b', { label: 'b', min: -100, max: 100 }),
      mean: ctl('mean', { label: 'mean', min: -100, max: 100 }),
      std: ctl('std', { label: 'std', max: 100 }),
      hidden: ctl('hidden', { label: 'hidden sizes', kind: 'sizes', min: 1, max: 4096 }),
      act: ctl('act'),
      compare: ctl('compare'),
      n: ctl('n', { label: 'training digits', max: (c) => c.data.trainSize }),
      epochs: ctl('epochs', { label: 'epochs' }),
      lr: ctl('lr', { label: 'learning rate', max: 100 }),
    },
    run: 'custom-run',
    stop: 'custom-stop',
    status: 'custom-status',
    error: 'custom-error',
    reset() { // the core restarted: no run's weights to download
      current = null;
      downloadBtn.disabled = true;
    },
    build(v, c) {
      probeOrThrow(); // the spread per layer of the starts about to train
      const m = mine((name) => v[name]);
      current = new CustomRuns(c.data, { hidden: m.hidden, activation: v.act, seed: c.seed(), lr: v.lr, epochs: v.epochs, trainDigits: v.n, mine: m.start, compare: v.compare });
      return current;
    },
    charts: {
      loss: {
        canvas: 'custom-loss',
        empty: () => ({ title: 'training loss (smoothed)', xLabel: 'step', yLabel: 'cross-entropy', xMax: 100, yRange: [0, 3], series: [] }),
      },
    },
    readout(r) {
      const rows = r.runs.map((run) => {
        let text = `<b>${escapeHtml(run.label)}</b>: step ${run.steps}/${run.totalSteps}`;
        if (run.loss != null) text += `, loss ${fmtLoss(run.loss)}`;
        if (run.valError != null) text += `, validation error ${pct(run.valError)}`;
        if (run.status === 'diverged') text += ` — <span class="bad">${run.message}</span>`;
        return text;
      });
      return rows.join('<br>');
    },
    update(r, phase) {
      downloadBtn.disabled = phase === 'running' || !(r.runs[0]?.steps > 0);
    },
  }, ctx);
  const el = (name) => cell.controls[name].el;

  /** One control as the probe reads it (only the chosen distribution's numbers count). */
  function readOne(name) {
    const c = cell.controls[name];
    if (c.kind === 'sizes') return Array.from(parseSizes(c.el.value, c.label));
    return readNumber(c.el, c.label, { min: c.min, max: c.max });
  }

  /** What the student's side starts from: `{ start, hidden }` (see lab::start). */
  function mine(read) {
    if (el('source').value === 'file') {
      if (!loaded) throw new Error('choose a weights file first (JSON with "sizes" and "parameters"), or switch the source to a distribution');
      return { start: { from: 'weights', label: `weights from ${loaded.name}`, parameters: loaded.parameters }, hidden: loaded.hidden };
    }
    const hidden = read('hidden');
    if (el('dist').value === 'uniform') {
      const [lo, hi] = [read('a'), read('b')];
      return { start: { from: 'init', label: `your U(${lo}, ${hi})`, init: { scheme: 'uniform', a: lo, b: hi } }, hidden };
    }
    const [m, s] = [read('mean'), read('std')];
    return { start: { from: 'init', label: `your N(${m}, ${s}²)`, init: { scheme: 'normal', mean: m, std: s } }, hidden };
  }

  /** Show the inputs that belong to the chosen source and distribution. */
  function syncControls() {
    const fromFile = el('source').value === 'file';
    $('custom-dist-fields').hidden = fromFile;
    $('custom-file-fields').hidden = !fromFile;
    $('custom-uniform').hidden = el('dist').value !== 'uniform';
    $('custom-normal').hidden = el('dist').value !== 'normal';
    el('hidden').disabled = fromFile;
    if (fromFile && loaded) el('hidden').value = loaded.hidden.join(', ');
  }

  /** Forward and backward one batch for both starts; draw the spread per layer. */
  function probeOrThrow() {
    const m = mine(readOne);
    const theirs = { from: 'scheme', key: el('compare').value };
    const p = new LayerProbe(ctx.data, { hidden: m.hidden, activation: el('act').value, seed: ctx.seed(), batch: PROBE_BATCH, starts: [m.start, theirs] });
    try {
      for (const [name, id] of STD_CHARTS) p.draw(name, $(id), sizeCanvas($(id)));
      probeOut.innerHTML = p.report().starts.map((s) =>
        `<b>${escapeHtml(s.label)}</b>: loss on ${PROBE_BATCH} digits ${fmtLoss(s.loss)} · activation std ${trend(s.activationStd)} · gradient std ${trend(s.gradientStd)}`).join('<br>');
      probeOut.dataset.state = 'probed';
    } finally {
      p.free();
    }
  }

  function probe() {
    showError(errBox, null);
    try {
      probeOrThrow();
    } catch (e) {
      showError(errBox, e);
    }
  }

  /** Nothing to probe (no weights file yet): empty axes and no stale numbers. */
  function drawEmpty() {
    for (const [, id, title] of STD_CHARTS) drawChart($(id), { kind: 'layerStds', title, xLabel: 'layer', yLabel: 'standard deviation', series: [] }, sizeCanvas($(id)));
    probeOut.textContent = '';
    delete probeOut.dataset.state;
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
      // a plain array: the start travels to the core in the (JSON-like) settings
      loaded = { sizes: Array.from(w.sizes), hidden: Array.from(w.hidden), parameters: Array.from(w.parameters), name: file.name };
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

  for (const name of ['source', 'dist']) {
    el(name).addEventListener('change', () => {
      syncControls();
      if (el('source').value === 'file' && !loaded) {
        showError(errBox, null);
        drawEmpty();
      } else {
        probe();
      }
    });
  }
  for (const name of ['a', 'b', 'mean', 'std', 'hidden', 'act', 'compare']) el(name).addEventListener('change', probe);
  fileIn.addEventListener('change', loadFile);
  downloadBtn.addEventListener('click', () => {
    try {
      const run = current.report().runs[0];
      download(`descent-weights-${run.sizes.join('-')}-seed${ctx.seed()}.json`, current.weightsJson(0));
    } catch (e) {
      showError(errBox, e);
    }
  });
  syncControls();
  return {
    render() {
      const idle = !$('custom-run').disabled; // a run in progress keeps its probe
      if (idle && (el('source').value !== 'file' || loaded)) probe();
      else if (idle) drawEmpty();
      cell.render();
    },
  };
}
