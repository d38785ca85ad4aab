// Cell "From GD to SGD: the batch dimension": noise and real digits through a fresh MLP.
import { batchDemo } from '../../pkg/descent.js';
import { bind } from '../state.js';
import { sizeCanvas, parseSizes, readNumber, showError } from '../ui.js';

const $ = (id) => document.getElementById(id);

export function setup(ctx) {
  const m = bind($('batch-m'), 'batch.m');
  const hidden = bind($('batch-hidden'), 'batch.hidden');
  const act = bind($('batch-act'), 'batch.act');
  const canvases = [$('batch-noise-heat'), $('batch-digit-heat'), $('batch-digits')];

  function run() {
    showError($('batch-error'), null);
    try {
      const batch = readNumber(m, 'batch size', { min: 1, max: 1024, integer: true });
      const sizes = parseSizes(hidden.value);
      const dpr = canvases.map(sizeCanvas)[0];
      const r = batchDemo(ctx.data, sizes, act.value, ctx.seed(), batch, ...canvases, dpr);
      const chain = r.shapes.map(([a, b]) => `${a} × ${b}`).join(' → ');
      $('batch-shape').innerHTML =
        `<b>noise in:</b> ${batch} × 784 → <b>out:</b> <span class="shape" data-shape="${r.noiseOutput.join('x')}">${r.noiseOutput[0]} × ${r.noiseOutput[1]}</span>` +
        ` &nbsp;·&nbsp; <b>digits out:</b> ${r.digitsOutput[0]} × ${r.digitsOutput[1]}` +
        `<br><span class="chain">layer by layer: ${chain}</span> &nbsp;·&nbsp; ${r.parameters.toLocaleString()} parameters`;
    } catch (e) {
      showError($('batch-error'), e);
    }
  }
  $('batch-run').addEventListener('click', run);
  return { render: run };
}
