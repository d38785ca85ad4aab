// RunSpec's per-layer batch-norm in Node (what section 12's cell builds its runs from), and the
// cell's lab class from the console: the same module the page loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from './helpers.mjs';

const descent = await import(join(DIST, 'pkg/descent.js'));
descent.initSync({ module: readFileSync(join(DIST, 'pkg/descent_bg.wasm')) });

const data = new descent.MnistData(readFileSync(join(DIST, 'data/mnist-images-idx3-ubyte.gz')), readFileSync(join(DIST, 'data/mnist-labels-idx1-ubyte.gz')), 3);

test('RunSpec: batchNorm per hidden layer, bnMomentum in PyTorch\'s convention, bad values named', () => {
  const run = (extra) => {
    const s = new descent.TrainSession(data, { hidden: [16, 16], activation: 'sigmoid', seed: 3, options: { lr: 0.5 }, batchSize: 50, epochs: 1, trainSubset: 500, ...extra }, undefined);
    while (s.runFor(50) === 'running');
    const loss = s.checks().at(-1).valLoss;
    s.free();
    return loss;
  };
  const plain = run({});
  const both = run({ batchNorm: [true] });
  const first = run({ batchNorm: [true, false] });
  assert.ok(new Set([plain, both, first]).size === 3, `three different networks: ${plain}, ${both}, ${first}`);
  assert.notEqual(run({ batchNorm: [true], bnMomentum: 0.01 }), both, 'the momentum moves the running statistics the validation uses');
  const bad = (extra, re) => assert.throws(() => new descent.TrainSession(data, { hidden: [16, 16], ...extra }, undefined), re);
  bad({ batchNorm: [true, false, true] }, /batchNorm lists 3 values but the network has 2 hidden layers/);
  bad({ batchNorm: [true], bnMomentum: 1.5 }, /invalid momentum: 1\.5/);
  bad({ batchNorm: [true], bnNoise: 5 }, /batch-norm noise 5 is out of range/);
});

test('RunSpec: batchNorm is true (every hidden layer), false (none) or one boolean per layer', () => {
  const config = (batchNorm) => ({ hidden: [8, 8], activation: 'tanh', seed: 3, options: { lr: 0.1 }, batchSize: 50, epochs: 1, trainSubset: 200, ...(batchNorm === undefined ? {} : { batchNorm }) });
  // the validation losses of a run: the same network trains to the same numbers
  const losses = (batchNorm) => {
    const s = new descent.TrainSession(data, config(batchNorm), undefined);
    while (s.runFor(50) === 'running');
    assert.equal(s.status(), 'finished', `batchNorm: ${JSON.stringify(batchNorm)} trains`);
    const v = s.checks().map((c) => c.valLoss);
    s.free();
    assert.ok(v.length > 0 && v.every(Number.isFinite), `batchNorm: ${JSON.stringify(batchNorm)}: ${v}`);
    return v;
  };
  const every = losses(true);
  assert.deepEqual(every, losses([true, true]), 'true is batch-norm after every hidden layer');
  assert.deepEqual(every, losses([true]), '… as [true] is');
  const none = losses(false);
  assert.deepEqual(none, losses(undefined), 'false is none, the default');
  assert.deepEqual(none, losses([false, false]));
  assert.notDeepEqual(every, none, 'batch-norm changes the run');
  for (const bad of ['yes', 1, [1, 0], { all: true }, null]) {
    assert.throws(() => new descent.TrainSession(data, config(bad), undefined), (e) => e instanceof Error && /batchNorm must be true, false or a list of booleans, one per hidden layer/.test(e.message), `batchNorm: ${JSON.stringify(bad)}`);
  }
  assert.throws(() => new descent.TrainSession(data, config([true, true, true]), undefined), /batchNorm lists 3 values but the network has 2 hidden layers/);
});

test('BatchNormCell from the console: trains both networks and answers the identity exercise', () => {
  const cell = new descent.BatchNormCell(data, { seed: 3, hidden: [16, 16], layer: 2, epochs: 1, batchSize: 100 });
  while (cell.runFor(50));
  const r = cell.report();
  assert.equal(r.status, 'finished');
  assert.deepEqual(r.runs.map((x) => x.name), ['plain', 'batch-norm']);
  assert.deepEqual(r.modes.map((m) => m.batch), [2, 4, 8, 32, 128]);
  assert.ok(cell.identity('std_eps', 'mean').maxDifference < 1e-5);
  assert.ok(cell.identity('one', 'zero').maxDifference > 1e-2);
  assert.throws(() => cell.identity('sigma', 'mean'), /γ choice "sigma" is not one of/);
  assert.throws(() => new descent.BatchNormCell(data, { layer: 9 }), /layer 9 does not exist/);
  cell.free();
});
