// Cell "From GD to SGD: the batch dimension" (lab::batch): noise and real digits through a fresh
// MLP. Nothing trains, so an experiment is finished as soon as it is built: Run, a new seed and
// a resize all recompute it (render is start).
import { Batch } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';

const $ = (id) => document.getElementById(id);

/** The shapes: both batches in and out, and the chain through every layer. */
function shapes(r) {
  const [m, features] = r.shapes[0];
  const chain = r.shapes.map(([a, b]) => `${a} × ${b}`).join(' → ');
  return `<b>noise in:</b> ${m} × ${features} → <b>out:</b> <span class="shape" data-shape="${r.noiseOutput.join('x')}">${r.noiseOutput[0]} × ${r.noiseOutput[1]}</span>` +
    ` &nbsp;·&nbsp; <b>digits out:</b> ${r.digitsOutput[0]} × ${r.digitsOutput[1]}` +
    `<br><span class="chain">layer by layer: ${chain}</span> &nbsp;·&nbsp; ${r.parameters.toLocaleString()} parameters`;
}

export function setup(ctx) {
  const cell = defineCell('batch', {
    controls: {
      m: { label: 'batch size' },
      hidden: { label: 'hidden sizes', kind: 'sizes', min: 1, max: 4096 },
      act: {},
    },
    status: 'batch-shape',
    error: 'batch-error',
    build: (v, c) => new Batch(c.data, { seed: c.seed(), hidden: v.hidden, activation: v.act, batchSize: v.m }),
    charts: {
      noiseSoftmax: { canvas: 'batch-noise-heat' },
      digitSoftmax: { canvas: 'batch-digit-heat' },
      digits: { canvas: 'batch-digits' },
    },
    readout: shapes,
    // defineCell appends the elapsed time; an instant computation has none worth showing
    update: (r) => { $('batch-shape').innerHTML = shapes(r); },
  }, ctx);
  return { ...cell, render: cell.start };
}
