// The hyperparameter-search pieces of the JS API in Node: GaussianProcess against
// scikit-learn's posterior (tests/fixtures/tune_gp.json, made by tools/tune_fixtures.py),
// expectedImprovement, and the errors for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const DIST = resolve(process.env.DESCENT_DIST ?? 'dist');
const descent = await import(join(DIST, 'pkg/descent.js'));
descent.initSync({ module: readFileSync(join(DIST, 'pkg/descent_bg.wasm')) });
const fixture = JSON.parse(readFileSync(resolve('tests/fixtures/tune_gp.json'), 'utf8'));

const close = (a, b, tol, what) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test('GaussianProcess with given hyperparameters is scikit-learn\'s posterior', () => {
  for (const c of fixture.gp) {
    const gp = new descent.GaussianProcess({ kernel: c.kernel, variance: c.variance, lengthScales: c.length_scales, noise: c.noise, normalizeY: c.normalize_y });
    gp.fit(Float64Array.from(c.x), c.dims, Float64Array.from(c.y), { optimize: false });
    const { mean, std } = gp.predict(Float64Array.from(c.x_star));
    assert.ok(mean instanceof Float64Array && std instanceof Float64Array);
    close(mean, c.mean, 1e-7, `${c.reason}: mean`);
    close(std, c.std, 1e-6, `${c.reason}: std`);
    close([gp.logMarginalLikelihood()], [c.lml], 1e-7, `${c.reason}: log marginal likelihood`);
    gp.free();
  }
});

test('fitting raises the log marginal likelihood; expectedImprovement; bad input is an Error', () => {
  const c = fixture.gp[0];
  const gp = new descent.GaussianProcess({ kernel: 'matern52' });
  gp.fit(Float64Array.from(c.x), c.dims, Float64Array.from(c.y), { optimize: false });
  const before = gp.logMarginalLikelihood();
  gp.fit(Float64Array.from(c.x), c.dims, Float64Array.from(c.y), { seed: 3 });
  assert.ok(gp.logMarginalLikelihood() >= before, 'the fit is no worse than its start');
  const p = gp.params();
  assert.equal(p.lengthScales.length, 1);
  assert.ok(p.variance > 0 && p.noise >= 0);
  // EI: σ = 0 gives max(best − μ − ξ, 0); a wide σ gives more than nothing
  const ei = descent.expectedImprovement(Float64Array.of(0.5, 0.2, 0.5), Float64Array.of(0, 0, 1), 0.4, 0);
  assert.ok(ei instanceof Float64Array);
  assert.equal(ei[0], 0);
  assert.ok(Math.abs(ei[1] - 0.2) < 1e-15);
  assert.ok(ei[2] > 0.3);
  for (const a of fixture.acquisition) {
    const got = descent.expectedImprovement(Float64Array.of(a.mean), Float64Array.of(a.std), a.best, a.xi)[0];
    assert.ok(Math.abs(got - a.ei_exact) <= 1e-12 * Math.max(1, a.ei_exact), `${a.reason}: ${got} vs ${a.ei_exact}`);
  }
  const bad = [
    [() => new descent.GaussianProcess({ kernel: 'cubic' }), /cubic/],
    [() => new descent.GaussianProcess({ kernel: 'rbf', lenghtScales: [1] }), /unknown field `lenghtScales`/],
    [() => new descent.GaussianProcess({ variance: -1 }), /variance/i],
    [() => gp.fit(Float64Array.of(1, 2, 3), 2, Float64Array.of(1), {}), /./],
    [() => gp.fit(Float64Array.of(1), 0, Float64Array.of(1), {}), /dims/],
    [() => gp.fit(Float64Array.of(NaN), 1, Float64Array.of(1), {}), /./],
    [() => descent.expectedImprovement(Float64Array.of(1, 2), Float64Array.of(1), 0), /2 means but 1 stds/],
    [() => descent.expectedImprovement(Float64Array.of(1), Float64Array.of(1), NaN), /best/],
  ];
  for (const [call, want] of bad) assert.throws(call, (e) => e instanceof Error && !(e instanceof WebAssembly.RuntimeError) && want.test(e.message));
  gp.free();
});
