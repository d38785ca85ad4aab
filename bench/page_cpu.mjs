// The page's own CPU training in `cargo xtask bench`: the notebook (dist/index.html) in headless
// Chromium with its default wasm tiering (no --no-liftoff: what a student's browser does) and
// no WebGPU adapter, so every run is on the CPU.
//
// - steady: samples/s of the bench's training run inside the page, after the page's warm-up
//   (www/warmup.js) and 16 steps of its own, 80 steps timed, best of `reps` sessions;
// - the first seconds: the time from a Run to the 100th step of that run, in a fresh browser
//   with the warm-up and in one without it (DESCENT_NO_WARMUP), both after the same idle time
//   since the page was ready, alternating for `rounds` rounds.
// Skipped with a reason where Chromium or playwright-core is missing.
import { existsSync } from 'node:fs';
import { CHROMIUM, playwright, serve } from './webgpu.mjs';

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];
const SPEC = { hidden: [256, 128], optimizer: 'adam', options: { lr: 1e-3 }, batchSize: 64, epochs: 3 };

/** In the page: a session on the page's data files, a step at a time as a cell takes them. */
async function inPage(page, what, spec, reps) {
  return page.evaluate(async ({ what, spec, reps }) => {
    const core = await import('./pkg/descent.js'); // the instance the page already started
    const bytes = async (f) => new Uint8Array(await (await fetch(`data/${f}`)).arrayBuffer());
    const data = new core.MnistData(await bytes('mnist-images-idx3-ubyte.gz'), await bytes('mnist-labels-idx1-ubyte.gz'), 1);
    const steps = (s, n) => { for (let i = 0; i < n; i++) s.runSteps(1); };
    const out = [];
    for (let r = 0; r < reps; r++) {
      const s = new core.TrainSession(data, { ...spec, seed: 1 + r }, undefined);
      if (what === 'first100') {
        const t0 = performance.now();
        steps(s, 100);
        out.push(performance.now() - t0);
      } else {
        steps(s, 16);
        const t0 = performance.now();
        steps(s, 80);
        out.push((80 * spec.batchSize) / ((performance.now() - t0) / 1000));
      }
      s.free();
    }
    data.free();
    return { values: out, backend: core.backendName() };
  }, { what, spec, reps });
}

/** Open the notebook in a fresh browser; `warm`: wait for the warm-up, else skip it. */
async function open(pw, url, warm, idleMs) {
  const browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  const page = await browser.newPage();
  if (!warm) await page.addInitScript(() => { globalThis.DESCENT_NO_WARMUP = true; });
  await page.goto(`${url}index.html`);
  await page.waitForSelector('body[data-ready]', { timeout: 120_000 });
  const t0 = Date.now();
  if (warm) await page.waitForSelector('body[data-warm="done"]', { timeout: 120_000 });
  const warmMs = warm ? Number(await page.getAttribute('body', 'data-warm-ms')) : null;
  await page.waitForTimeout(Math.max(0, idleMs - (Date.now() - t0))); // the same idle time either way
  return { browser, page, warmMs };
}

export async function benchPageCpu(dist, { rounds = 3, reps = 3 } = {}) {
  if (!CHROMIUM || !existsSync(CHROMIUM)) return { skipped: `no Chromium installed${CHROMIUM ? ` at ${CHROMIUM}` : ''}` };
  const pw = await playwright();
  if (!pw) return { skipped: 'playwright-core is not installed (tests/e2e/node_modules)' };
  const server = await serve(dist);
  const first = { warm: [], cold: [], warmUpMs: [] };
  let steady = null;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const warm of [true, false]) {
        const { browser, page, warmMs } = await open(pw, server.url, warm, 3000);
        try {
          const { values } = await inPage(page, 'first100', SPEC, 1);
          (warm ? first.warm : first.cold).push(values[0]);
          if (warm) first.warmUpMs.push(warmMs);
          if (warm && r === rounds - 1) steady = await inPage(page, 'steady', SPEC, reps);
        } finally {
          await browser.close();
        }
      }
    }
  } catch (e) {
    return { skipped: `the page bench did not finish (${e.message.split('\n')[0]})` };
  } finally {
    await server.close();
  }
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return {
    browser: 'headless Chromium, default wasm tiering',
    backend: steady.backend,
    samplesPerSec: Math.max(...steady.values),
    first100: { withWarmUpMs: median(first.warm), withoutMs: median(first.cold), warmUpMs: median(first.warmUpMs), rounds },
  };
}
