// defineCell: everything a notebook cell does besides its own controls, build call and
// read-out text, written once.
//
//   defineCell('sgd', {
//     controls: { lr: { label: 'learning rate' }, batch: { label: 'batch size', max: (ctx) => ctx.data.trainSize } },
//     build: (v, ctx) => new Compare(ctx.data, { … }),     // a lab experiment's wasm class
//     charts: { loss: { canvas: 'sgd-loss', empty: (v) => ({ kind: 'lines', … }) } },
//     readout: (report, phase) => 'html',                   // or { html, data: { … } }
//   }, ctx);
//
// What it owns:
// - each control bound to the URL (key `<cell>.<name>`), its limits read once from the
//   element's min / max / step attributes, and one message format for a bad value;
// - presets: `<button data-preset='{"lr": "0.3"}'>` in the cell's `.presets` set controls and run;
// - Run / Stop, the animation-frame loop and its time budget, freeing the experiment it
//   replaces (wasm memory is not garbage-collected);
// - one status vocabulary in the read-out's `data-state`: idle | running | finished | stopped |
//   diverged | error; the elapsed-time tail; a progress bar (done/total, time left) for any run
//   longer than a second;
// - an Export menu: settings, report and charts as JSON; each chart as CSV and PNG;
// - redrawing on resize (main.js calls `render`);
// - live controls (`live: true`): a change calls `live(values, experiment)` and redraws, with
//   no new run (a cell whose read-out is a function of what was recorded).
import { drawChart, chartCsv } from '../pkg/descent.js';
import { bind, get, forget } from './state.js';
import { sizeCanvas, showError } from './ui.js';

const $ = (id) => document.getElementById(id);
/**
 * Whether the wasm core trapped (ui.js's showError marks it `restarting`, or `failed` when it
 * could not be restarted): no frame may call it until the cells are reset.
 */
const coreFailed = () => 'core' in document.body.dataset;

/** Every cell's `reset`, for `resetCells`. */
const resets = [];

/**
 * The core was re-instantiated after a trap (main.js): every wasm object a cell holds is stale,
 * so each cell drops its experiment and goes back to idle, saying why; the cell whose error box
 * is `errorBox` keeps its error. Redraws the empty charts with the new instance.
 */
export function resetCells(where, errorBox) {
  for (const reset of resets) reset(where, errorBox);
}

/** The status words a cell's read-out carries in `data-state`. */
export const STATES = ['idle', 'running', 'finished', 'stopped', 'diverged', 'error'];

/** Milliseconds of work per animation frame by default: room for drawing within a 50 ms task. */
const BUDGET_MS = 12;

// Every running cell shares one frame. A single animation-frame loop gives the cells their
// turns, starting one further along the list each frame, while the frame's budget lasts (the
// first always gets its turn, so nothing starves; the others wait for a later frame): ten cells
// running at once hold a frame about as long as one does, where ten loops of their own would
// hold it ten times as long.
const FRAME_BUDGET_MS = 14;
const turns = new Set();
let ticking = false;
let rotation = 0;

/** Give `turn(budgetMs)` a turn in a coming frame. */
function schedule(turn) {
  turns.add(turn);
  if (!ticking) {
    ticking = true;
    requestAnimationFrame(tick);
  }
}

function tick() {
  ticking = false;
  const queue = [...turns];
  turns.clear();
  const t0 = performance.now();
  rotation = (rotation + 1) % Math.max(1, queue.length);
  for (let i = 0; i < queue.length; i++) {
    const turn = queue[(rotation + i) % queue.length];
    const left = FRAME_BUDGET_MS - (performance.now() - t0);
    if (i > 0 && left < 1) schedule(turn); // the frame is spent: the next one
    else turn(Math.max(1, left));
  }
}

/** A control's value, checked against its limits; throws an Error naming the control. */
function readControl(c, ctx) {
  const el = c.el;
  if (c.kind === 'check') return el.checked;
  if (c.kind === 'select') {
    if (![...el.options].some((o) => o.value === el.value)) throw new Error(`${c.label}: not one of the choices`);
    return el.value;
  }
  if (c.kind === 'text') return el.value;
  if (c.kind === 'sizes') {
    const parts = el.value.split(/[,\s]+/).filter((s) => s.length > 0);
    const sizes = parts.map(Number);
    const [lo, hi] = [c.min, c.max];
    if (sizes.some((v) => !Number.isInteger(v) || v < lo || v > hi)) {
      throw new Error(`${c.label}: "${el.value}" should be whole numbers from ${lo} to ${hi}, separated by commas`);
    }
    return sizes;
  }
  const min = typeof c.min === 'function' ? c.min(ctx) : c.min;
  const max = typeof c.max === 'function' ? c.max(ctx) : c.max;
  const v = Number(el.value);
  const integer = c.kind === 'int';
  if (el.value.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new Error(`${c.label}: "${el.value}" is not ${integer ? 'a whole number' : 'a number'} between ${min} and ${max}`);
  }
  return v;
}

/** The control's kind from its element: checkbox, select, number (int when step is 1), text. */
function kindOf(el) {
  if (el.type === 'checkbox') return 'check';
  if (el.tagName === 'SELECT') return 'select';
  if (el.type === 'number') return el.getAttribute('step') === 'any' ? 'number' : 'int';
  return 'text';
}

const attrNumber = (el, name, fallback) => (el.hasAttribute(name) ? Number(el.getAttribute(name)) : fallback);

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function defineCell(id, spec, ctx) {
  // instant: the experiment is computed at once (no Stop, no elapsed time worth showing)
  // tableName: the Export item of an experiment's own table (`tableCsv()`); progressUnit: what
  // its progress counts
  const { build, readout, charts = {}, budgetMs = BUDGET_MS, update, instant = false, tableName = 'table', progressUnit = 'steps' } = spec;
  const root = $(id);
  const status = $(spec.status ?? `${id}-status`);
  const errBox = $(spec.error ?? `${id}-error-msg`);
  const runBtn = $(spec.run ?? `${id}-run`); // may be absent for a cell that recomputes on change
  const stopBtn = instant ? null : $(spec.stop ?? `${id}-stop`);

  // Controls: element, URL key and limits, read once.
  // A value from the link that the control cannot hold (a tampered or stale link) goes back to
  // the control's default, and the cell says so; the page never stops for it.
  const controls = {};
  const fellBack = [];
  for (const [name, c] of Object.entries(spec.controls ?? {})) {
    const el = $(c.el ?? `${id}-${name}`);
    if (!el) throw new Error(`cell ${id}: no control #${c.el ?? `${id}-${name}`}`);
    const key = c.key ?? `${id}.${name}`;
    const isCheck = el.type === 'checkbox';
    const fallback = isCheck ? el.checked : el.value;
    const linked = get(key, null); // what the link says, before bind() puts it in the control
    bind(el, key);
    const kind = c.kind ?? kindOf(el);
    // limits: the spec's, else the element's attributes, else (sizes) the core's widths
    const [lo, hi] = kind === 'sizes' ? [1, 4096] : [-Infinity, Infinity];
    const control = { label: name, ...c, el, kind, min: c.min ?? attrNumber(el, 'min', lo), max: c.max ?? attrNumber(el, 'max', hi) };
    controls[name] = control;
    if (linked === null) continue;
    let bad = isCheck && linked !== 'true' && linked !== 'false';
    if (!bad) {
      try {
        readControl(control, ctx);
        // a number field drops text it cannot hold ("abc" reads back as ""), a slider snaps it to
        // its middle: either way what it holds is not what the link said
        bad = (el.type === 'number' || el.type === 'range') && Number(el.value) !== Number(linked);
      } catch {
        bad = true;
      }
    }
    if (bad) {
      if (isCheck) el.checked = fallback;
      else el.value = fallback;
      forget(key);
      fellBack.push(`${control.label} ("${linked.length > 40 ? `${linked.slice(0, 40)}…` : linked}") is not a value it takes, so it is back at ${isCheck ? (fallback ? 'on' : 'off') : `"${fallback}"`}`);
    }
  }
  if (fellBack.length > 0) {
    // its own box: a run's errors come and go in errBox, this stays until the student changes a control
    const note = document.createElement('div');
    note.className = 'error link-note';
    note.textContent = `From the link: ${fellBack.join('; ')}.`;
    errBox.before(note);
    root.addEventListener('change', () => note.remove(), { once: true });
  }
  const values = () => Object.fromEntries(Object.entries(controls).map(([n, c]) => [n, readControl(c, ctx)]));
  /** The values that parse (for drawing empty axes), the others left out. */
  const lenientValues = () => {
    const out = {};
    for (const [n, c] of Object.entries(controls)) {
      try { out[n] = readControl(c, ctx); } catch { /* drawn with the chart's own default */ }
    }
    return out;
  };

  // The progress bar and the Export menu, added to the cell once.
  const bar = document.createElement('div');
  bar.className = 'progress';
  bar.hidden = true;
  bar.innerHTML = '<progress max="1" value="0"></progress> <span></span>';
  status.after(bar);
  const exportMenu = document.createElement('details');
  exportMenu.className = 'export';
  exportMenu.innerHTML = '<summary>Export</summary><div class="export-items"></div>';
  (root.querySelector('.plots') ?? status).after(exportMenu);

  let exp = null;
  let running = false;
  // each start() begins a new frame loop; a loop from an earlier start ends at its next frame
  let generation = 0;
  let started = 0;
  let ended = null;
  let settings = null;
  status.dataset.state = 'idle';

  function draw() {
    for (const [name, c] of Object.entries(charts)) {
      const canvas = $(c.canvas);
      const dpr = sizeCanvas(canvas);
      if (exp) exp.draw(name, canvas, dpr);
      else if (c.empty) drawChart(canvas, c.empty(lenientValues(), ctx), dpr);
    }
  }

  function tail(phase) {
    if (instant) return '';
    const secs = (((ended ?? performance.now()) - started) / 1000).toFixed(1);
    if (phase === 'running') return ` · ${secs} s`;
    if (phase === 'stopped') return ` · stopped after ${secs} s`;
    return ` · done in ${secs} s`;
  }

  function show(phase) {
    const report = exp.report();
    const out = readout(report, phase, settings);
    const { html, data = {} } = typeof out === 'string' ? { html: out } : out;
    status.innerHTML = html + tail(phase);
    for (const [k, v] of Object.entries(data)) status.dataset[k] = v;
    status.dataset.state = phase;
    update?.(report, phase, settings);
    // progress: shown once a run has taken a second
    const { done, total } = report.progress ?? { done: 0, total: 0 };
    const elapsed = (performance.now() - started) / 1000;
    bar.hidden = !(phase === 'running' && total > 0 && elapsed > 1);
    if (!bar.hidden) {
      bar.querySelector('progress').value = done / total;
      const left = done > 0 ? (elapsed * (total - done)) / done : NaN;
      bar.querySelector('span').textContent = `${done.toLocaleString()} / ${total.toLocaleString()} ${progressUnit}${Number.isFinite(left) ? ` · about ${Math.ceil(left)} s left` : ''}`;
    }
    return report;
  }

  function finish(phase) {
    running = false;
    ended = performance.now();
    if (runBtn) runBtn.disabled = coreFailed();
    if (stopBtn) stopBtn.disabled = true;
    if (phase === 'stopped') exp.stop();
    draw();
    if (phase === 'error') {
      status.dataset.state = 'error';
      bar.hidden = true;
      return;
    }
    // a run that ended by itself says how: finished, diverged, or stopped by a rule
    const word = exp.report().status;
    show(phase === 'finished' && STATES.includes(word) && word !== 'running' ? word : phase);
    fillExport();
  }

  function frame(gen, shareMs = budgetMs) {
    if (!running || gen !== generation) return;
    if (coreFailed()) {
      running = false; // the core trapped elsewhere: no more calls into it
      return;
    }
    const t0 = performance.now();
    let more;
    try {
      more = exp.runFor(Math.min(budgetMs, shareMs));
      draw();
    } catch (e) {
      showError(errBox, e);
      if (!(e instanceof WebAssembly.RuntimeError)) finish('error');
      else if (running) {
        // a trap the core could not recover from (a recovered one has reset this cell already):
        // the experiment is not called again
        running = false;
        status.dataset.state = 'error';
        bar.hidden = true;
        if (stopBtn) stopBtn.disabled = true;
      }
      return;
    }
    if (!more) {
      finish('finished');
      return;
    }
    show('running');
    window.__frameTimes?.push(performance.now() - t0); // set by the end-to-end tests
    schedule((share) => frame(gen, share));
  }

  function start() {
    if (coreFailed()) return;
    showError(errBox, null);
    let next;
    try {
      settings = values();
      next = build(settings, ctx);
    } catch (e) {
      showError(errBox, e);
      return;
    }
    exp?.free(); // the replaced experiment's wasm memory (and GPU buffers) go now, not at GC
    exp = next;
    running = true;
    started = performance.now();
    ended = null;
    if (runBtn) runBtn.disabled = !instant;
    if (stopBtn) stopBtn.disabled = false;
    show('running');
    fillExport();
    const gen = ++generation;
    schedule((share) => frame(gen, share));
  }

  function fillExport() {
    exportMenu.hidden = !exp;
    const items = exportMenu.querySelector('.export-items');
    items.innerHTML = '';
    const add = (text, make) => {
      const b = document.createElement('button');
      b.className = 'link';
      b.textContent = text;
      b.addEventListener('click', () => {
        try {
          make();
        } catch (e) {
          showError(errBox, e);
        }
      });
      items.append(b);
    };
    add('settings and results (JSON)', () => {
      const all = { cell: id, url: location.href, seed: ctx.seed(), settings, report: exp.report(), charts: {} };
      for (const name of Object.keys(charts)) all.charts[name] = exp.chart(name);
      if (exp.history) all.history = exp.history(); // every run's full record, where the experiment keeps one
      download(`${id}.json`, new Blob([JSON.stringify(all, null, 2)], { type: 'application/json' }));
    });
    if (exp?.historyCsv) add('full history (CSV)', () => download(`${id}-history.csv`, new Blob([exp.historyCsv()], { type: 'text/csv' })));
    if (exp?.tableCsv) add(`${tableName} (CSV)`, () => download(`${id}-${tableName.replace(/\W+/g, '-')}.csv`, new Blob([exp.tableCsv()], { type: 'text/csv' })));
    for (const [name, c] of Object.entries(charts)) {
      add(`${name} (CSV)`, () => download(`${id}-${name}.csv`, new Blob([chartCsv(exp.chart(name))], { type: 'text/csv' })));
      add(`${name} (PNG)`, () => $(c.canvas).toBlob((b) => download(`${id}-${name}.png`, b), 'image/png'));
    }
  }

  // Presets: set the controls they name, then run.
  for (const b of root.querySelectorAll('.presets button[data-preset]')) {
    b.addEventListener('click', () => {
      for (const [name, v] of Object.entries(JSON.parse(b.dataset.preset))) {
        const c = controls[name];
        if (!c) continue;
        if (c.kind === 'check') c.el.checked = Boolean(v);
        else c.el.value = String(v);
        c.el.dispatchEvent(new Event('change'));
      }
      start();
    });
  }

  // Live controls: re-read the recorded run, train nothing.
  const liveNames = Object.keys(controls).filter((n) => controls[n].live);
  const liveValues = () => Object.fromEntries(liveNames.map((n) => [n, readControl(controls[n], ctx)]));
  for (const n of liveNames) {
    controls[n].el.addEventListener('change', () => {
      if (!exp || !spec.live) return;
      try {
        showError(errBox, null);
        spec.live(liveValues(), exp);
        draw();
        show(running ? 'running' : status.dataset.state);
      } catch (e) {
        showError(errBox, e);
      }
    });
  }

  // After a trap: the experiment belongs to the old instance, so it is only let go (its methods
  // throw; its free() would not, and would free a pointer of the new instance's memory); a
  // pooled one's jobs are cancelled (`abandon`). `spec.reset` drops
  // whatever else of the old instance the cell keeps.
  resets.push((where, trappedBox) => {
    generation++; // the running frame loop, if any, ends
    running = false;
    exp?.abandon?.();
    exp = null;
    settings = null;
    spec.reset?.();
    bar.hidden = true;
    if (runBtn) runBtn.disabled = false;
    if (stopBtn) stopBtn.disabled = true;
    fillExport();
    if (trappedBox === errBox) {
      status.textContent = '';
      status.dataset.state = 'error';
    } else {
      showError(errBox, null);
      status.textContent = `The core was restarted after an error in “${where}”; press Run to start again.`;
      status.dataset.state = 'idle';
    }
    draw();
  });

  runBtn?.addEventListener('click', start);
  stopBtn?.addEventListener('click', () => {
    if (running) finish('stopped');
  });
  fillExport();
  return { render: draw, start, values, liveValues, controls };
}
