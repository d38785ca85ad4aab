// The worker-pool part of `cargo xtask bench`: the notebook page in headless Chromium (no GPU
// flags needed: the workers train on the CPU), eight jobs of identical cost — MLP 784-128-10,
// 2 epochs on the 7,000 training digits — through a pool of 1 worker and then of N (one per
// core, at most 8), timed by the page in three paired rounds (medians reported); plus each
// pool's start-up: a fresh pool's first tiny job on every worker, from submit to result
// (worker start, wasm instantiation, MNIST parse). The same skips as the WebGPU part where
// Chromium or playwright-core is missing.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { CHROMIUM, FLAGS, playwright, serve } from './webgpu.mjs';

const JOB = { spec: { hidden: [128], epochs: 2, batchSize: 64, optimizer: 'sgd', options: { lr: 0.1 }, seed: 1 } };

export async function benchPool(dist, { jobs = 8, workers = Math.min(8, os.cpus().length), quick = false } = {}, timeoutMs = 15 * 60_000) {
  if (!CHROMIUM || !existsSync(CHROMIUM)) return { skipped: `no Chromium installed${CHROMIUM ? ` at ${CHROMIUM}` : ''}` };
  const pw = await playwright();
  if (!pw) return { skipped: 'playwright-core is not installed (tests/e2e/node_modules)' };
  const server = await serve(dist);
  let browser;
  try {
    // the page's own flags, without the software-GPU ones (the pool never uses the GPU)
    const flags = FLAGS.filter((f) => !/webgpu|vulkan|angle/i.test(f));
    browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: flags, headless: true });
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.setDefaultTimeout(timeoutMs);
    await page.goto(`${server.url}index.html?workers=1`);
    await page.waitForSelector('body[data-ready]', { timeout: 120_000 });
    const result = await page.evaluate(async ({ job, jobs, workers, quick }) => {
      const { Pool } = await import('./www/pool.js');
      const setup = window.descentPool.setup;
      const tiny = { spec: { hidden: [8], epochs: 1, batchSize: 64, trainSubset: 64 } };
      const one = { ...job, spec: { ...job.spec, epochs: quick ? 1 : job.spec.epochs } };
      // a pool started and through one tiny job per worker (its start-up, timed)
      const start = async (size) => {
        const pool = new Pool({ ...setup, size });
        const t = performance.now();
        const first = await Promise.all(Array.from({ length: size }, () => pool.submit(tiny)));
        const bad = first.find((r) => r.status !== 'finished');
        if (bad) throw new Error(bad.message);
        return { pool, startupMs: performance.now() - t };
      };
      const batch = async (pool) => {
        const t = performance.now();
        const results = await Promise.all(Array.from({ length: jobs }, () => pool.submit(one)));
        const bad = results.find((r) => r.status !== 'finished');
        if (bad) throw new Error(bad.message);
        return { wallMs: performance.now() - t, steps: results[0].steps, lastLoss: results[0].history.step_loss.at(-1) };
      };
      const a = await start(1);
      const b = await start(workers);
      // paired rounds, alternating, so a slow moment of the machine hits both
      const rounds = quick ? 1 : 3;
      const times = { single: [], many: [] };
      let last;
      for (let r = 0; r < rounds; r++) {
        times.single.push((await batch(a.pool)).wallMs);
        last = await batch(b.pool);
        times.many.push(last.wallMs);
      }
      a.pool.close();
      b.pool.close();
      const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
      const single = { workers: 1, startupMs: a.startupMs, wallMs: median(times.single), rounds: times.single };
      const many = { workers, startupMs: b.startupMs, wallMs: median(times.many), rounds: times.many, stepsPerJob: last.steps, lastLoss: last.lastLoss };
      return { network: `784-128-10 ReLU, SGD, batch 64, ${one.spec.epochs} epochs on the 7,000 training digits`, jobs, cores: navigator.hardwareConcurrency, single, many, speedup: single.wallMs / many.wallMs, efficiency: single.wallMs / many.wallMs / workers };
    }, { job: JOB, jobs, workers, quick });
    if (errors.length) result.pageErrors = errors;
    return result;
  } catch (e) {
    return { skipped: `the pool bench did not finish (${e.message.split('\n')[0]})` };
  } finally {
    await browser?.close();
    await server.close();
  }
}
