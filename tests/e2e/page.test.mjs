// The page as a student meets it: it loads, every cell draws, and the first cells work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { serve, launch, openPage, inkedPixels, screenshot, watchResponsiveness, responsiveness } from './helpers.mjs';

let server;
let browser;
before(async () => {
  // A sub-path, as on a course's static host: every URL in the page must be relative.
  server = await serve(undefined, '/course/descent/');
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('page loads with no console errors, no 404s, and every canvas drawn', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  // Chromium 156 runs relaxed SIMD, so the page loads the relaxed build.
  assert.equal(await page.textContent('#backend'), 'CPU (relaxed SIMD)');
  const canvases = await page.$$eval('section.cell canvas', (cs) => cs.map((c) => `#${c.id}`));
  assert.ok(canvases.length >= 5, `expected the cells' canvases, found ${canvases.length}`);
  for (const sel of canvases) {
    const inked = await inkedPixels(page, sel);
    assert.ok(inked > 500, `${sel} looks blank (${inked} inked pixels)`);
    // HiDPI: the backing store is devicePixelRatio (2 here) times the CSS box.
    const [w, cssW] = await page.$eval(sel, (c) => [c.width, c.getBoundingClientRect().width]);
    assert.ok(Math.abs(w - 2 * cssW) <= 2, `${sel}: backing width ${w} for CSS width ${cssW}`);
  }
  // every section of the recitation is built: the contents link to each, none is "coming"
  assert.equal(await page.$$eval('.toc li.coming', (li) => li.length), 0, 'no section listed as coming');
  const targets = await page.$$eval('.toc a', (as) => as.map((a) => a.getAttribute('href')));
  for (const href of targets) assert.ok(await page.$(href), `the contents link ${href} has a section`);
  assert.equal(await page.$$eval('section.cell', (s) => s.filter((x) => x.querySelector('canvas') === null).length), 0,
    'no empty placeholder cells');
  await screenshot(page, 'page');
  // the warm-up run (www/warmup.js) finishes in the page's idle time, quietly
  await page.waitForSelector('body[data-warm="done"]', { timeout: 60_000 });
  assert.ok(Number(await page.getAttribute('body', 'data-warm-ms')) > 0);
  // and its optimized steps measured this machine's speed, which the page-step limit now uses
  const gflops = Number(await page.getAttribute('body', 'data-cpu-gflops'));
  assert.ok(gflops > 1 && gflops < 1000, `measured ${gflops} GFLOP/s`);
  assert.deepEqual(errors, []);
  assert.deepEqual(server.missing, []);
  await context.close();
});

test('batch cell: a new batch size changes the output shape to m × 10', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  assert.equal(await page.getAttribute('#batch-shape .shape', 'data-shape'), '16x10');
  // Seed 1, the defaults: the read-out as recorded before the cell moved onto lab::batch and
  // defineCell (commit 21480a3), with no elapsed time (the computation is instant).
  await page.waitForSelector('#batch-shape[data-state="finished"]');
  assert.equal((await page.textContent('#batch-shape')).replace(/\u00a0/g, ' '),
    'noise in: 16 × 784 → out: 16 × 10  ·  digits out: 16 × 10layer by layer: 16 × 784 → 16 × 128 → 16 × 64 → 16 × 10  ·  109,386 parameters');
  for (const c of ['#batch-noise-heat', '#batch-digit-heat', '#batch-digits']) assert.ok(await inkedPixels(page, c) > 2000, `${c} drawn`);
  await page.fill('#batch-m', '37');
  await page.click('#batch-run');
  await page.waitForSelector('#batch-shape .shape[data-shape="37x10"]');
  assert.match(await page.textContent('#batch-shape'), /37 × 784 → 37 × 128 → 37 × 64 → 37 × 10/);
  await page.fill('#batch-hidden', '32');
  await page.click('#batch-run');
  await page.waitForFunction(() => /37 × 784 → 37 × 32 → 37 × 10/.test(document.querySelector('#batch-shape').textContent));
  // A bad value gets a message, not a crash.
  await page.fill('#batch-m', '0');
  await page.click('#batch-run');
  assert.match(await page.textContent('#batch-error'), /batch size/);
  await screenshot(await page.$('#batch'), 'cell-batch');
  assert.deepEqual(errors, []);
  await context.close();
});

test('state lives in the URL: a link restores the batch size and seed; unknown keys are dropped', async () => {
  const junk = Array.from({ length: 1000 }, (_, i) => `junk${i}=${i}`).join('&');
  const { page, errors, context } = await openPage(browser, `${server.url}?seed=7&batch.m=5&${junk}`);
  assert.equal(await page.inputValue('#global-seed'), '7');
  assert.equal(await page.getAttribute('#batch-shape .shape', 'data-shape'), '5x10');
  const kept = [...new URL(page.url()).searchParams.keys()];
  assert.deepEqual(kept.sort(), ['batch.m', 'seed'], 'the thousand unknown keys are gone; the known ones stay');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a bad seed in a link falls back to the default with a note; typing a good one works', async () => {
  for (const bad of ['abc', '1e21', '9007199254740992', '<img src=x onerror=alert(1)>']) {
    const { page, errors, context } = await openPage(browser, `${server.url}?seed=${encodeURIComponent(bad)}&batch.m=3`);
    assert.equal(await page.inputValue('#global-seed'), '1', `${bad}: the default seed`);
    const note = await page.textContent('#load-error');
    assert.ok(note.includes('is not a whole number from 0 to 2^53 − 1'), `${bad}: ${note}`);
    assert.equal(await page.$$eval('#load-error img', (i) => i.length), 0, 'markup stays text');
    assert.match(await page.textContent('#data-info'), /7,000 train/, `${bad}: the notebook started`);
    assert.equal(await page.getAttribute('#batch-shape .shape', 'data-shape'), '3x10', 'the other settings of the link still apply');
    assert.ok(!new URL(page.url()).searchParams.has('seed'), 'the bad seed left the URL');
    await page.fill('#global-seed', '42');
    await page.dispatchEvent('#global-seed', 'change');
    await page.waitForFunction(() => document.getElementById('load-error').hidden);
    assert.equal(new URL(page.url()).searchParams.get('seed'), '42');
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('a tampered link: every control\'s bad value goes back to its default with a note, and the page works', async () => {
  // the keys and defaults of every control, from a clean page
  const clean = await openPage(browser, server.url);
  const keys = await clean.page.evaluate(async () => (await import(new URL('www/state.js', document.baseURI))).boundKeys());
  const controls = () => [...document.querySelectorAll('main input, main select, #workers')].filter((e) => e.id).map((e) => [e.id, e.type === 'checkbox' ? String(e.checked) : e.value]);
  const defaults = Object.fromEntries(await clean.page.evaluate(controls));
  await clean.context.close();
  assert.ok(keys.length > 150, `every cell's controls are bound: ${keys.length}`);
  for (const bad of ['<img src=x onerror="window.__pwned=1">', '-1e300', 'NaN']) {
    const query = keys.filter((k) => !['seed', 'backend'].includes(k)).map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(bad)}`).join('&');
    const { page, errors, context } = await openPage(browser, `${server.url}?${query}`);
    assert.match(await page.textContent('#data-info'), /7,000 train/, `${bad}: the notebook started`);
    const now = Object.fromEntries(await page.evaluate(controls));
    // each control holds its default, or the link's value where that is one it takes (e.g. -1e300 for an unbounded number)
    for (const [id, v] of Object.entries(now)) assert.ok(v === defaults[id] || v === bad, `${bad}: #${id} holds ${JSON.stringify(v)}`);
    const notes = await page.$$eval('.cell .link-note', (els) => els.map((e) => e.textContent));
    assert.ok(notes.length >= 18 && notes.every((t) => t.startsWith('From the link: ')), `${bad}: every cell names what it set back: ${notes.length}`);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'markup in a link never runs');
    assert.equal(await page.$$eval('main img', (i) => i.length), 0, 'markup stays text');
    const left = [...new URL(page.url()).searchParams.keys()];
    for (const k of left) assert.ok(keys.includes(k), `${bad}: only known keys remain (${k})`);
    // the page works: the batch cell runs with its default settings
    await page.click('#batch-run');
    await page.waitForFunction(() => /^\d+x10$/.test(document.querySelector('#batch-shape .shape')?.dataset.shape ?? ''));
    assert.deepEqual(errors, [], bad);
    await context.close();
  }
});

test('huge sizes in every cell, then every Run: each cell refuses with a message or runs, and no task freezes the page', async (t) => {
  // Every network three layers of 4096 (past every cap), 2048 × 2048 (5.8 M weights: past what
  // the page's own thread may build), then 1024 × 1024 (1.9 M weights; a step of 76 GFLOP where
  // a batch of all 7,000 digits would train on the page's thread), with every batch and
  // training set as large as the data.
  for (const sizes of ['4096, 4096, 4096', '2048, 2048', '1024, 1024']) {
    const { page, errors, context } = await openPage(browser, server.url);
    const set = await page.evaluate((sizes) => {
      const changed = [];
      for (const el of document.querySelectorAll('main input[id]')) {
        let v = null;
        if (/-(hidden|sizes)$/.test(el.id) && el.type === 'text') v = sizes;
        else if (/-(batch|n)$/.test(el.id) && el.type === 'number') v = el.max || '7000';
        if (v === null) continue;
        el.value = v;
        el.dispatchEvent(new Event('change'));
        changed.push(el.id);
      }
      return changed;
    }, sizes);
    assert.ok(set.length >= 20, `sizes and batches set in the cells: ${set.join(', ')}`);
    await watchResponsiveness(page);
    const runs = await page.$$eval('button.run', (b) => b.map((x) => `#${x.id}`));
    for (const sel of runs) {
      await page.click(sel);
      await page.waitForTimeout(50);
    }
    await page.waitForTimeout(2000);
    // a step the page does take may stutter a frame (the limit is 0.2 s of this machine's
    // measured speed: full-batch gradient descent must stay possible), but nothing freezes it
    const { long, frames } = await responsiveness(page);
    const load = os.loadavg()[0] / os.cpus().length;
    t.diagnostic(`[${sizes}] every Run: ${long.length} tasks over 50 ms in ${frames} frames, the longest ${Math.max(0, ...long)} ms (load ${load.toFixed(2)} per core)`);
    if (load <= 1) assert.deepEqual(long.filter((d) => d > 200), [], `[${sizes}] no task over 200 ms`);
    // every cell says something: an error message, or a status it is in
    const silent = await page.$$eval('section.cell', (cells) => cells.filter((c) => {
      const err = [...c.querySelectorAll('.error')].some((e) => !e.hidden && e.textContent.trim() !== '');
      const states = [...c.querySelectorAll('.readout[data-state]')].map((r) => r.dataset.state);
      return !err && !states.some((s) => ['running', 'finished', 'stopped', 'error', 'diverged'].includes(s));
    }).map((c) => c.id));
    assert.deepEqual(silent, [], `[${sizes}] a cell that neither refused nor ran`);
    const refused = await page.$$eval('.cell .error:not([hidden])', (e) => e.map((x) => x.textContent));
    assert.ok(refused.some((m) => /GFLOP|parameters/.test(m)), `[${sizes}] the refusals name the cost: ${refused.slice(0, 3).join(' | ')}`);
    assert.deepEqual(errors, []);
    await context.close();
  }
});

/** Stand a trap in for the SGD cell (no known input traps any more): its experiment traps on its first frame. */
const standInTrap = (page) => page.evaluate(async () => {
  const d = await import(new URL('pkg/descent.js', document.baseURI));
  window.__runFor = d.Compare.prototype.runFor;
  d.Compare.prototype.runFor = () => { throw new WebAssembly.RuntimeError('unreachable'); };
});

test('a trap in the core: the cell says so, the core restarts in place, and every cell works again', async () => {
  // cross-validation, a pooled cell, is mid-run in 2 workers when the trap comes: its page-side
  // experiment belongs to the old instance too
  // (jobs long enough to be in the workers still)
  const crossVal = 'cross-val.rule=none&cross-val.k=3&cross-val.n=6000&cross-val.holdouts=3&cross-val.hidden=128&cross-val.epochs=100';
  const { page, errors, context } = await openPage(browser, `${server.url}?workers=2&${crossVal}`);
  await page.click('#cross-val-run');
  await page.waitForFunction(() => window.descentPool.status().running === 2);
  // an object of the instance before the trap, to see that the instance is a new one after it
  await page.evaluate(() => { window.__oldData = window.descentPool.data; });
  await standInTrap(page);
  await page.fill('#sgd-epochs', '1');
  await page.click('#sgd-run');
  await page.waitForSelector('#core-error.notice:not([hidden])');
  assert.match(await page.textContent('#core-error'), /internal error in “2\. A simple optimizer: mini-batch SGD” and was restarted/);
  assert.match(await page.textContent('#sgd-error-msg'), /Descent's core stopped on an internal error here \(unreachable\)\. This is a bug in Descent, not in your settings; the core was restarted/);
  assert.equal(await page.getAttribute('#sgd-status', 'data-state'), 'error');
  assert.equal(await page.getAttribute('body', 'data-core'), null, 'the core is up again');
  // the other cells are back at idle and say why, the running one included
  for (const id of ['cross-val-status', 'batch-shape', 'early-stop-status']) {
    assert.equal(await page.getAttribute(`#${id}`, 'data-state'), 'idle', id);
    assert.match(await page.textContent(`#${id}`), /^The core was restarted after an error in “2\. A simple optimizer: mini-batch SGD”; press Run to start again\.$/, id);
  }
  assert.equal(await page.$$eval('button.run', (b) => b.filter((x) => x.disabled).length), 0, 'every Run button works');
  assert.deepEqual(await page.evaluate(() => window.descentPool.status()), { size: 2, running: 0, queued: 0, note: null },
    'the pooled run\'s jobs were cancelled with it');
  const instance = await page.evaluate(() => {
    let old;
    try {
      old = window.__oldData.trainSize;
    } catch (e) {
      old = e.message;
    }
    return { old, now: window.descentPool.data.trainSize };
  });
  assert.deepEqual(instance, { old: 'Invalid stale object from previous Wasm instance', now: 7000 }, 'a new instance, and the pool has its data');
  await screenshot(page, 'page-core-restarted');
  await screenshot(await page.$('#sgd'), 'cell-sgd-core-restarted');

  // without a reload: the batch cell computes, the pooled cell runs to its end, and the SGD
  // cell itself trains once the stand-in is gone
  await page.fill('#batch-m', '37');
  await page.click('#batch-run');
  await page.waitForSelector('#batch-shape .shape[data-shape="37x10"]');
  await page.fill('#cross-val-n', '600');
  await page.fill('#cross-val-hidden', '32');
  await page.fill('#cross-val-epochs', '2');
  await page.click('#cross-val-run');
  await page.waitForSelector('#cross-val-status[data-state="finished"]', { timeout: 120_000 });
  assert.match(await page.textContent('#cross-val-status'), /7 of 7 runs finished/);
  await page.evaluate(async () => {
    const d = await import(new URL('pkg/descent.js', document.baseURI));
    d.Compare.prototype.runFor = window.__runFor;
  });
  await page.click('#sgd-run');
  await page.waitForSelector('#sgd-status[data-state="finished"]', { timeout: 120_000 });
  assert.match(await page.textContent('#sgd-status'), /epoch 1\/1/);
  assert.equal(await page.isHidden('#sgd-error-msg'), true, 'a new run clears the error');
  await page.click('#core-error button'); // Dismiss
  assert.equal(await page.isHidden('#core-error'), true);
  assert.ok(!errors.some((e) => /RuntimeError|stale object/.test(e)), errors.join('\n'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a trap in a job on the page thread (0 workers): its cell restarts the core, and runs again', async () => {
  const small = 'cross-val.rule=none&cross-val.k=3&cross-val.n=600&cross-val.holdouts=3&cross-val.hidden=32&cross-val.epochs=2';
  const { page, errors, context } = await openPage(browser, `${server.url}?workers=0&${small}`);
  await page.evaluate(async () => {
    const d = await import(new URL('pkg/descent.js', document.baseURI));
    window.__groupRunFor = d.JobGroup.prototype.runFor;
    d.JobGroup.prototype.runFor = () => { throw new WebAssembly.RuntimeError('unreachable'); };
  });
  await page.click('#cross-val-run');
  await page.waitForSelector('#core-error.notice:not([hidden])');
  assert.match(await page.textContent('#cross-val-error-msg'), /internal error here \(unreachable\)\. This is a bug in Descent, not in your settings; the core was restarted/);
  assert.equal(await page.getAttribute('#sgd-status', 'data-state'), 'idle');
  assert.match(await page.textContent('#sgd-status'), /^The core was restarted after an error in “9a\. /);
  await page.evaluate(async () => {
    const d = await import(new URL('pkg/descent.js', document.baseURI));
    d.JobGroup.prototype.runFor = window.__groupRunFor;
  });
  await page.click('#cross-val-run');
  await page.waitForSelector('#cross-val-status[data-state="finished"]', { timeout: 120_000 });
  assert.match(await page.textContent('#cross-val-status'), /7 of 7 runs finished/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a trap while the core restarts: every cell pauses, and a reload brings the notebook back', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  // the restart rebuilds the data and reads its size: after the first trap, that traps too
  await page.evaluate(async () => {
    const d = await import(new URL('pkg/descent.js', document.baseURI));
    d.Compare.prototype.runFor = () => {
      Object.defineProperty(d.MnistData.prototype, 'trainSize', { get() { throw new WebAssembly.RuntimeError('unreachable'); } });
      throw new WebAssembly.RuntimeError('unreachable');
    };
  });
  await page.click('#sgd-run');
  await page.waitForSelector('#core-error.error:not([hidden])');
  assert.match(await page.textContent('#sgd-error-msg'), /Descent's core stopped on an internal error here \(unreachable\)\. This is a bug in Descent, not in your settings; reload the page to go on\./);
  assert.match(await page.textContent('#core-error'), /in “2\. A simple optimizer: mini-batch SGD” and could not be restarted, so every cell is paused/);
  assert.equal(await page.getAttribute('#sgd-status', 'data-state'), 'error');
  const enabled = await page.$$eval('button.run', (b) => b.filter((x) => !x.disabled).length);
  assert.equal(enabled, 0, 'no Run button is left to call the core');
  await page.$eval('#batch-run', (b) => b.click()); // a disabled button's click does nothing
  await screenshot(await page.$('#sgd'), 'cell-sgd-core-failed');
  await Promise.all([page.waitForEvent('load'), page.click('#core-error button')]);
  await page.waitForSelector('#data-info:has-text("7,000 train")');
  assert.equal(await page.isHidden('#core-error'), true, 'the reloaded page starts clean');
  assert.equal(await page.$$eval('button.run', (b) => b.filter((x) => x.disabled).length), 0);
  // the one error: the failed restart, logged
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /unreachable/);
  await context.close();
});

test('the loaded build\'s matrix product (relaxed SIMD here) matches the scalar oracle', async () => {
  const { page, errors, context } = await openPage(browser, server.url);
  const worst = await page.evaluate(async () => {
    const d = await import('./pkg/descent.js'); // the instance main.js initialized
    if (d.backendName() !== 'CPU (relaxed SIMD)') return `wrong build: ${d.backendName()}`;
    const shapes = [[1, 1, 1], [1, 300, 9], [9, 300, 1], [5, 257, 9], [65, 3, 17], [64, 784, 128], [3, 513, 70]];
    let worst = 0;
    for (const [m, k, n] of shapes) {
      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
        worst = Math.max(worst, d.gemmMaxError(m, k, n, ta, tb));
      }
    }
    return worst;
  });
  assert.ok(typeof worst === 'number' && worst < 1e-5, `largest scaled error ${worst}`);
  assert.deepEqual(errors, []);
  await context.close();
});
