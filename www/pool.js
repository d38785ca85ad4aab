// The worker pool: independent training runs (jobs, `lab::job`) on every core.
//
//   const results = await runMany([{ hidden: [64], epochs: 2, seed: 1 }, …], { workers: 3, onProgress });
//
// A job is `{ spec, train?, validation?, labelMap?, test?, keepParameters? }` (spec: a RunSpec,
// camelCase as TrainSession takes it; train / validation: `{ from?, indices? }`). Each worker
// gets the page's compiled wasm module (so the same relaxed / simd128 build) and the gzipped
// MNIST bytes once, parses them with the page's seed, and runs one job at a time to its end on
// the CPU, posting what it recorded every ~100 ms. A job gives the numbers, bit for bit, that
// a TrainSession of the same spec gives in the page on the CPU.
//
// - `submit` never rejects: a bad spec, a divergence, a worker that crashed or ran out of
//   memory all come back as a result with `status` "error" / "diverged" and a message; the
//   other jobs go on. A crashed worker is replaced.
// - `cancel(group)` ends every queued and running job of a group at once: queued ones come
//   back "cancelled", running ones "stopped" with what they had recorded (their worker is
//   terminated, since a job runs without yielding, and a fresh one starts when needed).
// - Without module workers (an old browser, a page opened from file://, `size` 0, or workers
//   that fail to start) the same jobs run on the page thread, a slice of every animation frame,
//   through the lab's scheduler (`JobGroup`): slower, the same numbers.
import { JobGroup } from '../pkg/descent.js';

/** Why module workers cannot run here, or null when they can. */
export function workersUnavailable() {
  if (typeof Worker === 'undefined') return 'this browser has no Web Workers';
  if (location.protocol === 'file:') return 'the page was opened from a file (file://), where workers cannot load modules';
  let asked = false;
  try {
    // a browser that knows module workers reads `type`; the URL is never fetched
    new Worker('blob://', { get type() { asked = true; return 'module'; } }).terminate();
  } catch { /* the URL is refused after the options were read */ }
  return asked ? null : 'this browser cannot run module workers';
}

/** The default pool size: one core left to the page, at least 1, at most 8. */
export function defaultSize() {
  const cores = navigator.hardwareConcurrency || 2;
  return Math.max(1, Math.min(8, cores - 1));
}

export const MAX_WORKERS = 8;

const emptyHistory = () => ({ step_loss: [], epochs: [], checks: [], marks: [] });

/** A job's record so far, rebuilt from its updates. */
function absorb(entry, u) {
  entry.history.step_loss.push(...u.stepLoss);
  entry.history.epochs.push(...u.epochs);
  entry.history.checks.push(...u.checks);
  entry.steps = u.steps;
  entry.totalSteps = u.totalSteps;
}

/** The result of a job that never ran, or was cut off. */
const ended = (entry, status, message) => ({
  status, message, history: entry.history, steps: entry.steps ?? 0, totalSteps: entry.totalSteps ?? 0,
  stoppedAt: null, bestCheck: null, test: null, computeMs: 0, trainSize: 0, validationSize: 0,
});

/** Typed arrays of indices become plain arrays (what the wasm side reads). */
function plainJob(job) {
  const out = { ...job };
  for (const k of ['train', 'validation']) {
    if (job[k]?.indices && !Array.isArray(job[k].indices)) out[k] = { ...job[k], indices: Array.from(job[k].indices) };
  }
  return out;
}

export class Pool {
  /**
   * `module`: the page's compiled WebAssembly.Module; `images`, `labels`: MNIST's IDX bytes
   * (gzipped); `seed`: the page's split seed; `size`: workers (0 = the page thread);
   * `onChange`: called with `status()` when jobs start or end or the mode changes.
   */
  constructor({ module, images, labels, seed, size = defaultSize(), data = null, onChange = null }) {
    this.setup = { module, images, labels, seed };
    this.data = data; // the page's MnistData, for the page-thread fallback
    this.onChange = onChange;
    this.workers = [];
    this.queue = [];
    this.nextId = 1;
    this.startupMs = [];
    this.fallback = workersUnavailable();
    this.page = new PageThread(this);
    this.resize(size);
  }

  /** Workers used (0 when jobs run on the page thread). */
  get size() {
    return this.fallback ? 0 : this.target;
  }

  /** Why jobs run on the page thread, or null when they run in workers. */
  get note() {
    if (!this.fallback) return null;
    const slower = 'jobs run one frame slice at a time on the page thread, with the same numbers, more slowly';
    if (this.fallback === 'the pool is set to 0 workers') return `The pool is set to 0 workers: ${slower}.`;
    return `Parallel runs need module workers, which are not available here (${this.fallback}): ${slower}.`;
  }

  /** Use `n` workers (0: the page thread). Busy workers over the size finish their job first. */
  resize(n) {
    if (!Number.isInteger(n) || n < 0 || n > MAX_WORKERS) throw new Error(`workers: ${n} is not a whole number from 0 to ${MAX_WORKERS}`);
    this.target = n;
    if (n === 0) this.fallback = this.fallback ?? 'the pool is set to 0 workers';
    else if (this.fallback === 'the pool is set to 0 workers') this.fallback = null;
    let extra = this.workers.length - n;
    for (const w of this.workers.filter((w) => !w.job)) if (extra-- > 0) this.retire(w);
    this.pump();
  }

  /** The page's seed changed: workers re-split MNIST (jobs already running keep their data). */
  setSeed(seed, data = this.data) {
    this.setup.seed = seed;
    this.data = data;
    for (const w of this.workers) w.worker.postMessage({ type: 'seed', seed });
  }

  /**
   * The page's core was re-instantiated after a trap (main.js): `data` is the new instance's
   * MnistData, and the page thread's job groups, which belong to the old one, are dropped. The
   * workers have instances of their own and go on.
   */
  coreRestarted(data) {
    this.data = data;
    this.page.abandon();
    this.changed();
  }

  /** Run one job; resolves with its result (never rejects). */
  submit(job, { group = 'default', onProgress = null } = {}) {
    return new Promise((resolve) => {
      const entry = { id: this.nextId++, job: plainJob(job), group, onProgress, resolve, history: emptyHistory(), steps: 0, totalSteps: 0 };
      this.queue.push(entry);
      this.pump();
    });
  }

  /** End every queued and running job of `group`; returns how many were ended. */
  cancel(group) {
    let n = 0;
    for (const e of this.queue.filter((e) => e.group === group)) {
      e.resolve(ended(e, 'cancelled', 'cancelled before it started'));
      n++;
    }
    this.queue = this.queue.filter((e) => e.group !== group);
    for (const w of this.workers.filter((w) => w.job?.group === group)) {
      const e = w.job;
      w.job = null;
      e.resolve(ended(e, 'stopped', 'stopped'));
      this.retire(w);
      n++;
    }
    n += this.page.cancel(group);
    this.pump();
    return n;
  }

  /** `{ size, running, queued, note }`. */
  status() {
    const running = this.workers.filter((w) => w.job).length + this.page.running;
    return { size: this.size, running, queued: this.queue.length, note: this.note };
  }

  /** Stop everything and let the workers go. */
  close() {
    for (const g of new Set([...this.queue, ...this.workers.map((w) => w.job).filter(Boolean)].map((e) => e.group))) this.cancel(g);
    for (const w of [...this.workers]) this.retire(w);
  }

  changed() {
    try {
      this.onChange?.(this.status());
    } catch (e) {
      console.warn(`pool: onChange failed (${e.message})`);
    }
  }

  /** Hand queued jobs to idle workers, starting workers up to the size. */
  pump() {
    if (this.fallback) {
      this.page.take(this.queue.splice(0));
      this.changed();
      return;
    }
    while (this.queue.length > 0) {
      let w = this.workers.find((w) => !w.job && !w.retiring);
      if (!w && this.workers.length < this.target) w = this.spawn();
      if (!w) break;
      const e = this.queue.shift();
      w.job = e;
      e.startedAt = performance.now();
      w.worker.postMessage({ type: 'run', id: e.id, job: e.job });
    }
    this.changed();
  }

  spawn() {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    const w = { worker, job: null, ready: false, spawned: performance.now() };
    worker.onmessage = (ev) => this.message(w, ev.data);
    worker.onerror = (ev) => {
      ev.preventDefault();
      this.crashed(w, ev.message || 'the worker could not start');
    };
    worker.onmessageerror = () => this.crashed(w, 'a message could not be read');
    const { module, images, labels, seed } = this.setup;
    worker.postMessage({ type: 'init', module, images, labels, seed });
    this.workers.push(w);
    return w;
  }

  retire(w) {
    w.retiring = true;
    w.worker.terminate();
    this.workers = this.workers.filter((x) => x !== w);
  }

  message(w, m) {
    if (m.type === 'ready') {
      w.ready = true;
      this.startupMs.push(performance.now() - w.spawned);
      return;
    }
    const e = w.job;
    if (!e || (m.id !== undefined && m.id !== e.id)) {
      if (m.type === 'failed' && m.fatal) this.crashed(w, m.message);
      return; // a job cancelled meanwhile
    }
    if (m.type === 'progress') {
      absorb(e, m.update);
      try {
        e.onProgress?.(m.update, e);
      } catch (err) {
        console.warn(`pool: onProgress failed (${err.message})`);
      }
    } else if (m.type === 'done') {
      w.job = null;
      e.resolve({ ...m.result, parameters: m.parameters ?? undefined, wallMs: performance.now() - e.startedAt });
      if (this.workers.filter((x) => !x.retiring).length > this.target) this.retire(w);
      this.pump();
    } else if (m.type === 'failed') {
      if (m.fatal) this.crashed(w, m.message);
      else {
        w.job = null;
        e.resolve(ended(e, 'error', m.message));
        this.pump();
      }
    }
  }

  /** A worker died (a trap, out of memory, a failed start): its job fails, a new one is made. */
  crashed(w, why) {
    const e = w.job;
    w.job = null;
    this.retire(w);
    if (e) e.resolve(ended(e, 'error', `the worker running this job crashed (${why}); the other jobs go on`));
    if (!w.ready) {
      // a worker that never started: after two, the page thread takes over
      this.failedStarts = (this.failedStarts ?? 0) + 1;
      if (this.failedStarts >= 2 && !this.workers.some((x) => x.ready)) this.fallback = `workers failed to start (${why})`;
    }
    this.pump();
  }
}

/** The fallback: jobs on the page thread, a slice of each animation frame. */
class PageThread {
  constructor(pool) {
    this.pool = pool;
    this.batches = []; // { group: JobGroup, entries }
    this.running = 0;
  }

  take(entries) {
    if (entries.length === 0) return;
    if (!this.pool.data) {
      for (const e of entries) e.resolve(ended(e, 'error', 'the page has no MNIST data loaded'));
      return;
    }
    const group = new JobGroup(this.pool.data, entries.map((e) => e.job));
    for (const e of entries) e.startedAt = performance.now();
    this.batches.push({ group, entries: entries.map((e, i) => ({ e, i, done: false })) });
    this.running += entries.length;
    if (!this.looping) {
      this.looping = true;
      requestAnimationFrame(() => this.frame());
    }
  }

  frame() {
    const budget = 12 / Math.max(1, this.batches.length);
    for (const b of this.batches) {
      let more;
      try {
        more = b.group.runFor(budget);
      } catch (err) {
        // a trap is handed on (`trap`), so that the cell that owns the job restarts the core
        const trap = err instanceof WebAssembly.RuntimeError ? err : undefined;
        for (const s of b.entries) this.finish(b, s, { ...ended(s.e, 'error', err.message), trap });
        if (trap) return; // the core is restarting: no more calls this frame
        continue;
      }
      for (const s of b.entries) {
        if (s.done) continue;
        const u = b.group.update(s.i);
        if (u) {
          absorb(s.e, u);
          try {
            s.e.onProgress?.(u, s.e);
          } catch (err) {
            console.warn(`pool: onProgress failed (${err.message})`);
          }
        }
        const r = b.group.result(s.i);
        if (r.status !== 'running' || !more) this.finish(b, s, { ...r, parameters: b.group.parameters(s.i) ?? undefined, wallMs: performance.now() - s.e.startedAt });
      }
    }
    this.sweep();
    if (this.batches.length > 0) requestAnimationFrame(() => this.frame());
    else this.looping = false;
  }

  finish(b, s, result) {
    if (s.done) return;
    s.done = true;
    this.running--;
    s.e.resolve(result);
    this.pool.changed();
  }

  sweep() {
    for (const b of this.batches.filter((b) => b.entries.every((s) => s.done))) b.group.free();
    this.batches = this.batches.filter((b) => !b.entries.every((s) => s.done));
  }

  /** After a trap: the groups are stale (never freed: free() would free into the new instance); their jobs end as errors. */
  abandon() {
    const batches = this.batches;
    this.batches = [];
    this.looping = false; // a frame that met the trap scheduled no next one
    for (const b of batches) {
      for (const s of b.entries) this.finish(b, s, ended(s.e, 'error', 'the core was restarted after an error'));
    }
  }

  cancel(groupName) {
    let n = 0;
    for (const b of this.batches) {
      for (const s of b.entries.filter((s) => !s.done && s.e.group === groupName)) {
        b.group.stop(s.i);
        this.finish(b, s, { ...b.group.result(s.i), wallMs: performance.now() - s.e.startedAt });
        n++;
      }
    }
    this.sweep();
    return n;
  }
}

/** The page's pool, set by main.js once MNIST is loaded. */
let shared = null;
export function setPagePool(pool) {
  shared = pool;
}
export function pagePool() {
  if (!shared) throw new Error('the worker pool starts with the page: open the notebook and wait for it to load');
  return shared;
}

/**
 * Train each RunSpec (or job) on the page's MNIST split, `workers` at a time (default: the
 * page's pool); resolves with one result per spec, in order: `{ status, message, history,
 * steps, totalSteps, stoppedAt, bestCheck, test, computeMs, wallMs }`. `onProgress(i, update,
 * record)` is called as job i records.
 */
export async function runMany(specs, { workers, onProgress } = {}) {
  if (!Array.isArray(specs)) throw new Error('runMany: specs must be an array of RunSpecs');
  const page = pagePool();
  const pool = workers === undefined || workers === page.size ? page : new Pool({ ...page.setup, data: page.data, size: workers });
  const group = `runMany-${page.nextId}`;
  try {
    return await Promise.all(specs.map((s, i) => pool.submit(s && typeof s === 'object' && 'spec' in s ? s : { spec: s }, { group, onProgress: onProgress && ((u, rec) => onProgress(i, u, rec)) })));
  } finally {
    if (pool !== page) pool.close();
  }
}

/** Charts a pooled cell redraws per animation frame while its experiment works. */
const CHARTS_PER_FRAME = 3;

/**
 * A lab experiment whose runs train in `pool` (it has `jobs()`, `absorb(i, update)`,
 * `finish(i, result, parameters)`), shaped for defineCell: `runFor` does the experiment's own
 * work, if it has any, hands out the jobs that became ready and says whether any are out;
 * `stop` and `free` cancel the experiment's jobs in the pool; a chart is redrawn only when
 * something arrived since it was last drawn (or its canvas changed size), a few charts an
 * animation frame (a canvas waiting its turn has `data-stale`).
 */
export function pooled(pool, exp, group) {
  let alive = true;
  let version = 0;
  let revision = -1;
  let redrawn = 0;
  let drawnThisFrame = 0;
  const pending = new Map(); // charts left for a later frame: name → [canvas, dpr]
  let scheduled = false;
  const drawn = new Map();
  const wallStart = performance.now();
  let wallMs = null;
  let next = 0; // job numbers count on across the experiment's batches
  let out = 0;
  let stopped = false;
  let failure = null; // an error in feeding the experiment, shown by the next frame
  const hand = () => {
    if (stopped) return;
    for (const job of exp.jobs()) {
      const i = next++;
      out++;
      pool.submit(job, {
        group,
        onProgress: (u) => {
          if (!alive || failure) return;
          try {
            exp.absorb(i, u);
          } catch (e) {
            failure = e;
          }
          version++;
        },
      }).then((r) => {
        if (!alive || failure) return;
        if (r.trap) {
          failure = r.trap; // the next frame throws it, and the cell restarts the core
          return;
        }
        try {
          const { parameters, history, ...ending } = r;
          exp.finish(i, ending, parameters);
          version++;
          out--;
          hand(); // later jobs (e.g. a retrain after the folds) become ready as earlier ones end
          if (out === 0 && !exp.runFor(0)) wallMs = performance.now() - wallStart;
        } catch (e) {
          failure = e;
        }
      });
    }
  };
  hand();
  const flush = () => {
    scheduled = false;
    drawnThisFrame = 0;
    if (!alive) return;
    for (const [name, [canvas, dpr]] of [...pending]) wrapper.draw(name, canvas, dpr);
  };
  const wrapper = {
    inner: exp,
    runFor(budgetMs) {
      if (failure) {
        pool.cancel(group);
        throw failure;
      }
      // work of the experiment's own (most have none), then any jobs it has made ready;
      // redrawn when that changed something (an experiment with work of its own counts its
      // changes in revision())
      const more = exp.runFor(budgetMs);
      drawnThisFrame = 0;
      hand();
      // (at most about three times a second while it works: drawing every chart each frame
      // would cost more than the work)
      const rev = exp.revision?.();
      const now = performance.now();
      if (rev !== undefined && rev !== revision && (!more || now - redrawn > 300)) {
        revision = rev;
        redrawn = now;
        version++;
      }
      return more;
    },
    /** The experiment changed outside the pool (e.g. a live control): redraw its charts. */
    touch() {
      version++;
    },
    report: () => ({ ...exp.report(), wallMs: wallMs ?? performance.now() - wallStart, workers: pool.size, poolNote: pool.note }),
    chart: (name) => exp.chart(name),
    draw(name, canvas, dpr) {
      const key = `${version} ${canvas.width}×${canvas.height}`;
      if (drawn.get(name) === key) {
        pending.delete(name);
        return;
      }
      // a task redraws a few charts and leaves the rest to the next animation frames (drawing
      // every chart of a large cell at once would hold the page for a tenth of a second);
      // a chart waiting its turn carries data-stale
      if (drawnThisFrame >= CHARTS_PER_FRAME) {
        pending.set(name, [canvas, dpr]);
        canvas.dataset.stale = '';
        if (!scheduled) {
          scheduled = true;
          requestAnimationFrame(flush);
        }
        return;
      }
      exp.draw(name, canvas, dpr);
      drawnThisFrame++;
      drawn.set(name, key);
      pending.delete(name);
      delete canvas.dataset.stale;
    },
    history: () => exp.history(),
    ...(exp.trialsCsv ? { tableCsv: () => exp.trialsCsv() } : {}),
    stop() {
      stopped = true;
      pool.cancel(group);
      exp.stop();
      version++;
    },
    free() {
      wrapper.abandon();
      exp.free();
    },
    /** Let go without calling the experiment (after a trap it is stale): its jobs are cancelled. */
    abandon() {
      alive = false;
      stopped = true;
      pool.cancel(group);
    },
  };
  return wrapper;
}
