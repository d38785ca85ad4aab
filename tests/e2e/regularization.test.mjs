// Cell "L1 and L2" (section 11a): the runs train, the table counts exact zeros, the histogram
// and the weight pictures are drawn, the L1 mode switched mid-run is marked and makes zeros,
// and a λ typed in Keras's convention is read as twice that in ours.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openPage, inkedPixels, screenshot } from './helpers.mjs';

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

const zeros = async (page, run) => page.textContent(`#l1-l2-table tr[data-run="${run}"] td[data-col="zeros"]`);

test('L1 and L2: exact zeros from the proximal switch mid-run, histogram and pictures; AdamW under Adam; Keras λ', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  assert.ok(await inkedPixels(page, '#l1-l2-error') > 1000, 'empty axes on load');
  assert.match(await page.textContent('#l1-l2-lambda'), /λ₁ = 0\.0005 · λ₂ = 0\.01 as PyTorch weight_decay/);
  // small and quick: 200 digits, 64 units, SGD, λ₁ = 0.001
  await page.fill('#l1-l2-n', '200');
  await page.fill('#l1-l2-hidden', '64');
  await page.fill('#l1-l2-epochs', '12');
  await page.fill('#l1-l2-l1', '-3');
  await page.dispatchEvent('#l1-l2-l1', 'input');
  assert.match(await page.textContent('#l1-l2-lambda'), /λ₁ = 0\.001 /, 'the λ line follows the slider');
  await page.click('#l1-l2-run');
  // one epoch in, switch L1 to the proximal step while it trains
  await page.waitForFunction(() => {
    const td = document.querySelector('#l1-l2-table tr[data-run="L1"] td:nth-child(3)');
    return td && td.textContent !== '–';
  }, null, { timeout: 60_000 });
  assert.equal(await page.getAttribute('#l1-l2-status', 'data-state'), 'running');
  assert.match(await zeros(page, 'L1'), /^0 of 50,176/, 'by subgradient: no exact zeros');
  await page.selectOption('#l1-l2-mode', 'proximal');
  await page.waitForSelector('#l1-l2-status[data-state="finished"]', { timeout: 180_000 });
  assert.deepEqual(await page.$$eval('#l1-l2-table tbody tr', (r) => r.map((x) => x.dataset.run)), ['none', 'L1', 'L2'], 'no AdamW under SGD');
  assert.match(await zeros(page, 'none'), /^0 of 50,176/);
  const l1 = Number((await zeros(page, 'L1')).split(' ')[0].replace(/,/g, ''));
  assert.ok(l1 > 2000, `the proximal step from the switch on makes exact zeros (${l1})`);
  assert.match(await page.textContent('#l1-l2-table tr[data-run="L2"]'), /L2 λ₂ = 0\.01 \(coupled\)\d+\.\d%\d+\.\d%/, 'validation and training error in the table');
  assert.equal(await page.isVisible('#l1-l2-weights3'), false, 'no AdamW pictures under SGD');
  assert.match(await page.textContent('#l1-l2-table tr[data-run="L1"]'), /proximal/);
  assert.match(await page.textContent('#l1-l2-status'), /L1 by proximal, λ₁ = 0\.001 · λ₂ = 0\.01 here = PyTorch weight_decay 0\.01 = Keras l2\(0\.005\) = Playground rate 0\.01/);
  for (const id of ['error', 'magnitudes', 'weights0', 'weights1', 'weights2']) {
    assert.ok(await inkedPixels(page, `#l1-l2-${id}`) > 5000, `#l1-l2-${id} is drawn`);
  }
  await screenshot(await page.$('#l1-l2'), 'cell-l1-l2');

  // Adam adds the AdamW run; λ₂ typed in Keras's convention is twice as strong in ours
  await page.click('#l1-l2 .presets button:has-text("Adam")');
  await page.waitForSelector('#l1-l2-status[data-state="running"]');
  await page.click('#l1-l2-stop');
  await page.fill('#l1-l2-epochs', '2');
  await page.selectOption('#l1-l2-convention', 'keras');
  assert.match(await page.textContent('#l1-l2-lambda'), /λ₂ = 0\.01 as Keras l2/);
  await page.click('#l1-l2-run');
  await page.waitForSelector('#l1-l2-status[data-state="finished"]', { timeout: 120_000 });
  assert.deepEqual(await page.$$eval('#l1-l2-table tbody tr', (r) => r.map((x) => x.dataset.run)), ['none', 'L1', 'L2', 'AdamW']);
  assert.match(await page.textContent('#l1-l2-status'), /λ₂ = 0\.02 here = PyTorch weight_decay 0\.02 = Keras l2\(0\.01\)/);
  assert.match(await page.textContent('#l1-l2-table tr[data-run="L2"]'), /λ₂ = 0\.02/);
  assert.match(await page.textContent('#l1-l2-table tr[data-run="AdamW"]'), /weight_decay = 0\.02/);
  assert.ok(await inkedPixels(page, '#l1-l2-weights3') > 5000, 'AdamW pictures are drawn');
  await screenshot(await page.$('#l1-l2'), 'cell-l1-l2-adam');
  // a bad value is named
  await page.fill('#l1-l2-n', '5');
  await page.click('#l1-l2-run');
  assert.match(await page.textContent('#l1-l2-error-msg'), /training digits: "5" is not a whole number between 100 and/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('L1 and L2: the validation curve over log λ trains in the pool and marks its best λ', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  assert.ok(await inkedPixels(page, '#l1-l2-sweep-chart') > 1000, 'empty axes on load');
  // the sweep takes the network and data of the cell above
  await page.fill('#l1-l2-n', '200');
  await page.fill('#l1-l2-hidden', '32');
  await page.fill('#l1-l2-sweep-from', '-4');
  await page.fill('#l1-l2-sweep-to', '-0.5');
  await page.fill('#l1-l2-sweep-points', '3');
  await page.fill('#l1-l2-sweep-epochs', '3');
  await page.click('#l1-l2-sweep-run');
  await page.waitForSelector('#l1-l2-sweep-status[data-state="finished"]', { timeout: 180_000 });
  assert.equal(await page.getAttribute('#l1-l2-sweep-status', 'data-ended'), '4', 'the run without a penalty and 3 λ');
  const best = Number(await page.getAttribute('#l1-l2-sweep-status', 'data-best'));
  assert.ok([1e-4, 10 ** -2.25, 10 ** -0.5].some((l) => Math.abs(l - best) < 1e-9 * l), `the best λ is a grid point (${best})`);
  assert.match(await page.textContent('#l1-l2-sweep-status'), /^best λ₂ = [\d.e-]+: validation error [\d.]+% ± [\d.]+% · no penalty [\d.]+% · 4 of 4 runs done/);
  assert.ok(await inkedPixels(page, '#l1-l2-sweep-chart') > 5000, 'the curve is drawn');
  await screenshot(await page.$('#l1-l2-sweep'), 'cell-l1-l2-sweep');
  // a bad range is named
  await page.fill('#l1-l2-sweep-to', '-6');
  await page.click('#l1-l2-sweep-run');
  assert.match(await page.textContent('#l1-l2-sweep-error-msg'), /to: "-6" is not a number between -7 and 0|from must be below to/);
  assert.deepEqual(errors, []);
  await context.close();
});
