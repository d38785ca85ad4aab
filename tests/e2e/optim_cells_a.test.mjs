// Cells "Momentum" and "Rprop: full batch works, mini-batches fail".
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

/** A cheap fingerprint of a canvas's pixels, to tell whether a drawing changed. */
async function fingerprint(page, selector) {
  return page.$eval(selector, (c) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let h = 0;
    for (let i = 0; i < data.length; i += 4) h = (h * 31 + data[i] + 7 * data[i + 1] + 13 * data[i + 2]) >>> 0;
    return h;
  });
}

const reached = (page, run) => page.getAttribute(`#momentum-status [data-run="${run}"]`, 'data-reached');

test('momentum: contour map and distance plot drawn; momentum beats plain SGD on an ill-conditioned bowl', async (t) => {
  const { page, errors, context } = await openPage(browser, server.url);
  assert.ok(await inkedPixels(page, '#momentum-map') > 20_000, 'the contour map is drawn on load');
  assert.ok(await inkedPixels(page, '#momentum-distance') > 2_000, 'the distance plot has axes on load');
  assert.equal(await page.inputValue('#momentum-kappa'), '50', 'κ = 50 by default: ill-conditioned');
  const before = await fingerprint(page, '#momentum-map');
  const distBefore = await fingerprint(page, '#momentum-distance');
  await watchResponsiveness(page);
  await page.click('#momentum-run');
  await page.waitForSelector('#momentum-status[data-state="finished"]', { timeout: 30_000 });
  assert.notEqual(await fingerprint(page, '#momentum-map'), before, 'the paths were drawn');
  assert.notEqual(await fingerprint(page, '#momentum-distance'), distBefore, 'the distance curves were drawn');
  const sgd = Number(await reached(page, 'sgd'));
  const mom = Number(await reached(page, 'momentum'));
  assert.ok(mom > 0 && sgd > 0, `both reach the tolerance: SGD ${sgd}, momentum ${mom}`);
  assert.ok(mom * 2 < sgd, `momentum (${mom} steps) is much faster than plain SGD (${sgd} steps)`);
  const text = await page.textContent('#momentum-status');
  assert.match(text, /SGD, no momentum: within 0\.001 of the minimum from step \d+ on/);
  // Drawing over cached contours and axes: a few milliseconds a frame.
  assertResponsive(t, await responsiveness(page), 'momentum animation');
  await screenshot(await page.$('#momentum'), 'cell-momentum');

  // κ = 1: nothing for momentum to fix; plain SGD is fast and momentum overshoots.
  await page.click('#momentum .presets button[data-name="round"]');
  await page.waitForSelector('#momentum-status[data-state="finished"]', { timeout: 30_000 });
  const roundSgd = Number(await reached(page, 'sgd'));
  const roundMom = Number(await reached(page, 'momentum'));
  assert.ok(roundSgd > 0 && roundSgd < 40, `on a round bowl plain SGD is quick too (${roundSgd} steps)`);
  assert.ok(roundMom > roundSgd, `and momentum only overshoots (${roundMom} steps)`);

  // Too large a learning rate for plain SGD: it diverges, heavy-ball momentum does not.
  await page.click('#momentum .presets button[data-name="too-big"]');
  await page.waitForSelector('#momentum-status[data-state="finished"]', { timeout: 30_000 });
  assert.notEqual(await page.getAttribute('#momentum-status [data-run="sgd"]', 'data-diverged'), '');
  assert.match(await page.textContent('#momentum-status'), /diverged/);
  assert.ok(Number(await reached(page, 'momentum')) > 0, 'momentum still converges at lr 0.045');
  await screenshot(await page.$('#momentum'), 'cell-momentum-too-big');

  // Nesterov and a tilted bowl.
  await page.click('#momentum .presets button[data-name="nesterov"]');
  await page.waitForSelector('#momentum-status[data-state="finished"]', { timeout: 30_000 });
  assert.ok(Number(await reached(page, 'nesterov')) > 0, 'Nesterov converges at lr 0.02');
  await page.click('#momentum .presets button[data-name="tilted"]');
  await page.waitForSelector('#momentum-status[data-state="finished"]', { timeout: 30_000 });
  await screenshot(await page.$('#momentum'), 'cell-momentum-tilted');

  // Rosenbrock: its own defaults, κ switched off, momentum gets there and SGD does not.
  await page.selectOption('#momentum-surface', 'rosenbrock');
  assert.ok(await page.isDisabled('#momentum-kappa'));
  assert.equal(await page.inputValue('#momentum-lr'), '0.001');
  await page.waitForSelector('#momentum-status[data-state="finished"]', { timeout: 60_000 });
  assert.equal(await reached(page, 'sgd'), '', 'plain SGD crawls along the valley floor');
  assert.ok(Number(await reached(page, 'momentum')) > 0, 'momentum reaches the minimum');
  await screenshot(await page.$('#momentum'), 'cell-momentum-rosenbrock');

  // A click on the map sets the start point and runs from there.
  await page.selectOption('#momentum-surface', 'quadratic');
  await page.waitForSelector('#momentum-status[data-state="finished"]', { timeout: 30_000 });
  // at a point of the canvas (Playwright scrolls it into view first: cells off screen are not laid out)
  const box = await page.$eval('#momentum-map', (c) => { const r = c.getBoundingClientRect(); return { w: r.width, h: r.height }; });
  await page.click('#momentum-map', { position: { x: box.w * 0.75, y: box.h * 0.3 } });
  const x = Number(await page.inputValue('#momentum-x'));
  const y = Number(await page.inputValue('#momentum-y'));
  assert.ok(x > 0 && y > 0, `the click (upper right) set the start to (${x}, ${y})`);
  await page.waitForSelector('#momentum-status[data-state="finished"]', { timeout: 30_000 });
  assert.match(page.url(), /momentum\.x=/, 'the start point is saved in the URL');
  assert.deepEqual(errors, []);
  await context.close();
});

test('momentum: invalid settings get a message', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.fill('#momentum-lr', '-1');
  await page.click('#momentum-run');
  assert.match(await page.textContent('#momentum-error'), /learning rate/);
  await page.fill('#momentum-lr', '0.03');
  await page.fill('#momentum-mu', '1.5');
  await page.click('#momentum-run');
  assert.match(await page.textContent('#momentum-error'), /momentum/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('rprop thought experiment: the weight drifts although the gradients cancel', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  assert.ok(await inkedPixels(page, '#rprop-t-weight') > 2_000, 'axes on load');
  assert.ok(await inkedPixels(page, '#rprop-t-step-size') > 2_000, 'axes on load');
  const before = await fingerprint(page, '#rprop-t-weight');
  for (let i = 0; i < 3; i++) await page.click('#rprop-t-step');
  assert.equal(await page.getAttribute('#rprop-t-status', 'data-step'), '3');
  assert.match(await page.textContent('#rprop-t-status'), /epoch 1, mini-batch 3: gradient \+0\.1/);
  assert.notEqual(await fingerprint(page, '#rprop-t-weight'), before, 'steps are drawn');
  await page.click('#rprop-t-play');
  await page.waitForSelector('#rprop-t-status[data-state="finished"]', { timeout: 30_000 });
  const w = (k) => page.getAttribute('#rprop-t-status', k).then(Number);
  const rprop = await w('data-rprop-weight');
  const sgd = await w('data-sgd-weight');
  const full = await w('data-full-weight');
  assert.ok(rprop < -1, `mini-batch rprop drifted to ${rprop}`);
  assert.ok(Math.abs(sgd) < 1e-3, `SGD ends each epoch where it began (${sgd})`);
  assert.equal(full, 0, 'full-batch rprop never moves: its gradient is 0');
  assert.equal(await page.getAttribute('#rprop-t-status', 'data-step'), '50', '5 epochs × 10 mini-batches');
  await screenshot(await page.$('#rprop'), 'cell-rprop-thought');
  assert.deepEqual(errors, []);
  await context.close();
});

test('rprop on MNIST: full batch, mini-batches and RMSprop finish with three curves', async (t) => {
  const { page, errors, context } = await openPage(browser, server.url);
  assert.ok(await inkedPixels(page, '#rprop-loss') > 2_000, 'axes on load');
  const before = await fingerprint(page, '#rprop-val');
  await watchResponsiveness(page);
  const t0 = Date.now();
  await page.click('#rprop-run');
  await page.waitForFunction(() => ['finished', 'error'].includes(document.querySelector('#rprop-status').dataset.state), null, { timeout: 120_000 });
  const secs = (Date.now() - t0) / 1000;
  assert.equal(await page.getAttribute('#rprop-status', 'data-state'), 'finished');
  const runs = await page.$$eval('#rprop-status [data-run]', (els) => els.map((e) => ({ key: e.dataset.run, status: e.dataset.status, epochs: Number(e.dataset.epochs) })));
  assert.deepEqual(runs.map((r) => r.key), ['full', 'mini', 'rmsprop']);
  for (const r of runs.filter((r) => r.key !== 'mini')) assert.deepEqual([r.status, r.epochs], ['finished', 30], r.key);
  assert.notEqual(await fingerprint(page, '#rprop-val'), before, 'curves drawn');
  assert.ok(await inkedPixels(page, '#rprop-loss') > 5_000);
  console.log(`MNIST comparison took ${secs.toFixed(1)} s`);
  // 14 ms of training a frame, or one full-batch step if that takes longer, plus drawing.
  assertResponsive(t, await responsiveness(page), 'MNIST comparison');
  assert.ok(secs < 60, `the comparison finishes well under a minute (${secs} s)`);
  await screenshot(await page.$('#rprop'), 'cell-rprop');
  assert.deepEqual(errors, []);
  await context.close();
});

test('rprop on MNIST: Stop halts the runs', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.fill('#rprop-epochs', '200');
  await page.click('#rprop-run');
  await page.waitForFunction(() => /epoch [1-9]\d*\/200/.test(document.querySelector('#rprop-status').textContent), null, { timeout: 60_000 });
  await page.click('#rprop-stop');
  await page.waitForSelector('#rprop-status[data-state="stopped"]');
  const text = await page.textContent('#rprop-status');
  await page.waitForTimeout(300);
  assert.equal(await page.textContent('#rprop-status'), text, 'no progress after Stop');
  assert.ok(!(await page.isDisabled('#rprop-run')), 'Run is available again');
  await page.fill('#rprop-batch', '5000');
  await page.click('#rprop-run');
  assert.match(await page.textContent('#rprop-error'), /mini-batch size/, 'a batch larger than the digits is refused');
  assert.deepEqual(errors, []);
  await context.close();
});
