// Every export of the JS API called with a catalogue of bad values, in Node: each call either
// works or throws an Error with a message — never a trap (RuntimeError), never a raw glue
// TypeError about null — and the module still answers good calls afterwards. The list of
// exports is read from the module: a new export without a row here fails the first test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from './helpers.mjs';

const descent = await import(join(DIST, 'pkg/descent.js'));
descent.initSync({ module: readFileSync(join(DIST, 'pkg/descent_bg.wasm')) });
const images = readFileSync(join(DIST, 'data/mnist-images-idx3-ubyte.gz'));
const labels = readFileSync(join(DIST, 'data/mnist-labels-idx1-ubyte.gz'));
const data = new descent.MnistData(images, labels, 1);

/** The values every argument is tried with. */
const BAD = [undefined, null, NaN, Infinity, -Infinity, -1, 0.5, 2 ** 32, 1e12, '', 'x', {}, [], true, new Float64Array(3), 10n, () => 1];
const show = (v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'function' ? 'a function' : v instanceof Float64Array ? 'Float64Array(3)' : JSON.stringify(v) ?? String(v));

const net = () => new descent.Mlp(Uint32Array.from([4, 3, 2]), 'relu', 1);
const run = { hidden: [4], seed: 1, epochs: 1, batchSize: 16, trainSubset: 64 };
// A good call per export (its arguments); { template } where only the bad values are tried (a
// spec too long to write here, its good calls are in the cell tests); null where a call needs a
// page (a canvas, WebGPU).
const ROWS = {
  Adaptive: [data, { seed: 1, hidden: [4], batchSize: 16, steps: 3, layer: 1, sgdLr: 0.1, rmspropLr: 0.01, adamLr: 0.01 }], Batch: [data, { seed: 1, hidden: [4], batchSize: 8 }], BatchNorm: [3, {}], Compare: [data, { runs: [{ label: 'a', color: 0, run }] }],
  CrossValidation: [data, { run, n: 100, k: 2, finals: false }], CustomRuns: { template: [data, {}] }, EarlyStop: [data, { run, rules: [{ criterion: 'patience' }] }],
  EqualStart: { template: [data, {}] }, GaussianProcess: [{ kernel: 'rbf' }], HyperSearch: [data, { objective: 'synthetic', run, seeds: 1, budget: 4, initial: 2 }],
  JobGroup: [data, [{ spec: run }]], Landscape: { template: [{}] }, LayerProbe: { template: [data, {}] }, Mlp: [Uint32Array.from([4, 3, 2]), 'relu', 1, null, {}],
  MnistData: [images, labels, 1], Optimizer: ['sgd', { lr: 0.1 }], OverfitCurves: { template: [data, {}] }, Pretrain: { template: [data, {}] },
  Race: [data, { seed: 1, hidden: [4], batchSize: 16, epochs: 1, runs: [{ name: 'sgd', optimizer: 'sgd', options: { lr: 0.1 }, color: 0 }] }],
  BatchNormCell: { template: [data, {}] }, Dropout: { template: [data, {}] }, LambdaSweep: { template: [data, {}] },
  Regularization: { template: [data, {}] }, RpropCompare: { template: [data, {}] }, RpropThought: [{}], SchemeRuns: { template: [data, {}] }, TrainSession: [data, run, undefined], WeightsData: null,
  backendName: [], backendUsage: [], chartCsv: [{ kind: 'lines', series: [{ y: [1, 2] }] }], drawChart: null, drawCurves: null,
  drawLayerStds: null, drawUnitWeights: null, dropout: [Float32Array.from([1, 2]), 0.5, true, 1],
  earlyStopping: [[1, 0.9, 0.95], { criterion: 'patience', patience: 1 }], expectedImprovement: [[0.5], [0.1], 0.4],
  finetuneSession: [data, run, undefined, 20], gemmMaxError: [4, 4, 4, false, false], initWebGpu: null,
  initialize: ['xavier_uniform', 4, 3, 1, {}], kFold: [Uint8Array.from([0, 1, 0, 1]), 2, 1], liveExperiments: [], loseWebGpuDevice: [],
  onWebGpuLost: [() => {}], parseWeights: { template: ['{"sizes":[2,1],"parameters":[0.5,0.5,0]}'] }, pretrainSession: [data, run, undefined],
  pretrainSizes: [data], randomSeed: [], sessionFrom: [data, run, undefined], setBackend: ['cpu'], unitSpread: [new Float32Array(10), 4, 2],
  version: [], webgpuAdapter: null, weightsJson: [[2, 1], [0.5, 0.5, 0]], WarmUp: [data], setPageSpeed: [30],
  // its own test, the last: it makes every object above stale
  __wbg_reset_state: null,
};
const isClass = (f) => /^class /.test(Function.prototype.toString.call(f));

/** A call that must work the same before and after any refused one. */
function canary() {
  const m = net();
  const out = m.forward(Float32Array.from([0.1, 0.2, 0.3, 0.4]), 1);
  const o = new descent.Optimizer('sgd', { lr: 0.5 });
  const p = Float32Array.from([1, 2]);
  o.step(p, Float32Array.from([1, 1]));
  m.free();
  o.free();
  return [...out, ...p];
}
const expected = canary();

function call(name, args) {
  const f = descent[name];
  return isClass(f) ? new f(...args) : f(...args);
}

function refusedWell(name, args, what) {
  let result;
  try {
    result = call(name, args);
  } catch (e) {
    assert.ok(e instanceof Error, `${what}: threw ${e} (not an Error)`);
    assert.ok(!(e instanceof WebAssembly.RuntimeError), `${what}: trapped: ${e.message}`);
    assert.doesNotMatch(e.message, /unreachable|memory access out of bounds|recursive use|Cannot read properties of (null|undefined)|null pointer passed/, what);
    return;
  }
  result?.free?.();
}

test('every export has a row', () => {
  const names = Object.keys(descent).filter((k) => !['default', 'initSync'].includes(k));
  const missing = names.filter((n) => !(n in ROWS));
  assert.deepEqual(missing, [], 'exports without a row in this test');
});

test('every argument of every export, with every bad value: an Error or a result, and the module stays well', () => {
  let calls = 0;
  for (const [name, good] of Object.entries(ROWS)) {
    if (good === null) continue;
    const template = good.template ?? good;
    if (!good.template) call(name, good)?.free?.(); // the good call works
    for (let i = 0; i < Math.max(template.length, 1); i++) {
      for (const bad of BAD) {
        const args = [...template];
        args[i] = bad;
        refusedWell(name, args, `${name} with argument ${i} = ${show(bad)}`);
        calls++;
      }
    }
    assert.deepEqual(canary(), expected, `good calls still work after ${name}'s bad ones`);
  }
  assert.ok(calls > 500, `${calls} calls`);
});

test('methods: bad arguments to the objects a student holds', () => {
  const m = new descent.Mlp(Uint32Array.from([4, 3, 2]), 'relu', 1, null, { batchNorm: true, dropout: 0.2 });
  const bn = new descent.BatchNorm(2, {});
  const o = new descent.Optimizer('adam', {});
  const gp = new descent.GaussianProcess({ kernel: 'matern52' });
  const s = new descent.TrainSession(data, run, undefined);
  const g = new descent.JobGroup(data, [{ spec: run }]);
  const methods = [
    [m, 'forward', [new Float32Array(4), 1, {}]], [m, 'lossAndGradients', [new Float32Array(8), Uint32Array.from([1, 0])]],
    [m, 'setParameters', [m.parameters()]], [m, 'batchNormStats', [0]], [bn, 'forward', [Float32Array.from([1, 2, 3, 4]), 2, true]],
    [o, 'step', [new Float32Array(2), new Float32Array(2)]], [gp, 'fit', [Float64Array.from([0, 1]), 1, Float64Array.from([0, 1]), {}]],
    [gp, 'predict', [Float64Array.from([0.5])]], [s, 'runSteps', [1]], [s, 'runFor', [5]], [s, 'optimizerState', ['lr']],
    [s, 'holdAfter', [3]], [g, 'update', [0]], [g, 'result', [0]], [g, 'parameters', [0]],
  ];
  for (const [obj, name, good] of methods) {
    obj[name](...good);
    for (let i = 0; i < good.length; i++) {
      for (const bad of BAD) {
        const args = [...good];
        args[i] = bad;
        try {
          obj[name](...args);
        } catch (e) {
          const what = `${name} with argument ${i} = ${show(bad)}`;
          assert.ok(e instanceof Error && !(e instanceof WebAssembly.RuntimeError), `${what}: ${e}`);
          assert.doesNotMatch(e.message, /unreachable|memory access out of bounds|recursive use|Cannot read properties of (null|undefined)|null pointer passed/, what);
        }
      }
    }
    obj[name](...good); // and it still works
  }
  // an index is a whole number, never wrapped to 2³² − 1 by the glue
  assert.throws(() => g.result(-1), /invalid job index: -1/);
  assert.throws(() => g.update(0.5), /invalid job index: 0.5/);
  assert.throws(() => s.holdAfter(-1), /invalid holdAfter's step: -1/);
  assert.throws(() => g.result(1), /job 1 does not exist: the group holds 1/);
  assert.deepEqual(canary(), expected);
});

test('50,000 refused calls, then good calls give the same numbers', () => {
  const m = net();
  for (let i = 0; i < 50_000; i++) {
    try {
      switch (i % 4) {
        case 0: m.forward(new Float32Array(3), 1); break;
        case 1: new descent.Mlp(Uint32Array.from([4, 0, 2]), 'relu', 1); break;
        case 2: new descent.Optimizer('sgd', { lr: -1 }); break;
        default: descent.initialize('nope', 2, 2, 1, {});
      }
      assert.fail(`call ${i} was not refused`);
    } catch (e) {
      assert.ok(!(e instanceof WebAssembly.RuntimeError), e.message);
    }
  }
  m.free();
  assert.deepEqual(canary(), expected);
});

test('numbers that cannot be meant: NaN or Infinity in settings, float32 overflow, NaN weights', () => {
  assert.throws(() => new descent.BatchNorm(2, { momentum: NaN }), /^Error: options\.momentum is NaN: every number in the settings must be finite$/);
  assert.throws(() => new descent.Optimizer('sgd', { lr: Infinity }), /options\.lr is Infinity/);
  assert.throws(() => new descent.Optimizer('sgd', { lr: 1e39 }), /option 'lr' for sgd is 1e\+?39, too large for float32/);
  assert.throws(() => new descent.TrainSession(data, { ...run, options: { lr: NaN } }, undefined), /options\.options\.lr is NaN/);
  assert.throws(() => descent.unitSpread(new Float32Array(10).fill(NaN), 4, 2), /params\[0\] is NaN/);
  assert.throws(() => new descent.Mlp([4, 'x', 2], 'relu', 1), /^Error: sizes\[1\] must be a number, got a string/);
  assert.throws(() => new descent.Mlp(Uint32Array.from([4, 2]), 'relu', 1).forward(undefined, 1), /^Error: x must be a Float32Array \(or an array of numbers\), got nothing \(undefined\)$/);
  assert.equal(new descent.Mlp([4, 3, 2], 'relu', 1).forward([0.1, 0.2, 0.3, 0.4], 1).length, 2, 'a plain array of numbers is read');
  // a chart keeps NaN as a gap
  assert.match(descent.chartCsv({ kind: 'lines', series: [{ name: 'a', y: [1, NaN, 2] }] }), /a,2,\n/);
});

test('a reset (what the page does after a trap): old objects refuse, new ones give the same numbers', () => {
  const m = net();
  descent.__wbg_reset_state();
  assert.throws(() => m.forward(Float32Array.from([0.1, 0.2, 0.3, 0.4]), 1), /^Error: Invalid stale object from previous Wasm instance$/);
  assert.throws(() => data.trainSize, /Invalid stale object/);
  assert.throws(() => new descent.TrainSession(data, run, undefined), /Invalid stale object/, 'nor is one taken as an argument');
  assert.deepEqual(canary(), expected);
  const fresh = new descent.MnistData(images, labels, 1);
  assert.equal(fresh.trainSize, 7000);
  const s = new descent.TrainSession(fresh, run, undefined);
  s.runSteps(1);
  s.free();
  fresh.free();
});
