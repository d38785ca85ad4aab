// Every training cell on the WebGPU path (Chromium's software adapter): each one runs to its
// end with its runs on the GPU — counted by the core's `backendUsage()` — draws, and logs no
// error. The other test files run the same cells on the CPU path (no adapter there). The
// settings are cut short: SwiftShader computes on the CPU, a step costs far more than on a GPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openPage, inkedPixels, screenshot } from './helpers.mjs';

let server;
let browser;
before(async () => {
  server = await serve();
  browser = await launch({ webgpu: true });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const usage = (page) =>
  page.evaluate(async () => (await import(new URL('pkg/descent.js', document.baseURI))).backendUsage());

/** Click `run`, wait for `status` to finish, and return the runs started on each device. */
async function runCell(page, { run, status, timeout = 240_000 }) {
  const before = await usage(page);
  await page.click(run);
  await page.waitForFunction((sel) => ['finished', 'error'].includes(document.querySelector(sel).dataset.state), status, { timeout });
  const state = await page.getAttribute(status, 'data-state');
  assert.equal(state, 'finished', `${status}: ${await page.textContent(status)}`);
  const after = await usage(page);
  const started = {};
  for (const [k, v] of Object.entries(after)) started[k] = v - (before[k] ?? 0);
  return started;
}

const cases = [
  {
    cell: '#init-equal', run: '#equal-run', status: '#equal-status', canvases: ['#equal-loss', '#equal-units-const'],
    setup: async (page) => page.fill('#equal-steps', '40'),
    // the GPU books steps in readbacks of up to 32: the run must still stop at 40
    check: async (page) => assert.match(await page.textContent('#equal-status'), /equal start: step 40\/40.*random start: step 40\/40/s),
    onGpu: true,
  },
  {
    cell: '#init-schemes', run: '#schemes-train', status: '#schemes-status', canvases: ['#schemes-loss'],
    setup: async (page) => {
      await page.fill('#schemes-depth', '4');
      await page.fill('#schemes-width', '32');
      await page.fill('#schemes-n', '640');
      await page.fill('#schemes-epochs', '1');
    },
    onGpu: true,
  },
  {
    cell: '#init-custom', run: '#custom-run', status: '#custom-status', canvases: ['#custom-loss'],
    setup: async (page) => {
      await page.fill('#custom-hidden', '32');
      await page.fill('#custom-n', '640');
      await page.fill('#custom-epochs', '1');
    },
    onGpu: true,
  },
  {
    cell: '#pretraining', run: '#pre-run', status: '#pre-status', canvases: ['#pre-pretrain', '#pre-val'],
    setup: async (page) => {
      await page.fill('#pre-hidden', '64');
      await page.fill('#pre-epochs', '1');
      await page.fill('#pre-ft-epochs', '2');
    },
    onGpu: true,
  },
  {
    cell: '#rprop', run: '#rprop-run', status: '#rprop-status', canvases: ['#rprop-loss', '#rprop-val'],
    setup: async (page) => {
      await page.fill('#rprop-n', '1000');
      await page.fill('#rprop-hidden', '32');
      await page.fill('#rprop-epochs', '3');
    },
    onGpu: true,
  },
  {
    cell: '#race', run: '#race-run', status: '#race-status', canvases: ['#race-loss', '#race-error'],
    setup: async (page) => {
      for (const key of ['sgd', 'momentum', 'nesterov', 'rprop', 'rmsprop', 'adam', 'adamw']) {
        if (['sgd', 'adam'].includes(key)) await page.check(`#race-use-${key}`);
        else await page.uncheck(`#race-use-${key}`);
      }
      await page.fill('#race-epochs', '1');
      await page.fill('#race-hidden', '32');
    },
    onGpu: true,
  },
  {
    // Its Adam runs read back every step's gradients and optimizer state.
    cell: '#adaptive', run: '#adaptive-run', status: '#adaptive-status',
    canvases: ['#adaptive-loss', '#adaptive-rates', '#adaptive-moments', '#adaptive-updates'],
    setup: async (page) => {
      await page.fill('#adaptive-steps', '20');
      await page.fill('#adaptive-hidden', '32');
    },
    onGpu: true,
    check: async (page) => {
      // all runs reached the step count, and the Adam runs' per-step trace was read back
      const text = await page.textContent('#adaptive-status');
      assert.match(text, /step 20\/20/, text);
      assert.match(text, /mean \|Δw\| of the first steps: Adam \S/, text);
    },
  },
  {
    // One run on the GPU, the rules read its record; then the same run on the CPU must give
    // the same best check and the same stops.
    cell: '#early-stop', run: '#early-stop-run', status: '#early-stop-status', canvases: ['#early-stop-loss', '#early-stop-error'],
    setup: async (page) => {
      await page.fill('#early-stop-n', '200');
      await page.fill('#early-stop-hidden', '32');
      await page.fill('#early-stop-lr', '0.005');
      await page.fill('#early-stop-epochs', '8');
      await page.fill('#early-stop-patience', '2');
      await page.dispatchEvent('#early-stop-patience', 'change');
    },
    onGpu: true,
    check: async (page) => {
      const read = async () => ({
        best: await page.getAttribute('#early-stop-status', 'data-best-epoch'),
        stops: await page.getAttribute('#early-stop-status', 'data-stops'),
      });
      const gpu = await read();
      assert.match(await page.textContent('#early-stop-status'), /^epoch 8\/8/);
      await page.selectOption('#backend-choice', 'cpu');
      const started = await runCell(page, { run: '#early-stop-run', status: '#early-stop-status' });
      assert.ok((started.WebGPU ?? 0) === 0, `the second run is on the CPU: ${JSON.stringify(started)}`);
      assert.deepEqual(await read(), gpu, 'the same best check and the same stops on the CPU');
    },
  },
  {
    // Both networks on the GPU (the looks inside hold each run every 5 steps and read it
    // back); then the same settings on the CPU give the same validation errors, the same
    // train-vs-eval table and a γ/β identity as exact.
    cell: '#batch-norm', run: '#batch-norm-run', status: '#batch-norm-status',
    canvases: ['#batch-norm-percentiles', '#batch-norm-percentiles-bn', '#batch-norm-running-mean', '#batch-norm-activations-bn'],
    setup: async (page) => {
      await page.fill('#batch-norm-hidden', '16, 16');
      await page.fill('#batch-norm-layer', '2');
      await page.fill('#batch-norm-epochs', '1');
      await page.fill('#batch-norm-batch', '128');
    },
    onGpu: true,
    check: async (page) => {
      const read = async () => ({
        errors: (await page.getAttribute('#batch-norm-status', 'data-errors')).split(',').map(Number),
        modes: await page.$$eval('#batch-norm-modes tbody tr', (r) => r.map((x) => [...x.cells].map((c) => parseFloat(c.textContent)))),
      });
      const identity = async () => {
        await page.selectOption('#batch-norm-gamma', 'std_eps');
        await page.selectOption('#batch-norm-beta', 'mean');
        await page.click('#batch-norm-check');
        return Number(await page.getAttribute('#batch-norm-identity', 'data-difference'));
      };
      assert.match(await page.textContent('#batch-norm-status'), /plain \(WebGPU\).*batch-norm \(WebGPU\)/s);
      const gpu = await read();
      assert.ok(await identity() < 1e-5, 'the identity on the GPU-trained network');
      await page.selectOption('#backend-choice', 'cpu');
      const started = await runCell(page, { run: '#batch-norm-run', status: '#batch-norm-status' });
      assert.ok((started.WebGPU ?? 0) === 0, `the second run is on the CPU: ${JSON.stringify(started)}`);
      const cpu = await read();
      // the same numbers up to f32 rounding: a digit or two of 1,500 (or of the 256 probe digits) may flip
      gpu.errors.forEach((e, i) => assert.ok(Math.abs(e - cpu.errors[i]) <= 0.002, `run ${i}: validation error ${e} on the GPU, ${cpu.errors[i]} on the CPU`));
      assert.equal(gpu.modes.length, 5);
      gpu.modes.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - cpu.modes[i][j]) <= 0.8, `modes[${i}][${j}]: ${v}% on the GPU, ${cpu.modes[i][j]}% on the CPU`)));
      assert.ok(await identity() < 1e-5, 'the identity on the CPU-trained network');
    },
  },
  {
    // proximal L1 on the GPU: the prox kernel soft-thresholds after each update
    cell: '#l1-l2', run: '#l1-l2-run', status: '#l1-l2-status', canvases: ['#l1-l2-error', '#l1-l2-magnitudes', '#l1-l2-weights1'],
    setup: async (page) => {
      await page.fill('#l1-l2-n', '200');
      await page.fill('#l1-l2-hidden', '32');
      await page.fill('#l1-l2-epochs', '2');
      await page.fill('#l1-l2-l1', '-2');
      await page.selectOption('#l1-l2-mode', 'proximal');
    },
    onGpu: true,
    check: async (page) => {
      const zeros = Number(await page.getAttribute('#l1-l2-status', 'data-zeros-l1'));
      assert.ok(zeros > 1000, `exact zeros from the GPU's proximal step: ${zeros}`);
    },
  },
  {
    cell: '#dropout', run: '#dropout-run', status: '#dropout-status', canvases: ['#dropout-error', '#dropout-modes', '#dropout-ensemble'],
    setup: async (page) => {
      await page.fill('#dropout-n', '200');
      await page.fill('#dropout-hidden', '32');
      await page.fill('#dropout-epochs', '2');
      await page.fill('#dropout-passes', '4');
    },
    onGpu: true,
    check: async (page) => assert.equal(await page.getAttribute('#dropout-status', 'data-scaling'), '4'),
  },
];

for (const c of cases) {
  test(`${c.cell} runs on the WebGPU path`, async () => {
    const { page, errors, context } = await openPage(browser, server.url);
    assert.equal(await page.textContent('#backend'), 'WebGPU');
    await c.setup(page);
    const started = await runCell(page, c);
    const onCpu = Object.entries(started).filter(([k]) => k.startsWith('CPU')).reduce((n, [, v]) => n + v, 0);
    const [gpu, cpu] = [started.WebGPU ?? 0, onCpu];
    if (c.onGpu) assert.ok(gpu > 0 && cpu === 0, `${c.cell}: every run on WebGPU, got ${JSON.stringify(started)}`);
    else assert.ok(gpu === 0 && cpu > 0, `${c.cell}: runs on the CPU by design, got ${JSON.stringify(started)}`);
    for (const sel of c.canvases) assert.ok(await inkedPixels(page, sel) > 2000, `${sel} drawn`);
    await c.check?.(page);
    await screenshot(await page.$(c.cell), `webgpu-${c.cell.slice(1)}`);
    assert.deepEqual(errors, []);
    await context.close();
  });
}
