// Cell "Why not start equal?" (lab::equal_start): the same small network started with every
// weight equal and started at random, trained side by side from one seed; the hidden units
// drawn as pictures.
import { EqualStart } from '../../pkg/descent.js';
import { defineCell } from '../cell.js';
import { fmtLoss } from './init_schemes.js';

/** The unit charts, in the order they take turns being redrawn while training. */
const UNITS = ['equal', 'random'];
/** While training, one unit picture is redrawn this often (see `throttled`). */
const UNITS_EVERY_MS = 150;
/** Training in a frame that redraws a picture: the picture (784 rectangles a unit) takes the rest. */
const PICTURE_FRAME_MS = 1;

/**
 * `exp` with its unit pictures redrawn one at a time, in turn, every UNITS_EVERY_MS while it
 * runs: a picture costs about as much as a frame's training, and defineCell redraws every
 * chart every frame. A frame that redraws one trains only PICTURE_FRAME_MS, so each frame's
 * own work stays about the same. A picture whose canvas was resized (which blanks it) is
 * drawn at once; once the run ends, every chart is drawn again.
 */
function throttled(exp) {
  let running = true;
  let last = -Infinity;
  let turn = 0;
  let due = false; // this frame redraws UNITS[turn]
  const sizes = new Map(); // chart → its canvas size at the last call
  return {
    runFor(ms) {
      due = performance.now() - last >= UNITS_EVERY_MS;
      running = exp.runFor(due ? PICTURE_FRAME_MS : ms);
      return running;
    },
    report: () => exp.report(),
    chart: (name) => exp.chart(name),
    stop: () => {
      running = false;
      exp.stop();
    },
    free: () => exp.free(),
    draw(name, canvas, dpr) {
      const size = `${canvas.width}x${canvas.height}`;
      const resized = sizes.has(name) && sizes.get(name) !== size;
      sizes.set(name, size);
      if (running && UNITS.includes(name) && !resized) {
        if (!due || name !== UNITS[turn]) return;
        due = false;
        last = performance.now();
        turn = (turn + 1) % UNITS.length;
      }
      exp.draw(name, canvas, dpr);
    },
  };
}

export function setup(ctx) {
  const spec = (v, c) => ({ hidden: v.hidden, value: v.value, activation: v.act, steps: v.steps, lr: v.lr, seed: c.seed() });
  /** Before a run: the untrained units of both starts, from an experiment built for the picture. */
  const untrained = (name) => (v, c) => {
    let exp;
    try {
      exp = new EqualStart(c.data, spec(v, c));
      return exp.chart(name);
    } catch {
      return { kind: 'unitWeights', title: `${name} start`, weights: [], units: 0, rows: 28, cols: 28, columns: 1 };
    } finally {
      exp?.free();
    }
  };
  const ctl = (name, extra = {}) => ({ el: `equal-${name}`, key: `equal.${name}`, ...extra });
  return defineCell('init-equal', {
    controls: {
      hidden: ctl('hidden', { label: 'hidden units' }),
      value: ctl('value', { label: 'equal value c', min: -10, max: 10 }),
      act: ctl('act'),
      steps: ctl('steps', { label: 'steps' }),
      lr: ctl('lr', { label: 'learning rate', max: 100 }),
    },
    run: 'equal-run',
    stop: 'equal-stop',
    status: 'equal-status',
    error: 'equal-error',
    // both runs share the seed, so the batch order; only the init differs
    build: (v, c) => throttled(new EqualStart(c.data, spec(v, c))),
    charts: {
      equal: { canvas: 'equal-units-const', empty: untrained('equal') },
      random: { canvas: 'equal-units-random', empty: untrained('random') },
      loss: {
        canvas: 'equal-loss',
        empty: (v) => ({ title: 'training loss (smoothed)', xLabel: 'step', yLabel: 'cross-entropy', xMax: v.steps ?? 1, yRange: [0, 2.6], series: [] }),
      },
    },
    readout(r) {
      const lines = r.runs.map((run) => {
        const same = run.spread === 0 ? ` (all ${r.hidden} units identical)` : '';
        let text = `<b>${run.key} start</b>: step ${run.steps}/${r.target} · ` +
          `max difference between hidden units: <b class="spread">${run.spread === 0 ? '0' : run.spread.toPrecision(3)}</b>${same}`;
        if (run.loss != null) text += ` · loss ${fmtLoss(run.loss)}`;
        if (run.status === 'diverged') text += ` — <span class="bad">${run.message}</span>`;
        return text;
      });
      return { html: lines.join('<br>'), data: { spreadEqual: String(r.runs[0].spread), spreadRandom: String(r.runs[1].spread) } };
    },
  }, ctx);
}
