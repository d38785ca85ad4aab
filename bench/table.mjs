// The readable side of target/bench/results.json: the table `cargo xtask bench` prints.

const pad = (s, w) => String(s).padEnd(w);
const num = (v, digits = 1) => v.toFixed(digits).padStart(7);

/** Print `results` (as bench/bench.mjs writes them). */
export function printTable({ peak, gemm, training, breakdown, page, webgpu, pool }) {
  for (const [build, p] of Object.entries(peak)) {
    console.log(`\nGEMM, ${build} build (GFLOP/s, one thread; peak ${p.gflops.toFixed(1)} GFLOP/s with ${p.instruction})`);
    for (const g of gemm.filter((g) => g.build === build)) {
      console.log(`  ${pad(g.shape, 40)} ${pad(g.kernel, 8)} ${num(g.gflops)}  ${num(g.percentOfPeak, 0)}% of peak`);
    }
  }

  console.log(`\nTraining ${training.network}`);
  console.log(`  ${pad('Descent ' + training.descent.backend, 40)} ${num(training.descent.samplesPerSec, 0)} samples/s`);
  if (training.peer) {
    console.log(`  ${pad(training.peer.name, 40)} ${num(training.peer.samplesPerSec, 0)} samples/s`);
    console.log(`  ratio Descent / peer: ${training.ratio.toFixed(2)}×`);
  }

  const pt = training.torch;
  if (pt?.skipped) console.log(`  PyTorch: skipped (${pt.skipped})`);
  else if (pt) {
    const r = training.torchRatios;
    console.log(`  ${pad(`PyTorch ${pt.version} eager, ${pt.threads} thread, Adam`, 40)} ${num(pt.default, 0)} samples/s`);
    console.log(`  ${pad(`PyTorch ${pt.version} eager, ${pt.threads} thread, Adam(fused=True)`, 40)} ${num(pt.fused, 0)} samples/s`);
    console.log(`  ratio Descent (Node) / PyTorch: ${r.nodeVsDefault.toFixed(2)}× default Adam, ${r.nodeVsFused.toFixed(2)}× fused Adam`);
    if (pt.nearPage) console.log(`  PyTorch again, right after the page's rounds: ${num(pt.nearPage.default, 0)} samples/s default Adam, ${num(pt.nearPage.fused, 0)} fused`);
    if (r.pageVsFused !== null) console.log(`  ratio Descent (page) / PyTorch${pt.nearPage ? ' (right after it)' : ''}: ${r.pageVsDefault.toFixed(2)}× default Adam, ${r.pageVsFused.toFixed(2)}× fused Adam`);
  }
  if (page?.skipped) console.log(`  in the page: skipped (${page.skipped})`);
  else if (page) {
    console.log(`  ${pad(`Descent in the page (${page.browser})`, 40)} ${num(page.samplesPerSec, 0)} samples/s  ${num(page.percentOfPeak, 0)}% of peak`);
    const f = page.first100;
    console.log(`  first 100 steps of a Run in the page: ${f.withWarmUpMs.toFixed(0)} ms after the warm-up (${f.warmUpMs} ms of idle time), ${f.withoutMs.toFixed(0)} ms without (median of ${f.rounds})`);
  }

  if (breakdown) {
    const b = breakdown;
    console.log(`\nOne training step, ${b.build} build: ${b.wholeUs.toFixed(0)} µs for the ${(b.flopPerStep / 1e6).toFixed(1)} MFLOP of a dense step → ${b.gflops.toFixed(1)} GFLOP/s = ${b.percentOfPeak.toFixed(0)}% of peak`);
    console.log(`  (from the training run's samples/s: ${b.trainingGflops.toFixed(1)} GFLOP/s = ${b.trainingPercentOfPeak.toFixed(0)}% of peak)`);
    const v = b.layer0Visited;
    console.log(`  zero-step skipping: the first layer's forward visits ${(100 * v.forward).toFixed(0)}% of its steps, its weight gradient ${(100 * v.weightGradient).toFixed(0)}%;`);
    console.log(`    performed ${(b.performedFlopPerStep / 1e6).toFixed(1)} MFLOP → ${b.performedGflops.toFixed(1)} GFLOP/s = ${b.performedPercentOfPeak.toFixed(0)}% of peak`);
    console.log(`  the same step without skipping: ${b.wholeDenseUs.toFixed(0)} µs → ${b.denseGflops.toFixed(1)} GFLOP/s = ${b.denseStepPercentOfPeak.toFixed(0)}% of peak (${(b.wholeDenseUs / b.wholeUs).toFixed(2)}× the time)`);
    for (const x of b.dense) console.log(`  ${pad(x.name, 52)} ${num(x.us, 1)} µs          ${num(x.gflops)} GFLOP/s`);
    for (const x of b.parts) console.log(`  ${pad(x.name, 52)} ${num(x.us, 1)} µs ${num(x.percent, 1)}%${x.gflops ? `  ${num(x.gflops)} GFLOP/s` : ''}`);
    console.log(`  ${pad('the rest (copies, bookkeeping, cache effects)', 52)} ${num(b.restUs, 1)} µs ${num((100 * b.restUs) / b.wholeUs, 1)}%`);
  }

  printPool(pool);
  if (webgpu.skipped) {
    console.log(`\nWebGPU: skipped (${webgpu.skipped})`);
    return;
  }
  const a = webgpu.adapter;
  const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ') || 'unnamed adapter';
  const kind = a.software ? 'SOFTWARE adapter: it runs on the CPU, so these numbers say nothing about a real GPU' : 'hardware adapter';
  console.log(`\nWebGPU in ${webgpu.browser}: ${name} (${kind})`);
  for (const m of webgpu.matmul) console.log(`  ${pad(m.shape, 40)} ${pad("WGSL", 8)} ${num(m.gflops, m.gflops < 1 ? 2 : 1)}  GFLOP/s`);
  const t = webgpu.training;
  console.log(`  training, same page: ${pad(t.webgpu.backend, 20)} ${num(t.webgpu.samplesPerSec, 0)} samples/s`);
  console.log(`                       ${pad(t.cpu.backend, 20)} ${num(t.cpu.samplesPerSec, 0)} samples/s`);
  console.log(`  ratio WebGPU / CPU: ${t.ratio.toFixed(2)}×`);
  const [g, c] = [t.webgpu.lossAtStep, t.cpu.lossAtStep];
  console.log(`  loss at step ${g.step}, same seed: WebGPU ${g.loss.toFixed(6)}, CPU ${c.loss.toFixed(6)}`);
  if (webgpu.pageErrors) console.log(`  page errors: ${webgpu.pageErrors.join('; ')}`);
}

/** The worker pool: 1 worker against N on the same jobs, and what a pool costs to start. */
function printPool(pool) {
  if (!pool || pool.skipped) {
    console.log(`\nWorker pool: skipped (${pool?.skipped ?? 'not run'})`);
    return;
  }
  const { single, many } = pool;
  console.log(`\nWorker pool, ${pool.jobs} jobs of ${pool.network} (${pool.cores} cores)`);
  for (const r of [single, many]) {
    console.log(`  ${pad(`${r.workers} worker${r.workers > 1 ? 's' : ''}`, 40)} ${num(r.wallMs / 1000, 2)} s    start-up ${num(r.startupMs, 0)} ms`);
  }
  console.log(`  speed-up ${pool.speedup.toFixed(2)}× with ${many.workers} workers (efficiency ${(100 * pool.efficiency).toFixed(0)}% per worker)`);
  if (pool.pageErrors) console.log(`  page errors: ${pool.pageErrors.join('; ')}`);
}
