// Cell "A simple optimizer": vanilla SGD trains on MNIST in the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openPage, inkedPixels, screenshot, watchResponsiveness, responsiveness, assertResponsive } from './helpers.mjs';

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

test('defaults reach at least 90% validation accuracy within 3 epochs, page stays responsive', async (t) => {
  const { page, errors, context } = await openPage(browser, server.url);
  await watchResponsiveness(page);
  const blank = await inkedPixels(page, '#sgd-loss');
  await page.click('#sgd-run');
  await page.waitForSelector('#sgd-status[data-state="finished"]', { timeout: 120_000 });
  const acc = Number(await page.getAttribute('#sgd-status', 'data-val-accuracy'));
  assert.ok(acc >= 0.9, `validation accuracy ${acc}`);
  assert.match(await page.textContent('#sgd-status'), /epoch 3\/3/);
  assert.ok(await inkedPixels(page, '#sgd-loss') > blank + 500, 'the loss curve was drawn');
  assert.ok(await inkedPixels(page, '#sgd-error') > 2000, 'the error curves were drawn');
  assertResponsive(t, await responsiveness(page), 'SGD cell');
  await screenshot(await page.$('#sgd'), 'cell-sgd');
  assert.deepEqual(errors, []);
  await context.close();
});

test('Stop halts a run mid-way', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.fill('#sgd-epochs', '20');
  await page.click('#sgd-run');
  await page.waitForFunction(() => /step [1-9]\d*\//.test(document.querySelector('#sgd-status').textContent));
  await page.click('#sgd-stop');
  await page.waitForSelector('#sgd-status[data-state="stopped"]');
  const steps = await page.textContent('#sgd-status');
  await page.waitForTimeout(300);
  assert.equal(await page.textContent('#sgd-status'), steps, 'no steps after Stop');
  assert.ok(!(await page.isDisabled('#sgd-run')), 'Run is available again');
  assert.deepEqual(errors, []);
  await context.close();
});

test('too large a learning rate ends with a clear message, not NaN plots', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.click('#sgd .presets button:has-text("lr = 5")');
  await page.waitForSelector('#sgd-status[data-state="diverged"]', { timeout: 60_000 });
  assert.match(await page.textContent('#sgd-status'), /loss (became (NaN|infinite)|exploded to [\d.]+) at step \d+.*: lower the learning rate/);
  await screenshot(await page.$('#sgd'), 'cell-sgd-diverged');
  assert.deepEqual(errors, []);
  await context.close();
});

test('mean vs sum: the same seed, summing diverges or moves much faster at the same lr', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.check('#sgd-compare');
  await page.fill('#sgd-epochs', '1');
  await page.click('#sgd-run');
  await page.waitForFunction(() => ['finished', 'diverged'].includes(document.querySelector('#sgd-status').dataset.state), null, { timeout: 60_000 });
  const text = await page.textContent('#sgd-status');
  assert.match(text, /mean \(lr 0\.3\)/);
  assert.match(text, /sum \(lr 0\.3 ≈ 9\.6 averaged\)/);
  assert.match(text, /sum[^]*lower the learning rate/);
  await screenshot(await page.$('#sgd'), 'cell-sgd-mean-vs-sum');
  assert.deepEqual(errors, []);
  await context.close();
});

test('invalid settings get a message', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.fill('#sgd-lr', '-1');
  await page.click('#sgd-run');
  assert.match(await page.textContent('#sgd-error-msg'), /learning rate/);
  await page.fill('#sgd-lr', '0.3');
  await page.fill('#sgd-hidden', '12, x');
  await page.click('#sgd-run');
  assert.match(await page.textContent('#sgd-error-msg'), /hidden sizes/);
  // a network and batch whose every step would take seconds: refused with its cost, the page never freezes
  await page.fill('#sgd-hidden', '2048, 2048');
  await page.fill('#sgd-batch', '7000');
  const t0 = Date.now();
  await page.click('#sgd-run');
  assert.match(await page.textContent('#sgd-error-msg'), /costs 244\.5 GFLOP, about [\d.]+ s a step at the \d+ GFLOP\/s (measured on this machine|of a typical core)/);
  assert.ok(Date.now() - t0 < 5000, `refused at once, not after a step (${Date.now() - t0} ms)`);
  assert.notEqual(await page.getAttribute('#sgd-status', 'data-state'), 'running');
  assert.deepEqual(errors, []);
  await context.close();
});
