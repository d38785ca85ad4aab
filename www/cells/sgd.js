// Cell "A simple optimizer": vanilla mini-batch SGD on MNIST (lab::compare), optionally the
// mean and the sum reduction side by side from one seed.
import { Compare } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { pct } from '../ui.js';

export function setup(ctx) {
  return defineCell('sgd', {
    controls: {
      lr: { label: 'learning rate' },
      batch: { label: 'batch size', max: (c) => c.data.trainSize },
      hidden: { label: 'hidden sizes', kind: 'sizes' },
      epochs: { label: 'epochs' },
      reduction: {},
      compare: {},
    },
    build(v, c) {
      const base = { hidden: v.hidden, seed: c.seed(), optimizer: 'sgd', options: { lr: v.lr }, batchSize: v.batch, epochs: v.epochs };
      const wanted = v.compare ? ['mean', 'sum'] : [v.reduction];
      const label = (red) => v.compare
        ? `${red} (lr ${v.lr}${red === 'sum' ? ` ≈ ${+(v.lr * v.batch).toPrecision(3)} averaged` : ''})`
        : `SGD lr ${v.lr}, ${red}`;
      return new Compare(c.data, { runs: wanted.map((red, i) => ({ label: label(red), color: i, run: { ...base, reduction: red } })) });
    },
    charts: {
      loss: {
        canvas: 'sgd-loss',
        empty: () => ({ title: 'training loss per mini-batch', xLabel: 'step', yLabel: 'cross-entropy', xMax: 1, yRange: [0, 2.5], series: [] }),
      },
      error: {
        canvas: 'sgd-error',
        empty: () => ({ title: 'error per epoch', xLabel: 'epoch', yLabel: 'error rate', xMax: 1, yRange: [0, 1], series: [] }),
      },
    },
    readout(r) {
      const lines = r.runs.map((run) => {
        let text = `<b>${run.label}</b>: epoch ${run.epoch}/${run.epochs}, step ${run.steps}/${run.totalSteps}`;
        if (run.last) text += `, validation accuracy <b class="acc">${pct(1 - run.last.val_error)}</b>`;
        if (run.status === 'diverged') text += ` — <span class="bad">${run.message}</span>`;
        return text;
      });
      const last = r.runs[0]?.last;
      return { html: lines.join('<br>'), data: { valAccuracy: last ? String(1 - last.val_error) : '' } };
    },
  }, ctx);
}
