// The WebGPU part of `cargo xtask bench`: serve dist/ (and this folder under /bench/, so the
// shipped site stays as built), open bench/gpu.html in headless Chromium with its WebGPU flags,
// and return what the page measured. Anything missing (Chromium, playwright-core, an adapter)
// skips the part with a reason instead of failing the bench.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.DESCENT_CHROMIUM ?? '/usr/bin/chromium';
// The flags of tests/e2e/helpers.mjs: headless, quiet, and Chromium's software (SwiftShader)
// Vulkan under WebGPU, so there is an adapter even without a GPU; plus one for steady timings.
export const FLAGS = [
  '--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
  '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--disable-vulkan-surface',
  // DESCENT_BENCH_GPU=hardware leaves Chromium to find the machine's own GPU (where it has one).
  ...(process.env.DESCENT_BENCH_GPU === 'hardware' ? [] : ['--use-vulkan=swiftshader', '--use-angle=swiftshader']),
  // as in Node (xtask/src/bench.rs): wasm compiled by V8's optimizing tier from the first call
  '--js-flags=--no-liftoff',
];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.gz': 'application/gzip' };

/** Serve /bench/* from this folder and everything else from `dist` on 127.0.0.1. */
export async function serve(dist) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (path.includes('..')) return res.writeHead(403).end();
    const file = path.startsWith('/bench/') ? join(HERE, path.slice('/bench/'.length)) : join(dist, path);
    let body;
    try {
      body = await readFile(file);
    } catch {
      return res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

/** playwright-core from the end-to-end tests' packages, or null where they are not installed. */
export async function playwright() {
  const manifest = resolve(HERE, '../tests/e2e/package.json');
  try {
    const mod = await import(createRequire(manifest).resolve('playwright-core'));
    return mod.chromium ? mod : mod.default; // its CommonJS entry arrives as the default export
  } catch {
    return null;
  }
}

/**
 * Run the page's measurements: `options` = { shapes, flopBudget, steps, batch, reps }.
 * Returns { skipped: reason } or the page's results.
 */
export async function benchWebGpu(dist, options, timeoutMs) {
  if (!CHROMIUM || !existsSync(CHROMIUM)) return { skipped: `no Chromium installed${CHROMIUM ? ` at ${CHROMIUM}` : ''}` };
  const pw = await playwright();
  if (!pw) return { skipped: 'playwright-core is not installed (tests/e2e/node_modules)' };
  const server = await serve(dist);
  let browser;
  try {
    browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // DESCENT_BENCH_VERBOSE=1: the page's progress lines, with the seconds since launch.
    const t0 = performance.now();
    if (process.env.DESCENT_BENCH_VERBOSE === '1') page.on('console', (m) => console.error(`  [gpu page ${((performance.now() - t0) / 1000).toFixed(1)} s] ${m.text()}`));
    page.setDefaultTimeout(timeoutMs);
    await page.goto(`${server.url}bench/gpu.html`);
    await page.waitForFunction(() => window.benchReady !== undefined, null, { timeout: 60_000 });
    const ready = await page.evaluate(() => window.benchReady);
    if (ready !== true) return { skipped: ready };
    let timer;
    const result = await Promise.race([
      page.evaluate((o) => window.runBench(o), options),
      new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`the page took over ${timeoutMs / 1000} s`)), timeoutMs); }),
    ]).finally(() => clearTimeout(timer));
    if (errors.length) result.pageErrors = errors;
    return result;
  } catch (e) {
    return { skipped: `the WebGPU bench did not finish (${e.message.split('\n')[0]})` };
  } finally {
    await browser?.close();
    await server.close();
  }
}
