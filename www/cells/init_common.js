// Small helpers shared by the initialization cells.

/** Milliseconds of work per animation frame: leaves room for drawing within one 50 ms task. */
export const BUDGET_MS = 12;

/**
 * A mini-batch loss curve smoothed for display: an exponential moving average over about the
 * last 1/(1 − beta) steps, divided by (1 − beta^t) so the first points are not pulled to 0.
 * Non-finite values are skipped.
 */
export function smooth(values, beta = 0.9) {
  const out = new Array(values.length);
  let s = 0;
  let weight = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      s = beta * s + (1 - beta) * v;
      weight = beta * weight + (1 - beta);
    }
    out[i] = weight > 0 ? s / weight : NaN;
  }
  return out;
}

/** Offer `text` to the student as a file download. */
export function download(name, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * Advance several training sessions for about `budget` ms, one step at a time, always the one
 * with the fewest steps, so the runs grow side by side and a frame never waits for a whole
 * round of slow steps. A step that ends an epoch (and so evaluates the validation set) always
 * opens a frame of its own, so one frame holds at most one evaluation. Sessions stop at
 * `target` steps. A session whose device is busy (a GPU readback) sits out the rest of the
 * frame. Returns whether any is still running.
 */
export function advance(sessions, budget = BUDGET_MS, target = Infinity) {
  const t0 = performance.now();
  const busy = new Set(); // on the GPU, a session waits for its readback: next frame, then
  for (let taken = 0; ; taken++) {
    let next = null;
    let running = false;
    for (const s of sessions) {
      if (s.status() !== 'running' || s.steps >= target) continue;
      running = true;
      if (!busy.has(s) && (!next || s.steps < next.steps)) next = s;
    }
    if (!next) return running;
    if (taken > 0 && (next.steps + 1) % next.stepsPerEpoch === 0) return true;
    next.runSteps(1);
    if (next.waiting) busy.add(next);
    if (performance.now() - t0 >= budget) return true;
  }
}

/**
 * The frame loop of a cell that trains several runs side by side: advance them a slice, then
 * `finish("finished")` once none is running (`finish("error")` with the message shown on a
 * failure), else `draw()` and come back next frame. `isStopped()` ends the loop early.
 */
export function trainInFrames({ sessions, isStopped, draw, finish, onError }) {
  const frame = () => {
    if (isStopped()) return;
    const t0 = performance.now();
    try {
      advance(sessions()); // interleaved, a step at a time: the runs grow side by side
    } catch (e) {
      onError(e);
      finish('error');
      return;
    }
    if (sessions().every((s) => s.status() !== 'running')) {
      finish('finished');
      return;
    }
    draw();
    window.__frameTimes?.push(performance.now() - t0); // set by the end-to-end tests
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

/** A loss for the read-out: 3 decimals, or powers of ten once it has blown up. */
export const fmtLoss = (v) => (!Number.isFinite(v) ? String(v) : Math.abs(v) < 1000 ? v.toFixed(3) : v.toExponential(1));
