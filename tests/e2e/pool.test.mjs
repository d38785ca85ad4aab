// The worker pool (www/pool.js): jobs in Web Workers give, bit for bit, the history the page
// computes for the same spec; a bad job fails alone; Stop leaves nothing running; with
// workers set to 0 the same jobs give the same results on the page thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, openPage } from './helpers.mjs';

let server;
let browser;
before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Records with absent and null fields alike (the two exports write them differently). */
const norm = (o) => JSON.parse(JSON.stringify(o, (_, v) => v ?? undefined));

/** Four small, different runs (one with a fold of indices), each seconds of work. */
const SPECS = [
  { spec: { hidden: [16], seed: 3, optimizer: 'sgd', options: { lr: 0.1 }, batchSize: 64, epochs: 2, trainSubset: 600 } },
  { spec: { hidden: [12, 8], seed: 4, optimizer: 'adam', options: { lr: 0.003 }, batchSize: 32, epochs: 2, trainSubset: 500, checksPerEpoch: 2 } },
  { spec: { hidden: [10], seed: 5, optimizer: 'rmsprop', options: { lr: 0.002 }, batchSize: 50, epochs: 3, trainSubset: 400 } },
  { spec: { hidden: [20], seed: 6, optimizer: 'sgd', options: { lr: 0.05, momentum: 0.9 }, batchSize: 64, epochs: 2 }, train: { indices: Array.from({ length: 700 }, (_, i) => 3 * i) } },
];

/** Each job through the pool: status and history as plain numbers. */
async function viaPool(page, jobs) {
  return page.evaluate(async (jobs) => {
    const pool = window.descentPool;
    const results = await Promise.all(jobs.map((j) => pool.submit(j, { group: 'test' })));
    return results.map((r) => ({ status: r.status, message: r.message, stepLoss: r.history.step_loss, epochs: r.history.epochs, checks: r.history.checks }));
  }, jobs);
}

/** The same runs as TrainSessions on the page's thread (CPU), for comparison. */
async function viaSessions(page, jobs) {
  return page.evaluate(async (jobs) => {
    const d = await import('./pkg/descent.js');
    const { images, labels } = window.descentPool.setup;
    const data = new d.MnistData(images, labels, window.descentPool.setup.seed);
    const out = [];
    for (const j of jobs) {
      let s;
      if (j.train?.indices) {
        // a fold: the same picks as a JobGroup, checked against a one-job group
        const g = new d.JobGroup(data, [j]);
        while (g.runFor(50));
        const r = g.result(0);
        g.free();
        out.push({ stepLoss: r.history.step_loss, epochs: r.history.epochs, checks: r.history.checks });
        continue;
      }
      s = new d.TrainSession(data, j.spec);
      while (s.runFor(50) === 'running');
      out.push(JSON.parse(JSON.stringify({ stepLoss: Array.from(s.stepLoss()), epochs: s.epochs(), checks: s.checks() })));
      s.free();
    }
    data.free();
    return out;
  }, jobs);
}

test('pool: 2 workers run 4 jobs bit for bit as the page does; a bad job fails alone', async () => {
  const { page, errors, context } = await openPage(browser, `${server.url}?workers=2`);
  assert.equal(await page.inputValue('#workers'), '2');
  const bad = { spec: { hidden: [16], optimizer: 'adamax', epochs: 1 } };
  const got = await viaPool(page, [SPECS[0], bad, ...SPECS.slice(1)]);
  assert.equal(got[1].status, 'error');
  assert.match(got[1].message, /adamax/, 'the bad job says what is wrong');
  const pooled = [got[0], ...got.slice(2)];
  assert.deepEqual(pooled.map((r) => r.status), ['finished', 'finished', 'finished', 'finished']);
  const page1 = await viaSessions(page, SPECS);
  for (let i = 0; i < SPECS.length; i++) {
    assert.ok(pooled[i].stepLoss.length > 10, `job ${i} trained`);
    assert.deepEqual(pooled[i].stepLoss, page1[i].stepLoss, `job ${i}: every step's loss equal bit for bit`);
    assert.deepEqual(norm(pooled[i].epochs), norm(page1[i].epochs), `job ${i}: the same epochs`);
    assert.deepEqual(norm(pooled[i].checks), norm(page1[i].checks), `job ${i}: the same checks`);
  }
  assert.equal(pooled[1].checks.length, 4, 'two checks an epoch');
  const stats = await page.evaluate(() => ({ ...window.descentPool.status(), workers: window.descentPool.workers.length, startup: window.descentPool.startupMs }));
  assert.equal(stats.running, 0);
  assert.equal(stats.workers, 2, 'two workers started');
  assert.deepEqual(errors, []);
  await context.close();
});

test('pool: cancelling a group ends its queued and running jobs at once, and the pool goes on', async () => {
  const { page, errors, context } = await openPage(browser, `${server.url}?workers=2`);
  const out = await page.evaluate(async () => {
    const pool = window.descentPool;
    const long = { spec: { hidden: [64], epochs: 50, batchSize: 16, seed: 1 } };
    const seen = [];
    const pending = [0, 1, 2, 3].map((i) => pool.submit(long, { group: 'cell', onProgress: () => seen.push(i) }));
    // both running jobs have recorded something (one worker may start well before the other)
    while (!(seen.includes(0) && seen.includes(1))) await new Promise((r) => setTimeout(r, 20));
    const cancelled = pool.cancel('cell');
    const results = await Promise.all(pending);
    const after = pool.status();
    // the pool still works after a cancel (fresh workers)
    const next = await pool.submit({ spec: { hidden: [8], epochs: 1, trainSubset: 200 } }, { group: 'other' });
    return { cancelled, statuses: results.map((r) => r.status), steps: results.map((r) => r.steps), running: after.running, queued: after.queued, next: next.status };
  });
  assert.equal(out.cancelled, 4);
  assert.deepEqual(out.statuses.slice(0, 2), ['stopped', 'stopped'], 'the running jobs stop');
  assert.deepEqual(out.statuses.slice(2), ['cancelled', 'cancelled'], 'the queued jobs never start');
  assert.ok(out.steps[0] > 0, 'a stopped job keeps what it had recorded');
  assert.equal(out.running, 0, 'nothing left running');
  assert.equal(out.queued, 0, 'nothing left queued');
  assert.equal(out.next, 'finished');
  assert.deepEqual(errors, []);
  await context.close();
});

test('pool: with 0 workers the same jobs run on the page thread, with the same numbers, and say so', async () => {
  const { page, errors, context } = await openPage(browser, `${server.url}?workers=0`);
  assert.match(await page.textContent('#pool-notice'), /page thread/);
  assert.equal(await page.isVisible('#pool-notice'), true);
  const got = await viaPool(page, SPECS.slice(0, 2));
  const ref = await viaSessions(page, SPECS.slice(0, 2));
  for (let i = 0; i < 2; i++) {
    assert.equal(got[i].status, 'finished');
    assert.deepEqual(got[i].stepLoss, ref[i].stepLoss, `job ${i} on the page thread`);
    assert.deepEqual(norm(got[i].epochs), norm(ref[i].epochs));
  }
  // runMany, the console API, on the same pool
  const many = await page.evaluate(async () => {
    const { runMany } = await import('./www/pool.js');
    const r = await runMany([{ hidden: [8], epochs: 1, trainSubset: 300, seed: 2 }, { hidden: [8], epochs: 1, trainSubset: 300, seed: 2, batchSize: 0 }]);
    return r.map((x) => [x.status, x.message]);
  });
  assert.equal(many[0][0], 'finished');
  assert.equal(many[1][0], 'error');
  assert.match(many[1][1], /batch size/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('pool: a diverging job and a crashed worker come back as messages; the other jobs go on', async () => {
  const { page, errors, context } = await openPage(browser, `${server.url}?workers=2`);
  const out = await page.evaluate(async () => {
    const pool = window.descentPool;
    const wild = pool.submit({ spec: { hidden: [16], options: { lr: 1e4 }, epochs: 2, trainSubset: 600 } });
    const victim = pool.submit({ spec: { hidden: [64], epochs: 30, batchSize: 16 } }, { group: 'victim' });
    const good = pool.submit({ spec: { hidden: [8], epochs: 1, trainSubset: 300 } });
    // the worker that runs the long job dies as an out-of-memory worker would: an error event
    while (!pool.workers.some((w) => w.job?.group === 'victim' && w.ready)) await new Promise((r) => setTimeout(r, 20));
    pool.workers.find((w) => w.job?.group === 'victim').worker.dispatchEvent(new ErrorEvent('error', { message: 'out of memory' }));
    const [a, b, c] = await Promise.all([wild, victim, good]);
    const again = await pool.submit({ spec: { hidden: [8], epochs: 1, trainSubset: 300 } });
    return { wild: [a.status, a.message], victim: [b.status, b.message], good: c.status, again: again.status };
  });
  assert.equal(out.wild[0], 'diverged');
  assert.match(out.wild[1], /at step \d+.*lower the learning rate/);
  assert.equal(out.victim[0], 'error');
  assert.match(out.victim[1], /worker running this job crashed \(out of memory\)/);
  assert.equal(out.good, 'finished');
  assert.equal(out.again, 'finished', 'a fresh worker replaces the crashed one');
  assert.deepEqual(errors, []);
  await context.close();
});
