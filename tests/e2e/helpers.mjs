// Shared set-up for the end-to-end tests: serve dist/ on 127.0.0.1 and drive Debian's
// Chromium with playwright-core (which never downloads a browser of its own).
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { join, normalize, extname, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import os from 'node:os';

export const DIST = resolve(process.env.DESCENT_DIST ?? 'dist');
export const OUT = resolve(process.env.DESCENT_E2E_OUT ?? 'target/e2e');
const CHROMIUM = process.env.DESCENT_CHROMIUM ?? '/usr/bin/chromium';

const BASE_FLAGS = [
  '--headless', '--no-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];
/** Flags that give Chromium a software (SwiftShader) WebGPU adapter. */
export const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
  '--use-angle=swiftshader', '--disable-vulkan-surface',
];

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
  '.gz': 'application/gzip', '.json': 'application/json', '.ts': 'text/plain',
};

/**
 * Serve `root` under the URL prefix `prefix` (e.g. "/course/descent/") on 127.0.0.1, so the
 * tests also prove that the site works from a sub-path. Records every 404.
 */
export async function serve(root = DIST, prefix = '/') {
  const missing = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (!url.pathname.startsWith(prefix)) {
      missing.push(url.pathname);
      res.writeHead(404).end();
      return;
    }
    let rel = normalize(decodeURIComponent(url.pathname.slice(prefix.length)));
    if (rel === '.' || rel === '' || rel.endsWith('/')) rel = join(rel, 'index.html');
    if (rel.startsWith('..')) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(join(root, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' }).end(body);
    } catch {
      missing.push(url.pathname);
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}${prefix}`, missing, close: () => new Promise((ok) => server.close(ok)) };
}

/** Launch Chromium; `webgpu` adds the SwiftShader WebGPU flags. */
export async function launch({ webgpu = false } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...BASE_FLAGS, ...(webgpu ? WEBGPU_FLAGS : [])],
    headless: true,
  });
}

/** A page that records console errors and uncaught exceptions. */
export async function openPage(browser, url, { width = 1400, height = 1000 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 2 });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
  return { page, errors, context };
}

/** Count non-white pixels of a canvas (a blank canvas has none). */
export async function inkedPixels(page, selector) {
  return page.$eval(selector, (c) => {
    const ctx = c.getContext('2d');
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && (data[i] < 245 || data[i + 1] < 245 || data[i + 2] < 245)) n++;
    }
    return n;
  });
}

/**
 * Pixels of `selector`'s canvas in colour (channels at least 40 apart): a chart's data in the
 * palette's colours, not its grey frame, grid and text, which already fill empty axes with ink.
 */
export async function colouredPixels(page, selector) {
  return page.$eval(selector, (c) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) >= 40) n++;
    }
    return n;
  });
}

/** Wait until every chart of `cell` that waits its turn to be redrawn (`data-stale`) is drawn. */
export async function chartsDrawn(page, cell) {
  await page.waitForFunction((sel) => !document.querySelector(`${sel} canvas[data-stale]`), cell, { timeout: 10_000 });
}

export async function screenshot(target, name) {
  await mkdir(OUT, { recursive: true });
  await target.screenshot({ path: join(OUT, `${name}.png`) });
}

/**
 * From now on, record main-thread tasks over 50 ms, count animation frames, and collect the
 * time each frame spends in a cell's own code (cells push it to window.__frameTimes when a
 * test has created that array).
 */
export async function watchResponsiveness(page) {
  await page.evaluate(() => {
    window.__longTasks = [];
    window.__frameTimes = [];
    window.__frames = 0;
    const tick = () => {
      window.__frames++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(Math.round(e.duration));
    }).observe({ type: 'longtask' });
  });
}

/** What watchResponsiveness saw (read it before a screenshot, itself a long task). */
export async function responsiveness(page) {
  return page.evaluate(() => ({
    long: window.__longTasks.filter((d) => d > 50),
    frames: window.__frames,
    own: [...window.__frameTimes],
  }));
}

/**
 * The page stayed responsive while a cell worked, judged two ways:
 * 1. the cell's own work per frame (what the page controls): its 90th percentile must stay
 *    under 50 ms, always;
 * 2. whole main-thread tasks (these also hold rendering, garbage collection and one-off
 *    set-up such as building a run): none long enough to feel like a freeze (over 200 ms),
 *    and those over 50 ms — a dropped frame or three — at most one in five frames (three are
 *    always allowed: a run's start and its first paints). One in five, not one in ten: on the
 *    2-core test machine the same build of the rprop cell gave 4 such tasks in 130 frames on
 *    one run and 20 on the next, nearly all 51–56 ms (a frame that draws three charts sits just
 *    under 50 ms, and the machine's own noise tips it over). Judged only when the machine is not
 *    oversubscribed: with every core taken by other processes, frames stretch whatever the
 *    page does, and the check would measure the machine.
 */
export function assertResponsive(t, { long, frames, own }, what = 'cell') {
  if (own.length > 0) {
    const sorted = [...own].sort((a, b) => a - b);
    const p90 = sorted[Math.floor(sorted.length * 0.9)];
    t.diagnostic(`${what}: ${own.length} frames, own work median ${sorted[sorted.length >> 1].toFixed(1)} ms, 90th percentile ${p90.toFixed(1)} ms`);
    if (!(p90 < 50)) throw new Error(`${what}: a frame's own work takes ${p90.toFixed(1)} ms (90th percentile)`);
  }
  const report = `${what}: ${long.length} main-thread tasks over 50 ms in ${frames} frames: ${long.join(', ')}`;
  const load = os.loadavg()[0] / os.cpus().length;
  if (load > 1) {
    t.diagnostic(`not judging whole tasks: load ${load.toFixed(2)} per core (${report})`);
    return;
  }
  t.diagnostic(report);
  const freezes = long.filter((d) => d > 200);
  if (freezes.length > 0) throw new Error(`${report} (a freeze: ${freezes.join(', ')} ms)`);
  if (long.length > Math.max(3, frames / 5)) throw new Error(report);
}
