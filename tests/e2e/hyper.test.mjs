// Cell "Hyperparameter search": the synthetic comparison over seeds and real MNIST trials in
// the worker pool, every panel drawn, the inspector browsed with ◀ / ▶, Bayesian optimization
// run one trial at a time with "next trial", the trials exported as CSV, Stop, and bad settings
// refused with a message.
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

const CANVASES = ['grid', 'random', 'bayes', 'best', 'slice', 'acq-slice', 'mean', 'std', 'acq-map'];

async function runToEnd(page, state = 'finished') {
  await page.click('#hyper-run');
  await page.waitForSelector(`#hyper-status[data-state="${state}"]`, { timeout: 120_000 });
  await chartsDrawn(page, '#hyper');
  return page.textContent('#hyper-status');
}

test('hyperparameter search, synthetic: every method over seeds, the panels, the inspector, the CSV', async (t) => {
  const { page, errors } = await openPage(browser, `${server.url}?hyper.objective=synthetic&hyper.seeds=4&hyper.budget=12`);
  const blank = {};
  const look = {};
  const picture = (c) => page.$eval(`#hyper-${c}`, (el) => el.toDataURL());
  for (const c of CANVASES) [blank[c], look[c]] = [await inkedPixels(page, `#hyper-${c}`), await picture(c)];
  await watchResponsiveness(page);
  const text = await runToEnd(page);
  assertResponsive(t, await responsiveness(page), 'the synthetic comparison (and drawing its nine charts)');
  assert.match(text, /^median best of 12 trials, synthetic objective over 4 seeds: grid search [\d.]+, random search [\d.]+, Bayesian optimization [\d.]+ · distinct values of important: grid 4, random 12/);
  for (const m of ['grid', 'random', 'bayes']) {
    const v = Number(await page.getAttribute('#hyper-status', `data-${m}`));
    assert.ok(v >= 0.05 && v < 1, `${m}: a median best on the objective's scale (${v})`);
  }
  // every canvas drawn anew; a map fills its square with colour (a line chart's ink is
  // mostly its grid, so for those only the change counts)
  for (const c of CANVASES) {
    assert.notEqual(await picture(c), look[c], `#hyper-${c} is drawn`);
    if (!['best', 'slice', 'acq-slice'].includes(c)) assert.ok(await inkedPixels(page, `#hyper-${c}`) > blank[c] + 3000, `#hyper-${c} is filled`);
  }
  const rows = await page.$$eval('#hyper-table tbody tr', (r) => r.map((x) => [x.dataset.method, x.dataset.status]));
  assert.equal(rows.length, 36, 'seed 1: 12 trials of each method');
  assert.ok(rows.every((r) => r[1] === 'finished'));
  assert.deepEqual(await page.$$eval('#hyper-methods tbody tr', (r) => r.map((x) => x.dataset.method)), ['grid', 'random', 'bayes']);

  // the inspector: the latest model first, then one decision back, and forward again
  assert.equal(await page.getAttribute('#hyper-model', 'data-trial'), '12');
  assert.match(await page.textContent('#hyper-model'), /^The model before trial 12 \(decision 7 of 7\): 11 results, best so far [\d.]+; it chose [\d.]+, [\d.]+\. Length-scales \(1 = the whole range\): important [\d.]+, unimportant [\d.]+/);
  const before = await inkedPixels(page, '#hyper-slice');
  await page.click('#hyper-prev');
  await page.waitForSelector('#hyper-model[data-trial="11"]');
  assert.equal(await page.inputValue('#hyper-show'), '11');
  await page.click('#hyper-prev');
  await page.waitForSelector('#hyper-model[data-trial="10"]');
  await chartsDrawn(page, '#hyper');
  assert.notEqual(await inkedPixels(page, '#hyper-slice'), before, 'the slice is redrawn for the earlier model');
  await page.click('#hyper-next');
  await page.click('#hyper-next');
  await page.waitForSelector('#hyper-model[data-trial="12"]');
  assert.equal(await page.inputValue('#hyper-show'), '0', 'past the last decision: back to "the latest"');
  await page.selectOption('#hyper-axis', '1');
  assert.match(await page.evaluate(() => document.querySelector('#hyper-slice').getAttribute('aria-label')), /slice|axis/);
  await screenshot(await page.$('#hyper'), 'hyper-synthetic');

  // Export: every trial of every seed, one CSV row each
  await page.click('#hyper .export summary');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#hyper .export button:has-text("all trials (CSV)")')]);
  const csv = await (await download.createReadStream()).toArray().then((c) => Buffer.concat(c).toString());
  const lines = csv.trim().split('\n');
  assert.equal(lines[0], 'seed,method,trial,important,unimportant,objective,status');
  assert.equal(lines.length, 1 + 4 * 3 * 12);
  // the same seed replays the same comparison
  await runToEnd(page);
  const [again] = await Promise.all([page.waitForEvent('download'), page.click('#hyper .export button:has-text("all trials (CSV)")')]);
  assert.equal(await (await again.createReadStream()).toArray().then((c) => Buffer.concat(c).toString()), csv);
  assert.deepEqual(errors, []);
});

test('hyperparameter search, synthetic: next trial runs one trial of Bayesian optimization at a time', async () => {
  const { page, errors } = await openPage(browser, `${server.url}?hyper.objective=synthetic&hyper.seeds=2&hyper.budget=10`);
  const picture = (c) => page.$eval(`#hyper-${c}`, (el) => el.toDataURL());
  const trials = () => page.getAttribute('#hyper-model', 'data-bayes-trials');
  // the first press starts a run that stops after the initial design
  await page.click('#hyper-trial');
  await page.waitForSelector('#hyper-model[data-waiting="true"]', { timeout: 30_000 });
  assert.equal(await trials(), '5');
  assert.ok(await page.isChecked('#hyper-step'));
  assert.equal(await page.getAttribute('#hyper-status', 'data-state'), 'running');
  assert.match(await page.textContent('#hyper-status'), /Bayesian optimization has run 5 of 10 trials and waits/);
  assert.match(await page.textContent('#hyper-model'), /press next trial/);
  let shown = {};
  for (let k = 1; k <= 3; k++) {
    await page.click('#hyper-trial');
    await page.waitForSelector(`#hyper-model[data-bayes-trials="${5 + k}"][data-waiting="true"]`);
    await page.waitForSelector(`#hyper-model[data-trial="${5 + k}"]`);
    assert.match(await page.textContent('#hyper-model'), new RegExp(`^The model before trial ${5 + k} \\(decision ${k} of ${k}\\): ${4 + k} results`));
    const bayesRows = await page.$$eval('#hyper-table tbody tr[data-method="bayes"]', (r) => r.length);
    assert.equal(bayesRows, 5 + k, `press ${k}: one more trial`);
    // the slice and the acquisition are drawn anew for the new model
    for (const c of ['slice', 'acq-slice', 'mean', 'acq-map']) {
      await page.waitForFunction(([id, old]) => document.getElementById(id).toDataURL() !== old, [`hyper-${c}`, shown[c] ?? ''], { timeout: 10_000 });
    }
    await chartsDrawn(page, '#hyper');
    shown = Object.fromEntries(await Promise.all(['slice', 'acq-slice', 'mean', 'acq-map'].map(async (c) => [c, await picture(c)])));
  }
  await screenshot(await page.$('#hyper'), 'hyper-step');
  // run to the budget: it finishes by itself
  await page.click('#hyper-run-on');
  await page.waitForSelector('#hyper-status[data-state="finished"]', { timeout: 30_000 });
  assert.equal(await trials(), '10');
  assert.equal(await page.getAttribute('#hyper-model', 'data-trial'), '10');
  assert.deepEqual(errors, []);
});

test('hyperparameter search, MNIST: real trials in 2 workers, then Stop, then bad settings', async () => {
  const small = 'hyper.objective=mnist&hyper.x=learningRate&hyper.y=width&hyper.budget=6&hyper.n=500&hyper.validation=300&hyper.epochs=1';
  const { page, errors } = await openPage(browser, `${server.url}?workers=2&${small}`);
  const blank = {};
  const look = {};
  const picture = (c) => page.$eval(`#hyper-${c}`, (el) => el.toDataURL());
  for (const c of CANVASES) [blank[c], look[c]] = [await inkedPixels(page, `#hyper-${c}`), await picture(c)];
  const text = await runToEnd(page);
  assert.match(text, /^best of 6 trials, validation error of learning rate × hidden width: grid search [\d.]+%, random search [\d.]+%, Bayesian optimization [\d.]+% · distinct values of learning rate: grid 3, random 6 · [\d.]+ s of training in [\d.]+ s on 2 workers, Bayesian optimization keeps 1 out at once/);
  const rows = await page.$$eval('#hyper-table tbody tr', (r) => r.map((x) => x.dataset.status));
  assert.equal(rows.length, 18);
  assert.ok(rows.every((s) => s === 'finished' || s === 'diverged'), rows.join(' '));
  // every chart drawn anew, compared with its empty axes before the run; a map fills its square
  for (const c of CANVASES) {
    assert.notEqual(await picture(c), look[c], `#hyper-${c} is drawn`);
    if (!['best', 'slice', 'acq-slice'].includes(c)) assert.ok(await inkedPixels(page, `#hyper-${c}`) > blank[c] + 3000, `#hyper-${c} is filled`);
  }
  assert.match(await page.textContent('#hyper-model'), /^The model before trial 6 \(decision 1 of 1\): 5 results/);
  assert.match(await page.textContent('#hyper-model'), /The maps above are drawn from a model fitted on every result so far; its length-scales: learning rate [\d.]+, hidden width [\d.]+\.$/);
  await screenshot(await page.$('#hyper'), 'hyper-mnist');

  // Stop while trials train: the search ends, nothing is left in the pool
  await page.fill('#hyper-budget', '40');
  await page.fill('#hyper-n', '3000');
  await page.fill('#hyper-epochs', '4');
  await page.click('#hyper-run');
  await page.waitForFunction(() => window.descentPool.status().running === 2, null, { timeout: 30_000 });
  await page.click('#hyper-stop');
  await page.waitForSelector('#hyper-status[data-state="stopped"]');
  const pool = await page.evaluate(() => window.descentPool.status());
  assert.equal(pool.running + pool.queued, 0, 'no trial left in the pool');

  // bad settings: a message, no run
  await page.selectOption('#hyper-y', 'learningRate');
  await page.click('#hyper-run');
  assert.match(await page.textContent('#hyper-error-msg'), /pick two different hyperparameters/);
  await page.selectOption('#hyper-y', 'l2');
  await page.fill('#hyper-budget', '1');
  await page.click('#hyper-run');
  assert.match(await page.textContent('#hyper-error-msg'), /budget: "1" is not a whole number between 2 and 64/);
  assert.deepEqual(errors, []);
});
