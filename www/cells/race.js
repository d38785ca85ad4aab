// Cell "Optimizer race": the ticked optimizers train from one seed side by side; their curves
// share two plots and a table marks the winner of each column.
import { Race, drawCurves } from '../../pkg/descent.js';
import { bind } from '../state.js';
import { sizeCanvas, parseSizes, readNumber, showError, pct } from '../ui.js';

const $ = (id) => document.getElementById(id);
/** Milliseconds of work per animation frame, for all runners together. */
const BUDGET_MS = 14;

const escape = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

export function setup(ctx) {
  // Each entrant's optimizer, fixed options, colour and label live in the page (data-*), so the
  // native test (tests/race_cell.rs) reads exactly the same defaults.
  const entrants = Array.from(document.querySelectorAll('#race [data-entrant]'), (el) => {
    const key = el.dataset.entrant;
    return {
      key,
      label: el.dataset.label,
      optimizer: el.dataset.optimizer,
      options: JSON.parse(el.dataset.options),
      color: Number(el.dataset.color),
      use: bind($(`race-use-${key}`), `race.${key}`),
      lr: bind($(`race-lr-${key}`), `race.${key}.lr`),
    };
  });
  const epochs = bind($('race-epochs'), 'race.epochs');
  const batch = bind($('race-batch'), 'race.batch');
  const hidden = bind($('race-hidden'), 'race.hidden');
  const runBtn = $('race-run');
  const stopBtn = $('race-stop');
  const status = $('race-status');
  const errBox = $('race-error-msg');
  const lossCanvas = $('race-loss');
  const errCanvas = $('race-error');
  const tbody = $('race-table').querySelector('tbody');
  let race = null;
  let running = false;
  let started = 0;

  function draw() {
    const dpr = sizeCanvas(lossCanvas);
    sizeCanvas(errCanvas);
    if (race) {
      race.drawLoss(lossCanvas, dpr);
      race.drawError(errCanvas, dpr);
      return;
    }
    const e = Number(epochs.value) || 1;
    drawCurves(lossCanvas, { title: 'training loss, moving average (β = 0.95)', xLabel: 'epoch', yLabel: 'cross-entropy', xMax: e, yRange: [0, 2.5], series: [] }, dpr);
    drawCurves(errCanvas, { title: 'validation error', xLabel: 'epoch', yLabel: 'error rate', xMax: e, yRange: [0, 1], series: [] }, dpr);
  }

  /** The results table; winners get a badge once the race is over (or stopped). */
  function table(r, showWinners) {
    const cell = (metric, i, text) => {
      const best = showWinners && r.best[metric] === i;
      return `<td data-metric="${metric}"${best ? ' class="best"' : ''}>${text}${best ? '<span class="badge">best</span>' : ''}</td>`;
    };
    tbody.innerHTML = r.entrants.map((e, i) => {
      const note = e.status === 'diverged' ? ` <span class="bad" title="${escape(e.message ?? '')}">diverged at step ${e.steps}</span>` : '';
      return `<tr data-status="${e.status}">` +
        `<td><span class="swatch c${e.color}"></span>${escape(e.name)}${note}</td>` +
        `<td>${e.lr}</td>` +
        cell('valError', i, e.valError == null ? '–' : pct(e.valError)) +
        cell('loss', i, e.loss == null ? '–' : e.loss.toFixed(3)) +
        cell('reach', i, e.reach == null ? (showWinners ? 'not reached' : '…') : `${e.reach.toFixed(1)} <small>(${pct(e.reachAccuracy)})</small>`) +
        `<td>${(e.computeMs / 1000).toFixed(1)} s</td></tr>`;
    }).join('');
  }

  /** `done`: null while running, else "finished", "stopped" or "error". */
  function report(done) {
    const r = race.report();
    table(r, Boolean(done));
    const steps = Math.min(...r.entrants.map((e) => (e.status === 'diverged' ? Infinity : e.steps)));
    const shown = Number.isFinite(steps) ? steps : r.totalSteps;
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const tail = done === 'stopped' ? ` · stopped after ${secs} s` : done ? ` · done in ${secs} s` : ` · ${secs} s`;
    const best = r.best.valError == null ? '' : ` · lowest validation error: <b>${escape(r.entrants[r.best.valError].name)}</b>`;
    status.innerHTML = `${r.entrants.length} optimizers · epoch ${(shown / r.stepsPerEpoch).toFixed(1)}, step ${shown}/${r.totalSteps} each${done ? best : ''}${tail}`;
    status.dataset.state = !done ? 'running' : done;
  }

  function finish(reason) {
    running = false;
    runBtn.disabled = false;
    stopBtn.disabled = true;
    draw();
    report(reason);
  }

  function frame() {
    if (!running) return;
    let more;
    try {
      more = race.runFor(BUDGET_MS);
    } catch (e) {
      showError(errBox, e);
      finish('error');
      return;
    }
    draw();
    if (!more) {
      finish('finished');
      return;
    }
    report(null);
    requestAnimationFrame(frame);
  }

  function start() {
    showError(errBox, null);
    let next;
    try {
      const runs = entrants.filter((e) => e.use.checked).map((e) => ({
        name: e.label,
        optimizer: e.optimizer,
        options: { ...e.options, lr: readNumber(e.lr, `${e.label} lr`, { min: 0, max: 100 }) },
        color: e.color,
      }));
      if (!runs.length) throw new Error('tick at least one optimizer to race');
      next = new Race(ctx.data, {
        seed: ctx.seed(),
        hidden: Array.from(parseSizes(hidden.value)),
        batchSize: readNumber(batch, 'batch size', { min: 1, max: ctx.data.trainSize, integer: true }),
        epochs: readNumber(epochs, 'epochs', { min: 1, max: 20, integer: true }),
        runs,
      });
    } catch (e) {
      showError(errBox, e);
      return;
    }
    race?.free();
    race = next;
    running = true;
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
