// Cell "Optimizer race" (lab::race): the ticked optimizers train from one seed side by side;
// their curves share two plots and a table marks the winner of each column.
import { Race } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { pct, escapeHtml } from '../ui.js';


export function setup(ctx) {
  // Each entrant's optimizer, fixed options, colour and label live in the page (data-*), so the
  // native test (tests/race_cell.rs) reads exactly the same defaults.
  const entrants = Array.from(document.querySelectorAll('#race [data-entrant]'), (el) => ({
    key: el.dataset.entrant,
    label: el.dataset.label,
    optimizer: el.dataset.optimizer,
    options: JSON.parse(el.dataset.options),
    color: Number(el.dataset.color),
  }));
  const controls = {
    epochs: { label: 'epochs' },
    batch: { label: 'batch size', max: (c) => c.data.trainSize },
    hidden: { label: 'hidden sizes', kind: 'sizes' },
  };
  for (const e of entrants) {
    controls[`use-${e.key}`] = { key: `race.${e.key}` };
    controls[`lr-${e.key}`] = { key: `race.${e.key}.lr`, label: `${e.label} lr`, kind: 'number', max: 100 };
  }
  const tbody = document.querySelector('#race-table tbody');

  /** The results table; winners get a badge once the race is over (or stopped). */
  function table(r, showWinners) {
    const cell = (metric, i, text) => {
      const best = showWinners && r.best[metric] === i;
      return `<td data-metric="${metric}"${best ? ' class="best"' : ''}>${text}${best ? '<span class="badge">best</span>' : ''}</td>`;
    };
    tbody.innerHTML = r.entrants.map((e, i) => {
      const note = e.status === 'diverged' ? ` <span class="bad" title="${escapeHtml(e.message ?? '')}">diverged at step ${e.steps}</span>` : '';
      return `<tr data-status="${e.status}">` +
        `<td><span class="swatch c${e.color}"></span>${escapeHtml(e.name)}${note}</td>` +
        `<td>${e.lr}</td>` +
        cell('valError', i, e.valError == null ? '–' : pct(e.valError)) +
        cell('loss', i, e.loss == null ? '–' : e.loss.toFixed(3)) +
        cell('reach', i, e.reach == null ? (showWinners ? 'not reached' : '…') : `${e.reach.toFixed(1)} <small>(${pct(e.reachAccuracy)})</small>`) +
        `<td>${(e.computeMs / 1000).toFixed(1)} s</td></tr>`;
    }).join('');
  }

  return defineCell('race', {
    controls,
    build(v, c) {
      const runs = entrants.filter((e) => v[`use-${e.key}`]).map((e) => ({
        name: e.label,
        optimizer: e.optimizer,
        options: { ...e.options, lr: v[`lr-${e.key}`] },
        color: e.color,
      }));
      if (!runs.length) throw new Error('tick at least one optimizer to race');
      return new Race(c.data, { seed: c.seed(), hidden: v.hidden, batchSize: v.batch, epochs: v.epochs, runs });
    },
    charts: {
      loss: {
        canvas: 'race-loss',
        empty: (v) => ({ title: 'training loss, moving average (β = 0.95)', xLabel: 'epoch', yLabel: 'cross-entropy', xMax: v.epochs ?? 1, yRange: [0, 2.5], series: [] }),
      },
      error: {
        canvas: 'race-error',
        empty: (v) => ({ title: 'validation error', xLabel: 'epoch', yLabel: 'error rate', xMax: v.epochs ?? 1, yRange: [0, 1], series: [] }),
      },
    },
    readout(r, phase) {
      const steps = Math.min(...r.entrants.map((e) => (e.status === 'diverged' ? Infinity : e.steps)));
      const shown = Number.isFinite(steps) ? steps : r.totalSteps;
      const best = phase !== 'running' && r.best.valError != null ? ` · lowest validation error: <b>${escapeHtml(r.entrants[r.best.valError].name)}</b>` : '';
      return `${r.entrants.length} optimizers · epoch ${(shown / r.stepsPerEpoch).toFixed(1)}, step ${shown}/${r.totalSteps} each${best}`;
    },
    update: (r, phase) => table(r, phase !== 'running'),
  }, ctx);
}
