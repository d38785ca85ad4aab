// Descent's page: load the wasm core and MNIST, then set up every cell.
import init, { __wbg_reset_state, MnistData, backendName, initWebGpu, onWebGpuLost, randomSeed, setBackend, version } from '../pkg/descent.js';
import { hasRelaxedSimd } from './relaxed.js';
import * as state from './state.js';
import * as batchCell from './cells/batch.js';
import * as sgdCell from './cells/sgd.js';
import * as initEqualCell from './cells/init_equal.js';
import * as initSchemesCell from './cells/init_schemes.js';
import * as initCustomCell from './cells/init_custom.js';
import * as pretrainingCell from './cells/pretraining.js';
import * as momentumCell from './cells/momentum.js';
import * as rpropCell from './cells/rprop.js';
import * as adaptiveCell from './cells/adaptive.js';
import * as raceCell from './cells/race.js';
import * as earlyStopCell from './cells/early_stop.js';
import * as crossValCell from './cells/cross_val.js';
import * as overfitCell from './cells/overfit.js';
import * as hyperCell from './cells/hyper.js';
import * as batchNormCell from './cells/batch_norm.js';
import * as regularizationCell from './cells/regularization.js';
import * as dropoutCell from './cells/dropout.js';
import { Pool, defaultSize, setPagePool, MAX_WORKERS } from './pool.js';
import { resetCells } from './cell.js';
import { onCoreTrap } from './ui.js';
import { warmUp } from './warmup.js';

const $ = (id) => document.getElementById(id);

async function fetchBytes(path) {
  const url = new URL(path, import.meta.url);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url.pathname} (HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Compile a wasm build (kept, so the pool's workers run the very same module). */
async function compile(file) {
  const res = await fetch(new URL(`../pkg/${file}`, import.meta.url));
  if (!res.ok) throw new Error(`could not load ${file} (HTTP ${res.status})`);
  return WebAssembly.compileStreaming ? WebAssembly.compileStreaming(res) : WebAssembly.compile(await res.arrayBuffer());
}

/**
 * Load the relaxed-SIMD build where the browser has it (fused multiply-adds), else simd128.
 * Returns the compiled module.
 */
async function loadCore() {
  if (hasRelaxedSimd()) {
    try {
      const module = await compile('descent_relaxed_bg.wasm');
      await init({ module_or_path: module });
      return module;
    } catch (e) {
      console.warn(`relaxed-SIMD build not loaded (${e.message}); using the simd128 build`);
    }
  }
  const module = await compile('descent_bg.wasm');
  await init({ module_or_path: module });
  return module;
}

/** The worker pool, its size bound to the header's control and the URL (?workers=3). */
function setupPool(module, images, labels, ctx) {
  const input = $('workers');
  input.value = String(defaultSize());
  state.bind(input, 'workers');
  const cores = navigator.hardwareConcurrency || 0;
  const show = (s) => {
    $('workers-info').textContent = s.running > 0 ? `${s.running} busy${s.queued ? ` · ${s.queued} queued` : ''}` : cores ? `of ${cores} cores` : '';
    const notice = $('pool-notice');
    notice.hidden = !s.note;
    notice.textContent = s.note ?? '';
  };
  const wanted = () => {
    const n = Number(input.value);
    return input.value.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= MAX_WORKERS ? n : defaultSize();
  };
  // a link's worker count the control cannot take goes back to the default (and leaves the link)
  if (input.value !== String(wanted())) {
    input.value = String(wanted());
    state.forget('workers');
  }
  const pool = new Pool({ module, images, labels, seed: ctx.seed(), data: ctx.data, size: wanted(), onChange: show });
  input.addEventListener('change', () => {
    input.value = String(wanted());
    pool.resize(wanted());
  });
  show(pool.status());
  setPagePool(pool);
  window.descentPool = pool; // for the console and the tests
  return pool;
}

async function main() {
  const module = await loadCore();
  await setupBackend();
  $('version').textContent = `v${version()}`;
  const seedInput = $('global-seed');
  const goodSeed = (text) => /^\d+$/.test(text.trim()) && Number.isSafeInteger(Number(text));
  // a bad seed in a link falls back to the default with a note; it never stops the page
  const linked = state.get('seed', null);
  if (linked !== null && !goodSeed(linked)) {
    state.set('seed', null);
    const box = $('load-error');
    box.hidden = false;
    box.textContent = `The link's seed "${linked.slice(0, 40)}" is not a whole number from 0 to 2^53 − 1, so the default seed ${seedInput.value} is used.`;
  }
  state.bind(seedInput, 'seed');
  const seed = () => {
    if (!goodSeed(seedInput.value)) throw new Error(`seed "${seedInput.value}" must be a whole number from 0 to 2^53 − 1`);
    return Number(seedInput.value);
  };
  const [images, labels] = await Promise.all([
    fetchBytes('../data/mnist-images-idx3-ubyte.gz'),
    fetchBytes('../data/mnist-labels-idx1-ubyte.gz'),
  ]);
  const ctx = { data: null, seed };
  let dataSeed; // the seed ctx.data was split with (a restart splits with it again)
  const loadData = (s = seed()) => {
    ctx.data = new MnistData(images, labels, s);
    dataSeed = s;
    $('data-info').textContent =
      `MNIST: ${ctx.data.trainSize.toLocaleString()} train · ${ctx.data.validationSize.toLocaleString()} validation · ${ctx.data.testSize.toLocaleString()} test`;
  };
  loadData();
  ctx.pool = setupPool(module, images, labels, ctx);
  const cells = [batchCell.setup(ctx), sgdCell.setup(ctx), initEqualCell.setup(ctx), initSchemesCell.setup(ctx), initCustomCell.setup(ctx), pretrainingCell.setup(ctx), momentumCell.setup(ctx), rpropCell.setup(ctx), adaptiveCell.setup(ctx), raceCell.setup(ctx), earlyStopCell.setup(ctx), crossValCell.setup(ctx), overfitCell.setup(ctx), hyperCell.setup(ctx), regularizationCell.setup(ctx), dropoutCell.setup(ctx), batchNormCell.setup(ctx)];
  const dropped = state.dropUnknown(['backend']);
  if (dropped.length > 0) console.info(`dropped ${dropped.length} unknown setting(s) from the link: ${dropped.slice(0, 5).join(', ')}${dropped.length > 5 ? ', …' : ''}`);
  // (nothing is redrawn once the core is down for good: the cells' objects may be stale)
  const coreDown = () => document.body.dataset.core === 'failed';
  const renderAll = () => coreDown() || cells.forEach((c) => c.render());
  renderAll();
  const reseed = () => {
    if (coreDown()) return;
    try {
      loadData();
      ctx.pool.setSeed(ctx.seed(), ctx.data);
      $('load-error').hidden = true;
      renderAll();
    } catch (e) {
      $('load-error').hidden = false;
      $('load-error').textContent = e.message;
    }
  };
  seedInput.addEventListener('change', reseed);
  // After a trap (ui.js): a fresh instance of the same compiled module, set up as at load. Every
  // object of the old one is stale, so the data is rebuilt from the bytes kept here, the pool's
  // page-thread jobs are dropped (its workers have their own instances) and every cell goes back
  // to idle; the backend choice is made again (the GPU's device was the old instance's).
  onCoreTrap(({ where, errorBox }) => {
    __wbg_reset_state();
    loadData(dataSeed);
    ctx.pool.coreRestarted(ctx.data);
    resetCells(where, errorBox);
    return startBackend({ restart: true });
  });
  $('new-seed').addEventListener('click', () => {
    seedInput.value = String(randomSeed());
    seedInput.dispatchEvent(new Event('change'));
  });
  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(renderAll, 150);
  });
  document.body.dataset.ready = '';
  warmUp(ctx.data);
}

// WebGPU when the browser gives an adapter, else the CPU; the header's switch picks where
// new training runs compute (kept in the URL as ?backend=cpu).
async function setupBackend() {
  const choice = $('backend-choice');
  const adapter = await startBackend();
  if (adapter) {
    state.bind(choice, 'backend');
    choice.addEventListener('change', () => applyBackend(choice));
    applyBackend(choice);
  }
}

/**
 * Start WebGPU in the core and tell it the header's choice (at load, and after a restart when
 * the GPU was in use); returns the adapter's name, or null on the CPU.
 */
async function startBackend({ restart = false } = {}) {
  const choice = $('backend-choice');
  if (restart && choice.hidden) return null; // on the CPU before the trap: a new instance starts there
  let adapter = null;
  try {
    adapter = await initWebGpu();
  } catch (e) {
    console.warn(`WebGPU is present but failed to start: ${e.message}`);
  }
  if (!adapter) {
    choice.hidden = true; // (after a restart: the GPU did not come back, new runs use the CPU)
    $('backend').textContent = backendName();
    return null;
  }
  choice.hidden = false;
  applyBackend(choice);
  $('backend').title = adapter;
  onWebGpuLost((why) => {
    choice.value = 'cpu';
    choice.hidden = true;
    $('backend').textContent = backendName();
    const notice = $('backend-notice');
    notice.textContent = `The GPU stopped working (${why.replace(/\.+$/, "")}). Running experiments carry on on the CPU from their last parameters; new ones start on the CPU.`;
    notice.hidden = false;
  });
  return adapter;
}

function applyBackend(choice) {
  try {
    $('backend').textContent = setBackend(choice.value);
  } catch (e) {
    choice.value = 'cpu';
    $('backend').textContent = setBackend('cpu');
  }
}

main().catch((e) => {
  const box = $('load-error');
  box.hidden = false;
  box.textContent = `Descent could not start: ${e.message}`;
  console.error(e);
});
