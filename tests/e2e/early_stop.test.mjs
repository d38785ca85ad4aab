// Cell "Tracking metrics and early stopping": the run trains and overfits, every rule is
// marked and tabled, and moving a rule's knob moves its stop without a new run.
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

const stops = (page) => page.getAttribute('#early-stop-status', 'data-stops');
const live = (page) => page.evaluate(async () => (await import('./pkg/descent.js')).liveExperiments());

test('early stopping: the rules stop an overfitting run, and a knob moves its stop without training', async (t) => {
  const { page, errors, context } = await openPage(browser, server.url);
  assert.ok(await inkedPixels(page, '#early-stop-error') > 1000, 'empty axes on load');
  // small enough to be quick, still overfitting: 300 digits, a wide layer, Adam
  await page.fill('#early-stop-n', '300');
  await page.fill('#early-stop-hidden', '128');
  await page.fill('#early-stop-lr', '0.003');
  await page.fill('#early-stop-epochs', '25');
  await watchResponsiveness(page);
  await page.click('#early-stop-run');
  await page.waitForSelector('#early-stop-status[data-state="finished"]', { timeout: 180_000 });
  const text = await page.textContent('#early-stop-status');
  assert.match(text, /^epoch 25\/25 · cost: loss free · training error \+[\d.]+ ms an epoch for the full pass · validation \+[\d.]+ ms a check/);
  assert.match(text, /best check: epoch \d+, validation error [\d.]+% · noise floor ±[\d.]+%/);
  const rows = await page.$$eval('#early-stop-table tbody tr', (r) => r.map((x) => x.dataset.rule));
  assert.deepEqual(rows, ['patience', 'GL', 'PQ', 'UP', 'cumulative']);
  const patienceStop = await page.textContent('#early-stop-table tr[data-rule="patience"] td[data-col="stop"]');
  assert.match(patienceStop, /^\d+$/, 'patience stops this overfitting run');
  const seen = await responsiveness(page);

  // a knob: no new run, the stop moves
  const before = { stops: await stops(page), live: await live(page), status: text };
  await page.fill('#early-stop-patience', '1');
  await page.dispatchEvent('#early-stop-patience', 'change');
  await page.waitForFunction((old) => document.querySelector('#early-stop-status').dataset.stops !== old, before.stops, { timeout: 5000 });
  const moved = await page.textContent('#early-stop-table tr[data-rule="patience"] td[data-col="stop"]');
  assert.ok(Number(moved) < Number(patienceStop), `patience 1 stops earlier (${moved}) than 5 (${patienceStop})`);
  assert.equal(await live(page), before.live, 'nothing was built');
  assert.equal(await page.getAttribute('#early-stop-status', 'data-state'), 'finished');
  assert.match(await page.textContent('#early-stop-status'), /^epoch 25\/25/, 'the same run');
  // validating every 5 epochs: the rules read every fifth check, so their stops fall on those epochs
  await page.fill('#early-stop-every', '5');
  await page.dispatchEvent('#early-stop-every', 'change');
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#early-stop-table tr[data-rule="patience"] td[data-col="stop"]').textContent), null, { timeout: 5000 });
  const every5 = Number(await page.textContent('#early-stop-table tr[data-rule="patience"] td[data-col="stop"]'));
  assert.ok(every5 % 5 === 0 && every5 >= 10, `patience 1 on every fifth epoch stops at a multiple of 5, at least 5 epochs after a best (${every5})`);
  await page.fill('#early-stop-every', '1');
  await page.dispatchEvent('#early-stop-every', 'change');
  // a bad knob is named, and the table keeps the last good verdict
  await page.fill('#early-stop-window', '0');
  await page.dispatchEvent('#early-stop-window', 'change');
  assert.match(await page.textContent('#early-stop-error-msg'), /window: "0" is not a whole number between 1 and 100/);
  await page.fill('#early-stop-window', '5');
  await page.dispatchEvent('#early-stop-window', 'change');
  assert.equal(await page.isVisible('#early-stop-error-msg'), false);

  assert.ok(await inkedPixels(page, '#early-stop-error') > 5000, 'the error curves and markers are drawn');
  // the record exports as CSV, a row per step with the epoch's and the check's columns
  await page.click('#early-stop details.export summary');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#early-stop details.export button:has-text("full history (CSV)")')]);
  const csv = (await import('node:fs')).readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.ok(csv[0].startsWith('step,loss,epoch,train_loss,train_error,val_loss,val_error,full_train_loss,full_train_error'), csv[0]);
  assert.equal(csv.length, 1 + 25 * 10, 'a row per step: 300 digits in batches of 32 is 10 steps an epoch');
  await screenshot(await page.$('#early-stop'), 'cell-early-stop');
  assertResponsive(t, seen, 'early stopping cell');
  assert.deepEqual(errors, []);
  await context.close();
});
