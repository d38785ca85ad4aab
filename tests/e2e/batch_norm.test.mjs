// Cell "Batch normalization": both networks train (small settings), the read-out and the tables
// fill in, every canvas is drawn anew (the charts' data in colour where the empty axes had
// none), the identity exercise finds γ = √(σ²_B + ε), β = μ_B to float
// precision (and a wrong choice is not), a bad value is named.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openPage, inkedPixels, colouredPixels, screenshot, watchResponsiveness, responsiveness, assertResponsive } from './helpers.mjs';

let server;
let browser;
before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const CANVASES = ['loss', 'error', 'percentiles', 'percentiles-bn', 'activations', 'activations-bn', 'running-mean', 'running-var', 'affine-chart', 'smoothness', 'profile'];
/** How many coloured pixels a run adds to each canvas at least: an empty chart's frame, grid
 * and text are grey ink (more of it than a drawn chart's: empty axes have a finer grid), so only
 * the colour says the lines and dots are there. Observed on the settings below: 0 on every empty
 * canvas; after the run 4,800–13,600 on the line charts, 79,000 and 270,000 on the violins. */
const COLOURED = {
  'loss': 3000, 'error': 2500, 'percentiles': 4000, 'percentiles-bn': 4000, 'activations': 20000, 'activations-bn': 20000,
  'running-mean': 5000, 'running-var': 5000, 'affine-chart': 4000, 'smoothness': 4000, 'profile': 3000,
};

test('batch normalization: plain vs batch-norm, running statistics, train vs eval, the identity exercise', async (t) => {
  const { page, errors, context } = await openPage(browser, server.url);
  // before a run: the check asks for one, and the axes are drawn
  await page.click('#batch-norm-check');
  assert.match(await page.textContent('#batch-norm-identity'), /Run the cell first/);
  assert.ok(await inkedPixels(page, '#batch-norm-percentiles') > 1000, 'empty axes on load');
  const blank = {};
  const look = {};
  const picture = (c) => page.$eval(`#batch-norm-${c}`, (el) => el.toDataURL());
  for (const c of CANVASES) [blank[c], look[c]] = [await colouredPixels(page, `#batch-norm-${c}`), await picture(c)];
  // a bad value is named, nothing runs
  await page.fill('#batch-norm-batch', '1');
  await page.click('#batch-norm-run');
  assert.match(await page.textContent('#batch-norm-error-msg'), /batch size: "1" is not a whole number between 2 and \d+/);
  // small: three layers of 32, one epoch of 64-digit batches
  await page.fill('#batch-norm-batch', '64');
  await page.fill('#batch-norm-hidden', '32, 32, 32');
  await page.fill('#batch-norm-layer', '2');
  await page.fill('#batch-norm-epochs', '1');
  await watchResponsiveness(page);
  await page.click('#batch-norm-run');
  await page.waitForSelector('#batch-norm-status[data-state="finished"]', { timeout: 120_000 });
  const seen = await responsiveness(page);
  const text = await page.textContent('#batch-norm-status');
  assert.match(text, /plain \((?:[^()]|\([^)]*\))+\): validation error [\d.]+%/);
  assert.match(text, /batch-norm \((?:[^()]|\([^)]*\))+\): validation error [\d.]+%/);
  assert.match(text, /running statistics of layer 2, units 1, 2, 3 at step \d+: mean .* \(momentum 0\.1 in PyTorch's convention = 0\.9 in Keras's\)/);
  assert.match(text, /whole training set \([\d,]+ digits\) at step \d+/);
  assert.match(text, /loss range along the gradient: plain [\d.e-]+ \(\|g\| [\d.e-]+\) · batch-norm/);
  const modes = await page.$$eval('#batch-norm-modes tbody tr', (r) => r.map((x) => [...x.cells].map((c) => c.textContent)));
  assert.deepEqual(modes.map((m) => m[0]), ['2', '4', '8', '32', '128']);
  assert.equal(new Set(modes.map((m) => m[2])).size, 1, 'evaluation mode does not depend on the batch size');
  const affine = await page.$$eval('#batch-norm-affine tbody tr', (r) => r.length);
  assert.equal(affine, 3, 'γ and β of the three followed units');
  // every canvas drawn anew, and the data in colour where there was none (or little) before
  for (const c of CANVASES) {
    assert.notEqual(await picture(c), look[c], `#batch-norm-${c} is drawn`);
    assert.ok(await inkedPixels(page, `#batch-norm-${c}`) > 3000, `#batch-norm-${c} has ink`);
    const coloured = await colouredPixels(page, `#batch-norm-${c}`);
    assert.ok(coloured > blank[c] + COLOURED[c], `#batch-norm-${c}: ${coloured} coloured pixels after the run, ${blank[c]} before`);
  }

  // the identity exercise
  await page.selectOption('#batch-norm-gamma', 'std_eps');
  await page.selectOption('#batch-norm-beta', 'mean');
  await page.click('#batch-norm-check');
  const right = Number(await page.getAttribute('#batch-norm-identity', 'data-difference'));
  assert.ok(right < 1e-5, `γ = √(σ²_B + ε), β = μ_B gives the input back (largest difference ${right})`);
  assert.match(await page.textContent('#batch-norm-identity'), /gives back its input/);
  await page.selectOption('#batch-norm-gamma', 'one');
  await page.selectOption('#batch-norm-beta', 'zero');
  await page.click('#batch-norm-check');
  const wrong = Number(await page.getAttribute('#batch-norm-identity', 'data-difference'));
  assert.ok(wrong > 1e-2, `γ = 1, β = 0 only standardizes (${wrong})`);
  assert.match(await page.textContent('#batch-norm-identity'), /not the identity/);
  await page.selectOption('#batch-norm-gamma', 'std_eps');
  await page.selectOption('#batch-norm-beta', 'mean');
  await page.click('#batch-norm-check');

  await screenshot(await page.$('#batch-norm'), 'cell-batch-norm');
  assertResponsive(t, seen, 'batch-norm cell');
  assert.deepEqual(errors, []);
  await context.close();
});
