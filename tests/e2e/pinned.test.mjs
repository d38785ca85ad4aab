// Read-outs pinned across refactors: the SGD, race and pretraining cells, default settings and
// seed 1, on the CPU path, must show what the page showed before the cells moved onto the lab
// types and defineCell (recorded from the build of commit cf9c5c6 in this Chromium). A change
// here means a cell's numbers changed: saved experiment links would replay differently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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

/** The read-out without its elapsed-time tail. */
const readout = (page, sel) => page.$eval(sel, (el) => el.textContent.replace(/ · (done in|stopped after) [\d.]+ s/, ''));

test('SGD, race and pretraining read-outs equal the recorded ones', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.click('#sgd-run');
  await page.waitForSelector('#sgd-status[data-state="finished"]', { timeout: 120_000 });
  assert.equal(await readout(page, '#sgd-status'), 'SGD lr 0.3, mean: epoch 3/3, step 657/657, validation accuracy 93.9%');
  assert.equal(await page.getAttribute('#sgd-status', 'data-val-accuracy'), '0.9386666677892208');

  for (const key of ['sgd', 'momentum', 'nesterov', 'rprop', 'rmsprop', 'adam', 'adamw']) {
    if (['sgd', 'momentum', 'adam'].includes(key)) await page.check(`#race-use-${key}`);
    else await page.uncheck(`#race-use-${key}`);
  }
  await page.click('#race-run');
  await page.waitForSelector('#race-status[data-state="finished"]', { timeout: 240_000 });
  assert.equal(await readout(page, '#race-status'), '3 optimizers · epoch 2.0, step 220/220 each · lowest validation error: SGD + momentum');
  const table = await page.$$eval('#race-table tbody tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td')).slice(0, 5).map((c) => c.textContent)));
  assert.deepEqual(table, [
    ['SGD', '0.3', '8.7%', '0.310', '1.2 (90.5%)'],
    ['SGD + momentum', '0.05', '6.8%best', '0.276best', '1.2 (90.3%)'],
    ['Adam', '0.001', '8.9%', '0.336', '1.2 (90.6%)best'],
  ]);

  await page.fill('#pre-ft-epochs', '4');
  await page.click('#pre-run');
  await page.waitForSelector('#pre-status[data-state="finished"]', { timeout: 180_000 });
  assert.equal(await page.getAttribute('#pre-status', 'data-pretrained-error'), '0.19368131458759308');
  assert.equal(await page.getAttribute('#pre-status', 'data-random-error'), '0.31593406200408936');
  assert.match(await readout(page, '#pre-status'), /^pretraining on 3,587 digits 0–4: epoch 2\/2, validation error on 0–4: 5\.2%from pretrained: epoch 4\/4, validation error on 5–9: 19\.4%from random: epoch 4\/4, validation error on 5–9: 31\.6%after 4 fine-tuning epochs: pretrained 19\.4% vs random 31\.6%/);
  assert.deepEqual(errors, []);
  await context.close();
});
