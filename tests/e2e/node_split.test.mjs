// kFold in Node: the same module the page loads, initialized synchronously.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from './helpers.mjs';

const descent = await import(join(DIST, 'pkg/descent.js'));
descent.initSync({ module: readFileSync(join(DIST, 'pkg/descent_bg.wasm')) });
const { kFold } = descent;

// MNIST-like labels: ten digits with the test set's class counts divided by five (2,000 in all, the
// largest class 227 and the smallest 178), in an order shuffled by a small LCG.
const COUNTS = [196, 227, 206, 202, 196, 178, 192, 206, 195, 202];
const LABELS = (() => {
  const l = Uint8Array.from(COUNTS.flatMap((m, c) => Array(m).fill(c)));
  let s = 12345;
  for (let i = l.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [l[i], l[j]] = [l[j], l[i]];
  }
  return l;
})();

const sizes = (folds, k) => folds.reduce((s, f) => (s[f]++, s), new Array(k).fill(0));
const perClass = (folds, labels, k) => {
  const counts = Array.from({ length: 10 }, () => new Array(k).fill(0));
  folds.forEach((f, i) => counts[labels[i]][f]++);
  return counts;
};
const spread = (xs) => Math.max(...xs) - Math.min(...xs);

test('kFold: every example in exactly one fold, the first n mod k folds one larger', () => {
  // (n, k): remainders 0, 2, 5, 4 and 9.
  for (const [n, k] of [[2000, 2], [2000, 3], [2000, 7], [1999, 5], [1999, 10], [10, 10]]) {
    for (const stratified of [false, true]) {
      const folds = kFold(LABELS.subarray(0, n), k, 7, stratified);
      assert.ok(folds instanceof Uint32Array);
      assert.equal(folds.length, n);
      assert.ok(folds.every((f) => f < k), 'folds are numbered 0…k−1');
      const want = Array.from({ length: k }, (_, f) => Math.floor(n / k) + (f < n % k ? 1 : 0));
      assert.deepEqual(sizes(folds, k), want, `n ${n}, k ${k}, stratified ${stratified}`);
    }
  }
});

test('kFold: stratified folds balance every class, plain ones do not', () => {
  for (const k of [3, 5, 10]) {
    const strat = perClass(kFold(LABELS, k, 1, true), LABELS, k);
    strat.forEach((counts, c) => assert.ok(spread(counts) <= 1, `k ${k}: class ${c} spread ${counts}`));
    const plain = perClass(kFold(LABELS, k, 1), LABELS, k);
    assert.ok(plain.some((counts) => spread(counts) > 1), `k ${k}: plain folds happen to balance every class`);
  }
});

test('kFold: reproducible from the seed; Uint8Array and Uint32Array labels agree', () => {
  for (const stratified of [false, true]) {
    const a = kFold(LABELS, 5, 42, stratified);
    assert.deepEqual(kFold(LABELS, 5, 42, stratified), a, 'same seed, same folds');
    assert.notDeepEqual(kFold(LABELS, 5, 43, stratified), a, 'another seed, other folds');
    assert.deepEqual(kFold(Uint32Array.from(LABELS), 5, 42, stratified), a);
  }
  // Plain folds read only the number of examples, so any Uint32Array labels will do.
  assert.deepEqual(kFold(Uint32Array.from([1000, 70000, 3, 4]), 2, 0), kFold(new Uint8Array(4), 2, 0));
});

test('kFold: bad arguments throw clear errors', () => {
  const labels = LABELS.subarray(0, 10);
  assert.throws(() => kFold(labels, 1, 0), /needs k ≥ 2 folds \(got k = 1\)/);
  assert.throws(() => kFold(labels, -2, 0), /needs k ≥ 2 folds \(got k = -2\)/);
  assert.throws(() => kFold(labels, 11, 0), /cannot make k = 11 folds from n = 10 examples/);
  assert.throws(() => kFold(labels, 2.5, 0), /whole number of folds \(got k = 2\.5\)/);
  assert.throws(() => kFold(labels, NaN, 0), /whole number of folds \(got k = NaN\)/);
  assert.throws(() => kFold(labels, 2, -1), /invalid seed/);
  assert.throws(() => kFold([0, 1, 2, 3], 2, 0), /labels must be a Uint8Array or a Uint32Array \(got Array\)/);
  assert.throws(() => kFold(new Float32Array(4), 2, 0), /\(got Float32Array\)/);
  assert.throws(() => kFold(undefined, 2, 0), /\(got undefined\)/);
  assert.throws(() => kFold(null, 2, 0), /\(got null\)/);
  assert.throws(() => kFold(Uint32Array.from([0, 1, 256, 2]), 2, 0, true), /label 256 at example 2/);
});
