// Cell "Cross-validation": k folds and holdouts train in the worker pool; the curves, the
// estimates and the fold strips are drawn; Stop ends every job at once and the cell says how
// many finished; with the pool set to 0 workers the page thread gives the same estimate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openPage, inkedPixels, screenshot, watchResponsiveness, responsiveness, assertResponsive, chartsDrawn } from './helpers.mjs';

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

const SMALL = 'cross-val.rule=none&cross-val.k=3&cross-val.n=600&cross-val.epochs=4&cross-val.holdouts=3&cross-val.hidden=32';

async function runToEnd(page) {
  await page.click('#cross-val-run');
  await page.waitForSelector('#cross-val-status[data-state="finished"]', { timeout: 120_000 });
  return {
    text: await page.textContent('#cross-val-status'),
    estimate: await page.getAttribute('#cross-val-status', 'data-estimate'),
    rows: await page.$$eval('#cross-val-table tbody tr', (r) => r.map((x) => [x.dataset.run, x.dataset.status])),
  };
}

test('cross-validation: 3 folds and 3 holdouts in 2 workers, drawn; the page thread gives the same estimate', async (t) => {
  const { page, errors, context } = await openPage(browser, `${server.url}?workers=2&${SMALL}`);
  const blank = await inkedPixels(page, '#cross-val-folds');
  await watchResponsiveness(page);
  const got = await runToEnd(page);
  assertResponsive(t, await responsiveness(page), 'cross-validation in the pool');
  assert.match(got.text, /^error = [\d.]+% ± [\d.]+% over 3 folds · one 80\/20 holdout: [\d.]+% on average, but ±[\d.]+% from split to split \(3 seeds\) · 7 of 7 runs finished · cost: 7 trainings, [\d.]+ s of compute in [\d.]+ s on 2 workers · fold sizes 200 \/ 200 \/ 200, class counts differ by up to 1 between folds/);
  assert.deepEqual(got.rows.map((r) => r[0]), ['fold 1', 'fold 2', 'fold 3', 'holdout 1', 'holdout 2', 'holdout 3', 'retrain on all']);
  assert.deepEqual(got.rows.map((r) => r[1]), Array(7).fill('finished'));
  assert.match(got.text, /best epoch per fold [\d.]+ ± [\d.]+ · test error: retrained on all 600 digits for \d+ epochs [\d.]+%, average of the 3 fold models [\d.]+% \(each fold model alone: [\d.]+%, [\d.]+%, [\d.]+%\)/);
  for (const attr of ['data-retrain', 'data-ensemble']) {
    const v = Number(await page.getAttribute('#cross-val-status', attr));
    assert.ok(v > 0 && v < 0.6, `${attr} is a test error (${v})`);
  }
  assert.ok(await inkedPixels(page, '#cross-val-folds') > blank + 5000, 'the fold strips are drawn');
  assert.ok(await inkedPixels(page, '#cross-val-curves') > 20_000, 'curves and bands are drawn');
  assert.ok(await inkedPixels(page, '#cross-val-estimates') > 10_000, 'the estimates are drawn');
  await screenshot(await page.$('#cross-val'), 'cross-val');
  // plain folds: the classes are no longer balanced fold by fold
  await page.uncheck('#cross-val-stratified');
  const plain = await runToEnd(page);
  assert.match(plain.text, /class counts differ by up to ([2-9]|\d\d) between folds/);
  await context.close();

  const fallback = await openPage(browser, `${server.url}?workers=0&${SMALL}`);
  const same = await runToEnd(fallback.page);
  assert.match(same.text, /on the page thread/);
  assert.equal(same.estimate, got.estimate, 'the same folds give the same estimate on the page thread');
  assert.deepEqual(errors, []);
  assert.deepEqual(fallback.errors, []);
  await fallback.context.close();
});

test('cross-validation: Stop ends every queued and running job at once and says how many finished', async () => {
  // no stopping rule, so the running folds are still training when Stop comes
  const { page, errors, context } = await openPage(browser, `${server.url}?workers=2&cross-val.rule=none&cross-val.k=5&cross-val.n=3000&cross-val.epochs=30&cross-val.holdouts=4`);
  await page.click('#cross-val-run');
  await page.waitForFunction(() => window.descentPool.status().running === 2, null, { timeout: 30_000 });
  await page.waitForTimeout(500);
  await page.click('#cross-val-stop');
  await page.waitForSelector('#cross-val-status[data-state="stopped"]');
  const text = await page.textContent('#cross-val-status');
  const [, finished, stoppedN, never] = text.match(/(\d+) of 10 runs finished, (\d+) stopped mid-run, (\d+) never started/) ?? [];
  assert.doesNotMatch(text, / — /, 'no run is reported as failed');
  assert.ok(finished !== undefined, text);
  assert.equal(Number(finished) + Number(stoppedN) + Number(never), 10);
  assert.equal(await page.getAttribute('#cross-val-status', 'data-finished'), finished);
  const pool = await page.evaluate(() => ({ ...window.descentPool.status(), workers: window.descentPool.workers.length }));
  assert.equal(pool.running, 0, 'no job left running');
  assert.equal(pool.queued, 0, 'no job left queued');
  assert.equal(pool.workers, 0, 'the busy workers were terminated');
  const statuses = await page.$$eval('#cross-val-table tbody tr', (r) => r.map((x) => x.dataset.status));
  assert.ok(statuses.every((s) => ['finished', 'early-stopped', 'stopped', 'cancelled'].includes(s)), statuses.join());
  assert.equal(statuses.filter((s) => s === 'stopped').length, Number(stoppedN), 'the table agrees');
  assert.ok(Number(stoppedN) >= 1 && Number(never) >= 1, 'some runs were cut off, some never began');
  assert.deepEqual(errors, []);
  await context.close();
});

test('overfitting curves: the onset, the validation and learning curves, and test-set reuse, through the pool', async () => {
  const q = 'overfit.k=2&overfit.n=240&overfit.hidden=64&overfit.epochs=8&overfit.widths=4,16&overfit.fractions=0.5,1&overfit.sweep-epochs=3';
  const { page, errors, context } = await openPage(browser, `${server.url}?workers=2&${q}`);
  await page.click('#overfit-run');
  await page.waitForSelector('#overfit-status[data-state="finished"]', { timeout: 120_000 });
  await chartsDrawn(page, '#overfit');
  const text = await page.textContent('#overfit-status');
  assert.match(text, /overfitting starts ≈ epoch \d+ \(smoothed\); the data cannot tell epochs \d+–\d+ apart · lowest cross-validated error at width (4|16)/);
  assert.match(text, /chosen by test half A: width (4|16), quoted [\d.]+%, on unseen half B [\d.]+% \(the quote is off by -?[\d.]+ points\) · chosen by cross-validation: width (4|16), half B [\d.]+%/);
  assert.match(text, /12 of 12 runs done/, '2 curve folds, 2 widths × 2, 2 sizes × 2, 2 reuse runs');
  const onset = Number(await page.getAttribute('#overfit-status', 'data-onset'));
  assert.ok(onset >= 1 && onset <= 8);
  for (const id of ['overfit-real', 'overfit-idealized', 'overfit-widths-chart', 'overfit-sizes']) {
    assert.ok(await inkedPixels(page, `#${id}`) > 10_000, `#${id} is drawn`);
  }
  assert.deepEqual(await page.$$eval('#overfit-table tbody tr', (r) => r.map((x) => x.dataset.width)), ['4', '16']);
  await screenshot(await page.$('#overfit'), 'overfit');
  // a bad fraction is a message, not a run
  await page.fill('#overfit-fractions', '0.5, 2');
  await page.click('#overfit-run');
  assert.match(await page.textContent('#overfit-error-msg'), /fractions: "0.5, 2" should be 1 to 10 numbers above 0 and at most 1/);
  assert.deepEqual(errors, []);
  await context.close();
});
