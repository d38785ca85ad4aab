// Cell "Dropout" (section 11b): both runs train, then the trained dropout network is taken
// apart: train vs eval mode per epoch, the scaling lab's four rows, the ensemble and the
// disputed digits are drawn.
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

test('dropout: with and without, train vs eval mode, the scaling table, the ensemble', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  assert.ok(await inkedPixels(page, '#dropout-error') > 1000, 'empty axes on load');
  await page.fill('#dropout-n', '200');
  await page.fill('#dropout-hidden', '64');
  await page.fill('#dropout-epochs', '4');
  await page.fill('#dropout-passes', '8');
  await page.click('#dropout-run');
  await page.waitForSelector('#dropout-status[data-state="finished"]', { timeout: 180_000 });
  assert.equal(await page.getAttribute('#dropout-status', 'data-passes'), '8');
  const text = await page.textContent('#dropout-status');
  assert.match(text, /^no dropout: validation error [\d.]+% \(training [\d.]+%\) · dropout: validation error [\d.]+% \(training [\d.]+%\) · epoch 4, 500 digits: eval mode [\d.]+%, train mode [\d.]+% · average of 8 passes [\d.]+% vs eval mode [\d.]+%/);
  const rows = await page.$$eval('#dropout-table tbody tr', (r) => r.map((x) => [x.dataset.correct, x.querySelector('td').textContent]));
  assert.deepEqual(rows.map((r) => r[0]), ['true', 'true', 'false', 'false']);
  assert.match(rows[3][1], /forgot eval\(\)/);
  const errs = await page.$$eval('#dropout-table td[data-col="error"]', (t) => t.map((x) => parseFloat(x.textContent)));
  assert.ok(Math.abs(errs[0] - errs[1]) <= 0.2, `inverted and weight scaling agree (${errs})`);
  for (const id of ['error', 'modes', 'ensemble', 'disputed']) {
    assert.ok(await inkedPixels(page, `#dropout-${id}`) > 3000, `#dropout-${id} is drawn`);
  }
  await screenshot(await page.$('#dropout'), 'cell-dropout');
  await page.fill('#dropout-p', '0.95');
  await page.click('#dropout-run');
  assert.match(await page.textContent('#dropout-error-msg'), /dropout p: "0.95" is not a number between 0 and 0.9/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('dropout: input p on the pixels, and both p moved while the runs train', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.fill('#dropout-n', '500');
  await page.fill('#dropout-hidden', '64');
  await page.fill('#dropout-epochs', '10');
  await page.fill('#dropout-passes', '2');
  await page.fill('#dropout-p', '0');
  await page.fill('#dropout-input-p', '0.2');
  // two frames into the run (each frame trains for a bounded time, so the run is far from
  // done), switch the hidden layers' dropout on and the input's down
  const before = await page.evaluate(async () => {
    document.querySelector('#dropout-run').click();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const status = document.querySelector('#dropout-status');
    const seen = { state: status.dataset.state, inputP: status.dataset.inputP };
    document.querySelector('#dropout-p').value = '0.4';
    const input = document.querySelector('#dropout-input-p');
    input.value = '0.1';
    input.dispatchEvent(new Event('change'));
    return seen;
  });
  assert.deepEqual(before, { state: 'running', inputP: '0.2' });
  await page.waitForSelector('#dropout-status[data-state="finished"]', { timeout: 120_000 });
  assert.equal(await page.getAttribute('#dropout-status', 'data-p'), '0.4');
  assert.equal(await page.getAttribute('#dropout-status', 'data-input-p'), '0.1');
  const changes = Number(await page.getAttribute('#dropout-status', 'data-changes'));
  assert.equal(changes, 1, 'the change is marked once');
  assert.match(await page.textContent('#dropout-status'), /dropout run: p 0\.4, input p 0\.1 \(p → 0\.4, input p → 0\.1 at epoch \d+\.\d\)/);
  await screenshot(await page.$('#dropout'), 'cell-dropout-moved');
  // both 0 is refused by name
  await page.fill('#dropout-p', '0');
  await page.fill('#dropout-input-p', '0');
  await page.click('#dropout-run');
  assert.match(await page.textContent('#dropout-error-msg'), /both 0/);
  assert.deepEqual(errors, []);
  await context.close();
});
