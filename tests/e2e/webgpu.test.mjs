// The WebGPU path in the page: Chromium with its software (SwiftShader) adapter.
// - the header says "WebGPU" and offers the switch; a cell trains to the same accuracy on the
//   GPU as on the CPU (same seed, same numbers up to f32 rounding);
// - a device lost mid-run: the run goes on on the CPU, and the page says so;
// - without an adapter the page stays on the CPU and hides the switch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openPage, screenshot } from './helpers.mjs';

let server;
let gpuBrowser;
let cpuBrowser;
before(async () => {
  server = await serve();
  gpuBrowser = await launch({ webgpu: true });
  cpuBrowser = await launch();
});
after(async () => {
  await gpuBrowser?.close();
  await cpuBrowser?.close();
  await server?.close();
});

/** Run the SGD cell for one epoch and return its validation accuracy. */
async function sgdAccuracy(page) {
  await page.fill('#sgd-epochs', '1');
  await page.click('#sgd-run');
  await page.waitForSelector('#sgd-status[data-state="finished"]', { timeout: 180_000 });
  return Number(await page.getAttribute('#sgd-status', 'data-val-accuracy'));
}

test('with an adapter the page trains on WebGPU, to the CPU\'s numbers', async () => {
  const { page, errors, context } = await openPage(gpuBrowser, server.url);
  assert.equal(await page.textContent('#backend'), 'WebGPU');
  assert.ok(await page.isVisible('#backend-choice'), 'the switch is offered');
  await screenshot(await page.$('header'), 'header-webgpu');
  const gpu = await sgdAccuracy(page);
  assert.ok(gpu >= 0.85, `validation accuracy on the GPU after one epoch: ${gpu}`);
  await screenshot(await page.$('#sgd'), 'cell-sgd-webgpu');

  await page.selectOption('#backend-choice', 'cpu');
  assert.match(await page.textContent('#backend'), /^CPU \((relaxed )?SIMD\)$/);
  assert.match(page.url(), /backend=cpu/, 'the choice is kept in the URL');
  const cpu = await sgdAccuracy(page);
  // 1,500 validation digits: one digit is 0.00067; f32 rounding may move a borderline one.
  assert.ok(Math.abs(gpu - cpu) <= 0.0035, `GPU ${gpu} vs CPU ${cpu}`);
  await screenshot(await page.$('header'), 'header-switched-to-cpu');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a device lost mid-run: training goes on on the CPU with a notice', async () => {
  const { page, errors, context } = await openPage(gpuBrowser, server.url);
  await page.fill('#sgd-epochs', '2');
  await page.click('#sgd-run');
  await page.waitForFunction(() => /step [1-9]\d*\//.test(document.querySelector('#sgd-status').textContent), null, { timeout: 60_000 });
  await page.evaluate(async () => {
    const wasm = await import(new URL('pkg/descent.js', document.baseURI));
    wasm.loseWebGpuDevice();
  });
  await page.waitForSelector('#backend-notice:not([hidden])', { timeout: 30_000 });
  assert.match(await page.textContent('#backend-notice'), /carry on on the CPU/);
  assert.match(await page.textContent('#backend'), /^CPU \((relaxed )?SIMD\)$/);
  assert.ok(await page.isHidden('#backend-choice'));
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'page-webgpu-lost');
  await page.waitForSelector('#sgd-status[data-state="finished"]', { timeout: 180_000 });
  assert.match(await page.textContent('#sgd-status'), /epoch 2\/2/);
  const acc = Number(await page.getAttribute('#sgd-status', 'data-val-accuracy'));
  assert.ok(acc >= 0.85, `validation accuracy after the hand-over: ${acc}`);
  await screenshot(await page.$('#sgd'), 'cell-sgd-after-gpu-lost');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a trap on the GPU: the restarted core starts WebGPU again and trains there', async () => {
  const { page, errors, context } = await openPage(gpuBrowser, server.url);
  await page.evaluate(async () => {
    const d = await import(new URL('pkg/descent.js', document.baseURI));
    window.__runFor = d.Compare.prototype.runFor;
    d.Compare.prototype.runFor = () => { throw new WebAssembly.RuntimeError('unreachable'); };
  });
  await page.click('#sgd-run');
  await page.waitForSelector('#core-error.notice:not([hidden])', { timeout: 30_000 });
  const backend = await page.evaluate(async () => {
    const d = await import(new URL('pkg/descent.js', document.baseURI));
    d.Compare.prototype.runFor = window.__runFor;
    return d.backendName(); // the new instance's
  });
  assert.equal(backend, 'WebGPU');
  assert.equal(await page.textContent('#backend'), 'WebGPU');
  assert.ok(await page.isVisible('#backend-choice'), 'the switch is still offered');
  const acc = await sgdAccuracy(page);
  assert.ok(acc >= 0.85, `validation accuracy on the GPU after the restart: ${acc}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('without an adapter the page stays on the CPU and hides the switch', async () => {
  const { page, errors, context } = await openPage(cpuBrowser, server.url);
  assert.match(await page.textContent('#backend'), /^CPU \((relaxed )?SIMD\)$/);
  assert.ok(await page.isHidden('#backend-choice'));
  assert.deepEqual(errors, []);
  await context.close();
});
