// What www/cell.js (defineCell) gives every cell, checked on the cells built with it: the
// status vocabulary, the progress bar, freeing what a re-run replaces, and the Export menu.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { serve, launch, openPage } from './helpers.mjs';

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

/** Wasm experiments and sessions alive in the page's module. */
const live = (page) => page.evaluate(async () => (await import('./pkg/descent.js')).liveExperiments());

/** Click an Export item of cell `id`; the downloaded file's name and bytes. */
async function exportItem(page, id, text) {
  if (!(await page.isVisible(`#${id} details.export .export-items`))) await page.click(`#${id} details.export summary`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#${id} details.export button:has-text("${text}")`)]);
  return { name: download.suggestedFilename(), bytes: await readFile(await download.path()) };
}

test('re-running a cell ten times frees every experiment it replaces', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  assert.equal(await page.getAttribute('#sgd-status', 'data-state'), 'idle', 'a cell starts idle');
  assert.equal(await page.isVisible('#sgd details.export'), false, 'nothing to export before a run');
  const before = await live(page);
  await page.fill('#sgd-epochs', '1');
  await page.fill('#sgd-batch', '500');
  await page.fill('#sgd-hidden', '16');
  for (let i = 0; i < 10; i++) {
    await page.click('#sgd-run');
    await page.waitForSelector('#sgd-status[data-state="finished"]', { timeout: 60_000 });
  }
  assert.equal(await live(page), before + 1, 'only the last run is alive');
  // Stopping and re-running the race frees its runs too
  await page.uncheck('#race-use-rprop');
  await page.uncheck('#race-use-rmsprop');
  for (let i = 0; i < 3; i++) {
    await page.click('#race-run');
    await page.click('#race-stop');
    await page.waitForSelector('#race-status[data-state="stopped"]');
  }
  assert.equal(await live(page), before + 2, 'one SGD comparison and one race alive');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a run longer than a second shows its progress; the status words are the shared ones', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.fill('#sgd-epochs', '50');
  await page.click('#sgd-run');
  await page.waitForSelector('#sgd .progress:not([hidden])', { timeout: 30_000 });
  const text = await page.textContent('#sgd .progress span');
  assert.match(text, /^[\d,]+ \/ 10,950 steps( · about \d+ s left)?$/, text);
  const frac = await page.$eval('#sgd .progress progress', (p) => p.value);
  assert.ok(frac > 0 && frac < 1, `progress ${frac}`);
  await page.click('#sgd-stop');
  await page.waitForSelector('#sgd-status[data-state="stopped"]');
  assert.ok(await page.isHidden('#sgd .progress'), 'no progress bar once stopped');
  assert.match(await page.textContent('#sgd-status'), /stopped after [\d.]+ s$/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Export gives the settings and results as JSON, each curve as CSV and each chart as PNG', async () => {
  const { page, errors, context } = await openPage(browser, `${server.url}?seed=3`);
  await page.fill('#sgd-epochs', '1');
  await page.click('#sgd-run');
  await page.waitForSelector('#sgd-status[data-state="finished"]', { timeout: 60_000 });

  const json = await exportItem(page, 'sgd', 'settings and results (JSON)');
  assert.equal(json.name, 'sgd.json');
  const all = JSON.parse(json.bytes.toString('utf8'));
  assert.equal(all.cell, 'sgd');
  assert.equal(all.seed, 3);
  assert.equal(all.settings.epochs, 1);
  assert.equal(all.settings.lr, 0.3);
  assert.equal(all.report.status, 'finished');
  assert.equal(all.report.runs[0].last.epoch, 1);
  assert.deepEqual(Object.keys(all.charts), ['loss', 'error']);
  assert.equal(all.charts.loss.series[0].y.length, all.report.runs[0].steps, 'every step of the loss curve');
  const h = all.history[0];
  assert.equal(h.label, 'SGD lr 0.3, mean');
  assert.equal(h.history.step_loss.length, all.report.runs[0].steps, 'the full record: every step');
  assert.equal(h.history.epochs[0].val_error, all.report.runs[0].last.val_error);
  assert.equal(h.history.checks.length, 1, 'one check an epoch');

  const csv = await exportItem(page, 'sgd', 'loss (CSV)');
  assert.equal(csv.name, 'sgd-loss.csv');
  const rows = csv.bytes.toString('utf8').trim().split('\n');
  assert.equal(rows[0], 'series,x,y', 'a header row');
  assert.equal(rows.length, 1 + all.report.runs[0].steps);
  assert.match(rows[1], /^SGD lr 0\.3\, mean,1,[\d.]+$|^"SGD lr 0\.3, mean",1,[\d.]+$/);

  const png = await exportItem(page, 'sgd', 'error (PNG)');
  assert.equal(png.name, 'sgd-error.png');
  assert.deepEqual([...png.bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG file');

  // the race exports its curves too
  for (const key of ['momentum', 'nesterov', 'rprop', 'rmsprop', 'adam', 'adamw']) await page.uncheck(`#race-use-${key}`);
  await page.fill('#race-epochs', '1');
  await page.click('#race-run');
  await page.waitForSelector('#race-status[data-state="finished"]', { timeout: 60_000 });
  const race = JSON.parse((await exportItem(page, 'race', 'settings and results (JSON)')).bytes.toString('utf8'));
  assert.equal(race.report.entrants.length, 1);
  assert.equal(race.charts.error.series[0].x.length, 5, 'five checks in the epoch');
  const raceCsv = (await exportItem(page, 'race', 'error (CSV)')).bytes.toString('utf8').trim().split('\n');
  assert.equal(raceCsv[0], 'series,x,y');
  assert.deepEqual(errors, []);
  await context.close();
});
