// Descent's page: load the wasm core and MNIST, then set up every cell.
import init, { MnistData, backendName, initWebGpu, onWebGpuLost, randomSeed, setBackend, version } from '../pkg/descent.js';
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

const $ = (id) => document.getElementById(id);

async function fetchBytes(path) {
  const url = new URL(path, import.meta.url);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url.pathname} (HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Load the relaxed-SIMD build where the browser has it (fused multiply-adds), else simd128. */
async function loadCore() {
  if (hasRelaxedSimd()) {
    try {
      await init({ module_or_path: new URL('../pkg/descent_relaxed_bg.wasm', import.meta.url) });
      return;
    } catch (e) {
      console.warn(`relaxed-SIMD build not loaded (${e.message}); using the simd128 build`);
    }
  }
  await init({ module_or_path: new URL('../pkg/descent_bg.wasm', import.meta.url) });
}

async function main() {
  await loadCore();
  await setupBackend();
  $('version').textContent = `v${version()}`;
  const seedInput = $('global-seed');
  state.bind(seedInput, 'seed');
  const seed = () => {
    const v = Number(seedInput.value);
    if (!Number.isInteger(v) || v < 0 || v > 2 ** 53) throw new Error(`seed "${seedInput.value}" must be a whole number from 0 to 2^53`);
    return v;
  };
  const [images, labels] = await Promise.all([
    fetchBytes('../data/mnist-images-idx3-ubyte.gz'),
    fetchBytes('../data/mnist-labels-idx1-ubyte.gz'),
  ]);
  const ctx = { data: null, seed };
  const loadData = () => {
    ctx.data = new MnistData(images, labels, seed());
    $('data-info').textContent =
      `MNIST: ${ctx.data.trainSize.toLocaleString()} train · ${ctx.data.validationSize.toLocaleString()} validation · ${ctx.data.testSize.toLocaleString()} test`;
  };
  loadData();
  const cells = [batchCell.setup(ctx), sgdCell.setup(ctx), initEqualCell.setup(ctx), initSchemesCell.setup(ctx), initCustomCell.setup(ctx), pretrainingCell.setup(ctx), momentumCell.setup(ctx), rpropCell.setup(ctx), adaptiveCell.setup(ctx), raceCell.setup(ctx), earlyStopCell.setup(ctx)];
  const renderAll = () => cells.forEach((c) => c.render());
  renderAll();
  const reseed = () => {
    try {
      loadData();
      $('load-error').hidden = true;
      renderAll();
    } catch (e) {
      $('load-error').hidden = false;
      $('load-error').textContent = e.message;
    }
  };
  seedInput.addEventListener('change', reseed);
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
}

// WebGPU when the browser gives an adapter, else the CPU; the header's switch picks where
// new training runs compute (kept in the URL as ?backend=cpu).
async function setupBackend() {
  const choice = $('backend-choice');
  let adapter = null;
  try {
    adapter = await initWebGpu();
  } catch (e) {
    console.warn(`WebGPU is present but failed to start: ${e.message}`);
  }
  if (adapter) {
    choice.hidden = false;
    state.bind(choice, 'backend');
    const apply = () => {
      try {
        $('backend').textContent = setBackend(choice.value);
      } catch (e) {
        choice.value = 'cpu';
        $('backend').textContent = setBackend('cpu');
      }
    };
    choice.addEventListener('change', apply);
    apply();
    $('backend').title = adapter;
    onWebGpuLost((why) => {
      choice.value = 'cpu';
      choice.hidden = true;
      $('backend').textContent = backendName();
      const notice = $('backend-notice');
      notice.textContent = `The GPU stopped working (${why.replace(/\.+$/, "")}). Running experiments carry on on the CPU from their last parameters; new ones start on the CPU.`;
      notice.hidden = false;
    });
  } else {
    $('backend').textContent = backendName();
  }
}

main().catch((e) => {
  const box = $('load-error');
  box.hidden = false;
  box.textContent = `Descent could not start: ${e.message}`;
  console.error(e);
});
