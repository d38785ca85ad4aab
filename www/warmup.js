// The first seconds: a short CPU training run while the page is idle after load (WarmUp in
// src/web/warm_up.rs), so the kernels of a training step are optimized by V8 before the
// student's first Run instead of during it. A unit at a time in idle slices of a few
// milliseconds, so it never holds up the page; stops quietly if the core is restarted under
// it. <body data-warm> says how it went ("running", "done", "skipped"), data-warm-ms how long.
// Its fastest training steps, once optimized, are this machine's speed: the core gets it
// (setPageSpeed) to refuse a step that would hold the page too long (data-cpu-gflops).
import { WarmUp, setPageSpeed } from '../pkg/descent.js';
import { showError } from './ui.js';

const idle = (f) => (window.requestIdleCallback ? window.requestIdleCallback(f, { timeout: 500 }) : setTimeout(f, 0));

export function warmUp(data, { sliceMs = 6 } = {}) {
  const body = document.body;
  if (globalThis.DESCENT_NO_WARMUP) {
    body.dataset.warm = 'skipped'; // (the bench's "without" case)
    return;
  }
  let run;
  try {
    run = new WarmUp(data);
  } catch (e) {
    console.warn(`warm-up skipped: ${e.message}`);
    body.dataset.warm = 'skipped';
    return;
  }
  const t0 = performance.now();
  const stepMs = [];
  body.dataset.warm = 'running';
  const slice = () => {
    if (body.dataset.core) return; // a trap or a restart: the object is not ours to use any more
    const end = performance.now() + sliceMs;
    try {
      let more = true;
      while (more && performance.now() < end) {
        const [before, t] = [run.stepsTaken, performance.now()];
        more = run.steps(1);
        if (run.stepsTaken > before) stepMs.push(performance.now() - t);
      }
      if (more) {
        idle(slice);
        return;
      }
      // the fastest of the last steps (the first ones ran before V8 optimized them)
      const best = Math.min(...stepMs.slice(-10));
      const gflops = run.flopPerStep / (best / 1000) / 1e9;
      if (Number.isFinite(gflops)) {
        setPageSpeed(gflops);
        body.dataset.cpuGflops = gflops.toFixed(1);
      }
      run.free();
    } catch (e) {
      // a trap is the page's business (it restarts the core); anything else just ends it
      if (e instanceof WebAssembly.RuntimeError) showError(document.getElementById('load-error'), e);
      else console.warn(`warm-up stopped: ${e.message}`);
    }
    body.dataset.warm = 'done';
    body.dataset.warmMs = String(Math.round(performance.now() - t0));
  };
  idle(slice);
}
