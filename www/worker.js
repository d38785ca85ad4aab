// One worker of the pool (pool.js): the page's compiled wasm module and MNIST bytes arrive
// once; then each job runs here to its end, on the CPU, with the same Trainer the page uses.
//
// Messages in:  { type: 'init', module, images, labels, seed } · { type: 'seed', seed } ·
//               { type: 'run', id, job }
// Messages out: { type: 'ready', ms } · { type: 'progress', id, update } ·
//               { type: 'done', id, result, parameters } ·
//               { type: 'failed', id?, message, fatal }   (fatal: the module trapped; the pool
//                                                          replaces this worker)
import { initSync, MnistData, JobGroup } from '../pkg/descent.js';

let data = null;
let bytes = null;
/** How often a running job reports what it recorded, at most (ms). */
const REPORT_MS = 100;

const fatal = (e) => e instanceof WebAssembly.RuntimeError || /memory access out of bounds|unreachable/.test(String(e?.message));

function run(id, job) {
  const group = new JobGroup(data, [job]);
  try {
    for (;;) {
      const more = group.runFor(REPORT_MS);
      const update = group.update(0);
      if (update) postMessage({ type: 'progress', id, update });
      if (!more) break;
    }
    const parameters = group.parameters(0);
    postMessage({ type: 'done', id, result: group.result(0), parameters }, parameters ? [parameters.buffer] : []);
  } finally {
    group.free();
  }
}

function handle(m) {
  switch (m.type) {
    case 'init': {
      const t0 = performance.now();
      initSync({ module: m.module });
      bytes = { images: m.images, labels: m.labels };
      data = new MnistData(bytes.images, bytes.labels, m.seed);
      postMessage({ type: 'ready', ms: performance.now() - t0 });
      break;
    }
    case 'seed':
      data?.free();
      data = new MnistData(bytes.images, bytes.labels, m.seed);
      break;
    case 'run':
      run(m.id, m.job);
      break;
    default:
      throw new Error(`unknown message ${m.type}`);
  }
}

self.onmessage = (e) => {
  const m = e.data;
  try {
    handle(m);
  } catch (err) {
    postMessage({ type: 'failed', id: m.id, message: err?.message ?? String(err), fatal: fatal(err) || m.type === 'init' });
  }
};
