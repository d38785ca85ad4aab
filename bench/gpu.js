// The page side of the WebGPU bench (bench/webgpu.mjs opens it in headless Chromium).
// It loads the core as the site does, opens the WebGPU device with `initWebGpu`, then
// `runBench(options)` measures:
// - the WGSL matrix product at each shape (`benchGpuMatmul`: many products in one submit,
//   timed until the queue says the work is done);
// - training samples/s through the public `TrainSession` API, first on WebGPU, then on the
//   CPU path of this same page, so the ratio between them comes from one process.
// `window.benchReady` is true once the device is open, or a sentence saying why it is not.
import init, * as descent from '../pkg/descent.js';
import { hasRelaxedSimd } from '../www/relaxed.js';

async function fetchBytes(path) {
  const res = await fetch(new URL(path, import.meta.url));
  if (!res.ok) throw new Error(`could not load ${path} (HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nextTask = () => new Promise((ok) => setTimeout(ok, 0));

/**
 * The adapter as the browser describes it. SwiftShader (and llvmpipe, WARP) run WebGPU on
 * the CPU: `software` marks them, and numbers from them say nothing about a real GPU.
 */
async function adapterInfo() {
  const adapter = await navigator.gpu.requestAdapter();
  const info = adapter?.info ?? {};
  const fields = { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '' };
  const software = Boolean(info.isFallbackAdapter ?? adapter?.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe|software|warp/i.test(Object.values(fields).join(' '));
  return { ...fields, software };
}

/** Samples/s of `steps` training steps (one fresh session, timed from its construction). */
async function trainRate(data, config, steps) {
  const t0 = performance.now();
  const s = new descent.TrainSession(data, config, undefined);
  const backend = s.backend;
  // On the GPU, steps land when their losses are read back (every 32 steps): call again,
  // letting the readback's promise settle in between, until all of them have landed.
  while (s.steps < steps && s.status() === 'running') {
    s.runSteps(steps - s.steps);
    if (s.steps < steps) await nextTask();
  }
  const seconds = (performance.now() - t0) / 1000;
  const done = s.steps;
  const losses = s.stepLoss();
  s.free();
  if (done < steps) throw new Error(`training on ${backend} stopped after ${done} of ${steps} steps`);
  return { backend, samplesPerSec: (steps * config.batchSize) / seconds, losses };
}

async function setup() {
  await init({ module_or_path: new URL(hasRelaxedSimd() ? '../pkg/descent_relaxed_bg.wasm' : '../pkg/descent_bg.wasm', import.meta.url) });
  if (!navigator.gpu) return 'this Chromium exposes no navigator.gpu';
  const name = await descent.initWebGpu();
  if (name === undefined) return 'Chromium found no WebGPU adapter';
  return true;
}

/**
 * `options`: { shapes: [[name, m, k, n, ta, tb]], flopBudget, seconds, steps, batch, reps }.
 * A software adapter can be a thousand times slower than a GPU, so the work is sized by time:
 * one product per shape first, then as many per run as fit in `seconds` (at most
 * `flopBudget` flops).
 */
window.runBench = async ({ shapes, flopBudget, seconds, steps, batch, reps }) => {
  const adapter = await adapterInfo();
  descent.setBackend('webgpu');
  const matmul = [];
  for (const [shape, m, k, n, ta, tb] of shapes) {
    const flop = 2 * m * k * n;
    const first = await descent.benchGpuMatmul(m, k, n, ta, tb, 1);
    const iters = Math.max(1, Math.min(Math.round(flopBudget / flop), Math.round((seconds * first * 1e9) / flop)));
    const runs = [first];
    if (iters > 1) {
      runs.length = 0;
      for (let r = 0; r < reps; r++) runs.push(await descent.benchGpuMatmul(m, k, n, ta, tb, iters));
    }
    matmul.push({ shape, iters, runs: runs.length, gflops: median(runs) });
    console.log(`matmul ${shape}: ${iters} per run, ${median(runs).toFixed(2)} GFLOP/s`);
  }

  const data = new descent.MnistData(await fetchBytes('../data/mnist-images-idx3-ubyte.gz'), await fetchBytes('../data/mnist-labels-idx1-ubyte.gz'), 1);
  const config = { hidden: [256, 128], optimizer: 'adam', options: { lr: 1e-3 }, batchSize: batch, epochs: 1, seed: 1 };
  const training = {};
  for (const backend of ['webgpu', 'cpu']) {
    descent.setBackend(backend);
    // The CPU is fast enough for longer, steadier runs (still within the first epoch).
    const [n, times] = backend === 'cpu' ? [Math.max(steps, 96), Math.max(reps, 5)] : [steps, reps];
    // Warm-up outside the timing: on the GPU a one-step epoch compiles every pipeline; on the
    // CPU two whole runs (the first runs here were up to 3× slower: code compiled on first
    // call, the wasm memory growing).
    if (backend === 'cpu') for (let i = 0; i < 2; i++) await trainRate(data, config, n);
    else await trainRate(data, { ...config, trainSubset: batch }, 1);
    console.log(`training on ${backend}: warmed up`);
    const runs = [];
    for (let r = 0; r < times; r++) runs.push(await trainRate(data, config, n));
    console.log(`training on ${backend}: ${runs.map((r) => r.samplesPerSec.toFixed(0)).join(', ')} samples/s`);
    training[backend] = {
      backend: runs[0].backend,
      steps: n,
      samplesPerSec: median(runs.map((r) => r.samplesPerSec)),
      // the same seed on both paths: equal up to f32 rounding, or the GPU did other work
      lossAtStep: { step: steps, loss: runs[0].losses[steps - 1] },
    };
  }
  data.free();
  return {
    adapter,
    browser: navigator.userAgent.match(/Chrom(e|ium)\/[\d.]+/)?.[0] ?? navigator.userAgent,
    matmul,
    training: { ...training, ratio: training.webgpu.samplesPerSec / training.cpu.samplesPerSec },
  };
};

window.benchReady = await setup().catch((e) => `the core or the WebGPU device failed to start (${e.message})`);
