// The JS API in Node: the same module the page loads, initialized synchronously.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from './helpers.mjs';

const descent = await import(join(DIST, 'pkg/descent.js'));
descent.initSync({ module: readFileSync(join(DIST, 'pkg/descent_bg.wasm')) });
const { Mlp } = descent;

test('Mlp: parameters in PyTorch order, forward gives batch × classes', () => {
  const mlp = new Mlp(Uint32Array.from([784, 32, 10]), 'relu', 1);
  const p = mlp.parameters();
  assert.equal(p.length, 784 * 32 + 32 + 32 * 10 + 10);
  // PyTorch's Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for W1 and b1.
  const bound = 1 / Math.sqrt(784);
  assert.ok(p.slice(0, 784 * 32).every((v) => Math.abs(v) <= bound));
  for (const m of [1, 3, 64]) {
    const out = mlp.forward(new Float32Array(m * 784).fill(0.5), m);
    assert.equal(out.length, m * 10);
    assert.ok(out.every(Number.isFinite));
  }
});

test('Mlp: same seed, same weights; setParameters round-trips', () => {
  const a = new Mlp(Uint32Array.from([4, 3, 2]), 'tanh', 9);
  const b = new Mlp(Uint32Array.from([4, 3, 2]), 'tanh', 9);
  assert.deepEqual(a.parameters(), b.parameters());
  const c = new Mlp(Uint32Array.from([4, 3, 2]), 'tanh', 10);
  assert.notDeepEqual(a.parameters(), c.parameters());
  const p = new Float32Array(a.parameters().length).map((_, i) => i / 100);
  a.setParameters(p);
  assert.deepEqual(a.parameters(), p);
});

test('Mlp: bad arguments throw clear errors', () => {
  assert.throws(() => new Mlp(Uint32Array.from([784, 0, 10]), 'relu', 1), /layer size 1 is 0/);
  assert.throws(() => new Mlp(Uint32Array.from([784]), 'relu', 1), /at least an input size/);
  assert.throws(() => new Mlp(Uint32Array.from([4, 2]), 'swish', 1), /unknown activation "swish"/);
  assert.throws(() => new Mlp(Uint32Array.from([4, 2]), 'relu', -1), /invalid seed/);
  const mlp = new Mlp(Uint32Array.from([4, 2]), 'relu', 1);
  assert.throws(() => mlp.setParameters(new Float32Array(3)), /has 10 parameters but 3 values were given/);
  assert.throws(() => mlp.forward(new Float32Array(7), 2), /expected 2 × 4 = 8 values, got 7/);
});
