// The initialization cells: equal vs random start, Xavier/He probes and the scheme race, a
// start of one's own (with weights files), and pretraining.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, launch, openPage, inkedPixels, screenshot, OUT, watchResponsiveness, responsiveness, assertResponsive } from './helpers.mjs';

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

const CANVASES = [
  '#equal-units-const', '#equal-units-random', '#equal-loss',
  '#schemes-act-violin', '#schemes-grad-violin', '#schemes-std-plot', '#schemes-loss',
  '#custom-act-std', '#custom-grad-std', '#custom-loss',
  '#pre-pretrain', '#pre-val', '#pre-loss',
];

test('every canvas of the initialization cells shows something on first load', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  for (const sel of CANVASES) {
    assert.ok(await inkedPixels(page, sel) > 1500, `${sel} is drawn`);
  }
  for (const id of ['init-equal', 'init-schemes', 'init-custom', 'pretraining']) {
    assert.ok(await page.$(`nav.toc a[href="#${id}"]`), `the contents link to #${id}`);
  }
  // sections in recitation order: batch, sgd, then initialization, then the rest
  const order = await page.$$eval('main section.cell', (s) => s.map((e) => e.id));
  const at = (id) => order.indexOf(id);
  assert.ok(at('sgd') < at('init-equal') && at('init-equal') < at('init-schemes') && at('init-schemes') < at('init-custom') && at('init-custom') < at('pretraining'), order.join(', '));
  if (at('momentum') >= 0) assert.ok(at('pretraining') < at('momentum'), order.join(', '));
  assert.match(await page.textContent('#schemes-probe'), /activation std/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('equal start: the hidden units stay identical; random ones differ', async (t) => {
  const { page, errors, context } = await openPage(browser, server.url);
  await watchResponsiveness(page);
  const before = await inkedPixels(page, '#equal-loss');
  await page.click('#equal-run');
  await page.waitForSelector('#equal-status[data-state="finished"]', { timeout: 60_000 });
  const text = await page.textContent('#equal-status');
  assert.match(text, /equal start: step 300\/300 · max difference between hidden units: 0 \(all 8 units identical\)/);
  assert.equal(await page.getAttribute('#equal-status', 'data-spread-equal'), '0');
  assert.ok(Number(await page.getAttribute('#equal-status', 'data-spread-random')) > 0.01, 'random units differ');
  const loss = [...text.matchAll(/loss (\d\.\d+)/g)].map((m) => Number(m[1]));
  assert.equal(loss.length, 2);
  assert.ok(loss[1] < loss[0], `the random start learns more: ${loss}`);
  assert.ok(await inkedPixels(page, '#equal-loss') > before + 500, 'loss curves drawn');
  const smooth = await responsiveness(page);
  await screenshot(await page.$('#init-equal'), 'cell-init-equal');
  assertResponsive(t, smooth, 'init cell');
  assert.deepEqual(errors, []);
  await context.close();
});

test('schemes: probes show vanishing vs steady signals; training gives one curve per scheme', async (t) => {
  const { page, errors, context } = await openPage(browser, server.url);
  const std = async () => JSON.parse(await page.getAttribute('#schemes-probe', 'data-act-std'));
  const ratio = (s) => s[s.length - 1] / s[0];
  await page.click('#init-schemes .presets button[data-scheme="xavier_uniform"][data-act="relu"]');
  const xavier = await std();
  await screenshot(await page.$('#init-schemes'), 'cell-init-schemes-relu-xavier');
  await page.click('#init-schemes .presets button[data-scheme="kaiming_uniform"]');
  const he = await std();
  assert.equal(xavier.length, 8);
  // ReLU halves the variance per layer under Xavier (std × ~0.7); He keeps it about level
  assert.ok(ratio(xavier) < 0.2, `xavier + relu fades: ${xavier}`);
  assert.ok(ratio(he) > 0.3 && ratio(he) < 3, `he + relu stays level: ${he}`);
  await page.selectOption('#schemes-scheme', 'normal');
  const tiny = await std();
  assert.ok(tiny[tiny.length - 1] < 1e-6, `std 0.01 vanishes: ${tiny}`);
  await screenshot(await page.$('#init-schemes'), 'cell-init-schemes-normal');

  await watchResponsiveness(page);
  await page.fill('#schemes-width', '64');
  await page.dispatchEvent('#schemes-width', 'change');
  await page.click('#schemes-train');
  await page.waitForSelector('#schemes-status[data-state="finished"]', { timeout: 240_000 });
  assert.equal(await page.getAttribute('#schemes-status', 'data-curves'), '7');
  const text = await page.textContent('#schemes-status');
  for (const name of ['uniform ±1', 'normal σ=0.01', 'Xavier uniform', 'Xavier normal', 'He uniform', 'He normal', 'PyTorch default']) {
    assert.ok(text.includes(name), `${name} in ${text}`);
  }
  assert.ok(await inkedPixels(page, '#schemes-loss') > 5000);
  const smooth = await responsiveness(page);
  await screenshot(await page.$('#init-schemes'), 'cell-init-schemes-trained');
  assertResponsive(t, smooth, 'init cell');
  assert.deepEqual(errors, []);
  await context.close();
});

test('custom start: a distribution, a round-tripped weights file, and clear errors', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.fill('#custom-hidden', '64, 64');
  await page.dispatchEvent('#custom-hidden', 'change');
  await page.click('#custom-run');
  await page.waitForSelector('#custom-status[data-state="finished"]', { timeout: 120_000 });
  assert.match(await page.textContent('#custom-probe'), /your U\(-0\.1, 0\.1\)[^]*He uniform/);
  assert.match(await page.textContent('#custom-status'), /validation error/);
  await screenshot(await page.$('#init-custom'), 'cell-init-custom');

  // download the trained weights and load them back
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#custom-download')]);
  await mkdir(OUT, { recursive: true });
  const saved = join(OUT, 'init-weights.json');
  await dl.saveAs(saved);
  await page.selectOption('#custom-source', 'file');
  await page.setInputFiles('#custom-file', saved);
  await page.waitForSelector('#custom-file-info[data-state="loaded"]');
  assert.match(await page.textContent('#custom-file-info'), /784-64-64-10, 55,050 parameters/);
  assert.equal(await page.inputValue('#custom-hidden'), '64, 64');
  assert.match(await page.textContent('#custom-probe'), /weights from init-weights\.json/);

  // malformed files: each gets a message that says what is wrong
  const bad = [
    ['not-json.json', '{"sizes": [784, 10], "parameters": [1, 2', /Invalid weights file \(expected/],
    ['short.json', JSON.stringify({ sizes: [784, 10], parameters: [1, 2, 3] }), /Wrong number of parameters for sizes \[784, 10\]: expected 7850 \(10×784\+10\), got 3/],
    ['inputs.json', JSON.stringify({ sizes: [100, 10], parameters: Array(1010).fill(0) }), /takes 100 inputs.*784 pixels/],
    ['extra.json', JSON.stringify({ sizes: [784, 10], parameters: [], bias: 1 }), /unknown field `bias`/],
  ];
  for (const [name, body, want] of bad) {
    const file = join(OUT, name);
    await writeFile(file, body);
    await page.setInputFiles('#custom-file', file);
    // the message names the file
    await page.waitForFunction((n) => document.querySelector('#custom-error').textContent.startsWith(n), name);
    assert.equal(await page.getAttribute('#custom-file-info', 'data-state'), 'error');
    const msg = await page.textContent('#custom-error');
    assert.match(msg, want);
    assert.ok(await page.isVisible('#custom-error'));
  }
  await screenshot(await page.$('#init-custom'), 'cell-init-custom-bad-file');
  assert.deepEqual(errors, []);
  await context.close();
});

test('pretraining: fine-tuning from pretrained weights is ahead early on', async (t) => {
  const { page, errors, context } = await openPage(browser, server.url);
  await watchResponsiveness(page);
  await page.fill('#pre-ft-epochs', '4');
  await page.click('#pre-run');
  await page.waitForSelector('#pre-status[data-state="finished"]', { timeout: 180_000 });
  const pre = Number(await page.getAttribute('#pre-status', 'data-pretrained-error'));
  const rnd = Number(await page.getAttribute('#pre-status', 'data-random-error'));
  assert.ok(pre < rnd, `after 4 epochs: pretrained ${pre} vs random ${rnd}`);
  const text = await page.textContent('#pre-status');
  assert.match(text, /pretraining on [\d,]+ digits 0–4: epoch 2\/2/);
  assert.match(text, /from pretrained: epoch 4\/4/);
  assert.match(text, /from random: epoch 4\/4/);
  for (const sel of ['#pre-pretrain', '#pre-val', '#pre-loss']) assert.ok(await inkedPixels(page, sel) > 3000, sel);
  const smooth = await responsiveness(page);
  await screenshot(await page.$('#pretraining'), 'cell-pretraining');
  assertResponsive(t, smooth, 'init cell');
  assert.deepEqual(errors, []);
  await context.close();
});

test('invalid settings get a message', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  await page.fill('#equal-hidden', '40');
  await page.click('#equal-run');
  assert.match(await page.textContent('#equal-error'), /hidden units: "40" is not a whole number between 2 and 16/);
  await page.fill('#schemes-std', '-1');
  await page.dispatchEvent('#schemes-std', 'change');
  assert.match(await page.textContent('#schemes-error'), /std/);
  await page.fill('#custom-a', '1');
  await page.fill('#custom-b', '-1');
  await page.click('#custom-run');
  assert.match(await page.textContent('#custom-error'), /Invalid uniform bounds: a=1 > b=-1/);
  await page.fill('#pre-labelled', '5');
  await page.click('#pre-run');
  assert.match(await page.textContent('#pre-error'), /labelled examples/);
  assert.deepEqual(errors, []);
  await context.close();
});
