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

const { BatchNorm, dropout, Optimizer } = descent;

test('Mlp: lossAndGradients gives the mean cross-entropy and gradients in parameter order', () => {
  const mlp = new Mlp(Uint32Array.from([4, 3, 2]), 'tanh', 2);
  const x = Float32Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]);
  const labels = Uint32Array.from([0, 1]);
  const loss = mlp.lossAndGradients(x, labels);
  // Against a finite difference of the same loss, for every parameter.
  const g = mlp.gradients();
  const p = mlp.parameters();
  assert.equal(g.length, p.length);
  const h = 1e-2;
  for (let i = 0; i < p.length; i++) {
    const q = Float32Array.from(p);
    q[i] = p[i] + h; mlp.setParameters(q); const up = mlp.lossAndGradients(x, labels);
    q[i] = p[i] - h; mlp.setParameters(q); const down = mlp.lossAndGradients(x, labels);
    assert.ok(Math.abs((up - down) / (2 * h) - g[i]) < 2e-3, `parameter ${i}`);
  }
  mlp.setParameters(p);
  assert.ok(Math.abs(mlp.lossAndGradients(x, labels) - loss) < 1e-7);
  assert.throws(() => mlp.lossAndGradients(x, Uint32Array.from([0, 5])), /label 5 at row 1 is out of range for 2 classes/);
});

test('BatchNorm: PyTorch semantics, running statistics, refusals', () => {
  const bn = new BatchNorm(2, { momentum: 0.1 });
  const x = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]);
  const y = bn.forward(x, 4, true);
  assert.ok(Math.abs(y[0] + y[2] + y[4] + y[6]) < 1e-5, 'each feature has mean 0 after training-mode normalization');
  assert.ok(Math.abs(bn.runningMean[0] - 0.25) < 1e-6);
  // unbiased running variance: 0.9 + 0.1 · 1.25 · 4/3
  assert.ok(Math.abs(bn.runningVar[0] - (0.9 + 0.1 * 1.25 * 4 / 3)) < 1e-6);
  const dx = bn.backward(Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(dx.length, 8);
  assert.deepEqual(Array.from(bn.gradBeta), [1, 0]);
  bn.gamma = Float32Array.from([2, 3]);
  assert.deepEqual(Array.from(bn.gamma), [2, 3]);
  const evalOut = bn.forward(Float32Array.from([0.25, 2.5]), 1, false);
  assert.ok(evalOut.every((v) => Math.abs(v - 0) < 1e-6), 'evaluation uses the running statistics');
  assert.throws(() => bn.forward(Float32Array.from([1, 2]), 1, true), /more than 1 value/);
  assert.throws(() => bn.forward(Float32Array.from([1, 2, 3]), 2, true), /expected 2 × 2 = 4 values, got 3/);
  assert.throws(() => { bn.beta = Float32Array.from([1]); }, /beta needs 2 values, got 1/);
  assert.throws(() => new BatchNorm(2, { eps: -1 }), /invalid eps/);
  assert.throws(() => new BatchNorm(2, { moment: 0.1 }), /unknown BatchNorm option 'moment'/);
});

test('dropout: inverted scaling, seeded masks, identity in evaluation, bad p refused', () => {
  const x = new Float32Array(10000).fill(1);
  const y = dropout(x, 0.25, true, 3);
  assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  assert.ok(Math.abs(mean - 1) < 0.03);
  assert.deepEqual(dropout(x, 0.25, true, 3), y, 'same seed, same mask');
  assert.deepEqual(dropout(x, 0.25, false, 3), x);
  assert.throws(() => dropout(x, 1, true, 3), /\[0, 1\)/);
  assert.throws(() => dropout(x, -0.1, true, 3), /\[0, 1\)/);
});

test('Optimizer: torch.optim names and defaults, in-place steps, reset, refusals', () => {
  const sgd = new Optimizer('sgd', { lr: 0.1, momentum: 0.9 });
  const p = Float32Array.from([1, -1]);
  sgd.step(p, Float32Array.from([1, 2]));
  assert.deepEqual(Array.from(p).map((v) => +v.toFixed(6)), [0.9, -1.2]);
  sgd.step(p, Float32Array.from([1, 2])); // buffer = 0.9·g + g = 1.9·g
  assert.deepEqual(Array.from(p).map((v) => +v.toFixed(6)), [0.71, -1.58]);
  assert.deepEqual(Array.from(sgd.state('momentum_buffer')).map((v) => +v.toFixed(6)), [1.9, 3.8]);
  sgd.reset();
  assert.equal(sgd.state('momentum_buffer'), undefined);
  const adam = new Optimizer('adam');
  assert.equal(adam.lr, 0.001);
  const q = Float32Array.from([0.5]);
  adam.step(q, Float32Array.from([3]));
  assert.ok(Math.abs(q[0] - (0.5 - 0.001)) < 1e-6, 'Adam’s first step has size lr');
  for (const name of ['rprop', 'rmsprop', 'adamw']) assert.equal(new Optimizer(name).name, name);
  assert.throws(() => new Optimizer('sgd', { lr: -1 }), /Invalid learning rate: -1/);
  assert.throws(() => new Optimizer('adam', { betas: [1.5, 0.999] }), /beta/);
  assert.throws(() => new Optimizer('sgd', { betas: [0.9, 0.99] }), /unknown option 'betas' for sgd/);
  assert.throws(() => new Optimizer('lbfgs'), /lbfgs/);
  assert.throws(() => adam.step(Float32Array.from([1, 2]), Float32Array.from([1])), /2|1/);
});

test('negative counts are refused by name, not wrapped to 2^32 − 1', () => {
  assert.throws(() => descent.initialize('normal', -1, 2, 1), /invalid fanIn: -1/);
  assert.throws(() => descent.initialize('normal', 2, 1.5, 1), /invalid fanOut: 1.5/);
  const mlp = new Mlp(Uint32Array.from([4, 2]), 'relu', 1);
  assert.throws(() => mlp.forward(new Float32Array(4), -1), /invalid batch size: -1/);
  assert.throws(() => new BatchNorm(-3), /invalid number of features: -3/);
});

test('a number, an object, null or nothing where a string belongs is an Error naming the argument', () => {
  const sizes = Uint32Array.from([4, 3, 2]);
  const opt = new descent.Optimizer('adam', {});
  for (const bad of [42, {}, null, undefined, true]) {
    const calls = [
      [() => new descent.Mlp(sizes, bad, 1), /activation must be a string/],
      [() => new descent.Optimizer(bad), /optimizer's name must be a string/],
      [() => descent.setBackend(bad), /backend must be a string/],
      [() => descent.initialize(bad, 3, 2, 1), /init scheme must be a string/],
      [() => descent.parseWeights(bad), /weights file's text must be a string/],
      [() => opt.state(bad), /state buffer's name must be a string/],
    ];
    for (const [call, want] of calls) {
      assert.throws(call, (e) => e instanceof Error && !(e instanceof WebAssembly.RuntimeError) && !(e instanceof TypeError) && want.test(e.message), `${want} with ${String(bad)}`);
    }
  }
  assert.throws(() => new descent.Mlp(sizes, 42, 1), /got the number 42/);
  // sizes that could never be allocated are refused before anything is
  assert.throws(() => new descent.BatchNorm(1e9), /1000000000 features is more than a layer can have \(at most 4096\)/);
  assert.throws(() => descent.initialize('zeros', 50000, 50000, 1), /a 50000 × 50000 weight matrix is more than a network may have/);
  assert.equal(descent.initialize('zeros', 3, 2, 1).length, 6);
  // good calls still work after the refusals
  const mlp = new descent.Mlp(sizes, 'tanh', 1);
  assert.equal(mlp.forward(new Float32Array(4), 1).length, 2);
  assert.equal(opt.state('exp_avg'), undefined, 'no state before a step');
  mlp.free();
  opt.free();
});

test('non-finite inputs are refused with the index of the first bad value', () => {
  const mlp = new descent.Mlp(Uint32Array.from([4, 3, 2]), 'relu', 1);
  const x = Float32Array.of(0, 1, NaN, 2, 0, 0, Infinity, 0);
  assert.throws(() => mlp.forward(x, 2), /^Error: x\[2\] is NaN: every value must be a finite number$/);
  assert.throws(() => mlp.lossAndGradients(x, Uint32Array.of(0, 1)), /x\[2\] is NaN/);
  assert.equal(mlp.forward(new Float32Array(8), 2).length, 4, 'a good call still works');
  const bn = new descent.BatchNorm(2);
  assert.throws(() => bn.forward(Float32Array.of(1, 2, -Infinity, 0), 2, true), /x\[2\] is -inf/);
  bn.forward(Float32Array.of(1, 2, 3, 4), 2, true);
  assert.throws(() => bn.backward(Float32Array.of(0, NaN, 0, 0)), /dy\[1\] is NaN/);
  const opt = new descent.Optimizer('sgd', { lr: 0.1 });
  const p = Float32Array.of(1, 2);
  assert.throws(() => opt.step(p, Float32Array.of(0, Infinity)), /grads\[1\] is inf/);
  assert.deepEqual(Array.from(p), [1, 2], 'nothing was written');
  opt.step(p, Float32Array.of(1, 1));
  assert.ok(Math.abs(p[0] - 0.9) < 1e-6);
  // only Float32Arrays: a Float64Array would be rounded to f32 and written back silently
  const wide = Float64Array.of(0.1, 0.2);
  assert.throws(() => opt.step(wide, Float32Array.of(1, 1)), /params must be a Float32Array, got Float64Array/);
  assert.deepEqual(Array.from(wide), [0.1, 0.2], 'the Float64Array is untouched');
  assert.throws(() => opt.step(p, [1, 1]), /grads must be a Float32Array, got Array/);
  assert.throws(() => opt.step(undefined, Float32Array.of(1, 1)), /params must be a Float32Array, got nothing/);
  for (const o of [mlp, bn, opt]) o.free();
});

test('earlyStopping: where a rule stops a recorded curve, 1-based, and bad rules are named', () => {
  const curve = Float32Array.from([1.0, 0.9, 0.8, 0.85, 0.86, 0.87]);
  assert.deepEqual(descent.earlyStopping(curve, { criterion: 'patience', patience: 3 }),
    { stop: 6, best: 3, reason: 'no improvement by more than 0 for 3 checks since check 3' });
  const never = descent.earlyStopping(curve, { criterion: 'patience' });
  assert.equal(never.stop, null, 'patience 5 never fires here');
  assert.equal(never.best, 3);
  const gl = descent.earlyStopping([1.0, 0.8, 0.81, 0.9], { criterion: 'gl' });
  assert.equal(gl.stop, 4);
  const pq = descent.earlyStopping([1.0, 0.8, 0.8, 0.9], { criterion: 'pq', strip: 2 }, Float64Array.from([0.5, 0.4, 0.3, 0.3]));
  assert.equal(pq.stop, 4);
  assert.throws(() => descent.earlyStopping(curve, { criterion: 'magic' }), /stopping rule: unknown variant `magic`/);
  assert.throws(() => descent.earlyStopping(curve, { criterion: 'patience', patience: -1 }), /patience must be a whole number ≥ 0, got -1/);
  assert.throws(() => descent.earlyStopping(curve, { criterion: 'pq' }), /needs the training errors/);
  assert.throws(() => descent.earlyStopping(curve, { criterion: 'gl' }, [0.1]), /1 training errors for 6 validation values/);
});

test('TrainSession with earlyStopping: stoppedAt and bestCheck are null until known, then 1-based checks', () => {
  const images = readFileSync(join(DIST, 'data/mnist-images-idx3-ubyte.gz'));
  const labels = readFileSync(join(DIST, 'data/mnist-labels-idx1-ubyte.gz'));
  const data = new descent.MnistData(images, labels, 2);
  const s = new descent.TrainSession(data, {
    hidden: [64], seed: 2, optimizer: 'adam', options: { lr: 0.01 }, batchSize: 20, epochs: 30, trainSubset: 200,
    earlyStopping: { monitor: 'val_loss', criterion: 'patience', patience: 2 },
  }, undefined);
  assert.equal(s.stoppedAt, null);
  assert.equal(s.bestCheck, null);
  while (s.runFor(50) === 'running');
  assert.equal(s.status(), 'stopped', s.message);
  assert.match(s.message, /^early stopping: no improvement by more than 0 for 2 checks since check \d+$/);
  const checks = s.checks();
  assert.equal(s.stoppedAt, checks.length, 'stopped at the last check taken');
  assert.equal(s.stoppedAt - s.bestCheck, 2, 'two checks after the best');
  assert.throws(() => new descent.TrainSession(data, { hidden: [8], earlyStopping: { criterion: 'patience', patince: 2 } }, undefined), /unknown field `patince`/);
  // a step that would hold the thread for seconds is refused before the first step, with its cost
  assert.throws(() => new descent.TrainSession(data, { hidden: [2048, 2048], batchSize: 7000 }, undefined), /batches of 7000 costs 244\.5 GFLOP, about 9\.8 s a step.*smaller batch or network/);
  assert.throws(() => new descent.TrainSession(data, { hidden: [2048, 2048], batchSize: 16 }, undefined), /5824522 parameters, too many to build and train on the page's own thread/);
  // a call is a bounded slice of work: nothing that would hang the page is taken
  for (const ms of [NaN, Infinity, 0, -5, 1e6, 'x']) {
    assert.throws(() => s.runFor(ms), (e) => e instanceof Error && !(e instanceof WebAssembly.RuntimeError) && /not a time slice/.test(e.message), `runFor(${ms})`);
  }
  for (const n of [-1, 1.5, NaN, 1e12]) {
    assert.throws(() => s.runSteps(n), (e) => e instanceof Error && /runSteps/.test(e.message), `runSteps(${n})`);
  }
  assert.equal(s.runSteps(3), 'stopped', 'a good call still works after the refusals');
  s.free();
  data.free();
});

test('Mlp options: batch-norm and dropout per hidden layer, training-mode forward, batchNormStats', () => {
  const sizes = Uint32Array.from([4, 6, 5, 3]);
  const x = Float32Array.from({ length: 8 * 4 }, (_, i) => Math.sin(i * 1.7));
  const bn = new Mlp(sizes, 'tanh', 3, null, { batchNorm: [true, false], bnMomentum: 0.2 });
  // γ, β after each hidden Linear that has batch-norm: 6 + 6 more parameters than the plain net
  assert.equal(bn.parameterCount, new Mlp(sizes, 'tanh', 3).parameterCount + 12);
  const before = bn.batchNormStats(0);
  assert.deepEqual([...before.runningMean], new Array(6).fill(0));
  assert.deepEqual([...before.runningVar], new Array(6).fill(1));
  assert.deepEqual([...before.gamma], new Array(6).fill(1));
  const evalOut = bn.forward(x, 8);
  assert.deepEqual([...bn.batchNormStats(0).runningMean], new Array(6).fill(0), 'evaluation mode leaves the running statistics');
  const trainOut = bn.forward(x, 8, { training: true });
  assert.notDeepEqual([...trainOut], [...evalOut], 'training mode normalizes with the batch statistics');
  const after = bn.batchNormStats(0);
  assert.ok(after.runningMean.some((m) => m !== 0), 'a training pass moves the running mean');
  assert.ok(after.runningVar.every((v) => v > 0));
  assert.throws(() => bn.batchNormStats(1), /layer 1 has no batch-norm/);
  assert.throws(() => bn.batchNormStats(7), /layer 7 has no batch-norm \(the network has 2 hidden layers/);

  const drop = new Mlp(sizes, 'relu', 3, null, { dropout: 0.5 });
  const a = drop.forward(x, 8, { training: true, seed: 11 });
  const b = drop.forward(x, 8, { training: true, seed: 11 });
  const c = drop.forward(x, 8, { training: true, seed: 12 });
  assert.deepEqual([...a], [...b], 'the same seed draws the same dropout masks');
  assert.notDeepEqual([...a], [...c], 'another seed, other masks');
  assert.deepEqual([...drop.forward(x, 8)], [...drop.forward(x, 8)], 'evaluation mode drops nothing');
  assert.notDeepEqual([...drop.forward(x, 8)], [...a]);

  assert.throws(() => new Mlp(sizes, 'relu', 3, null, { batchNorm: [true] , dropout: [0.1, 0.2, 0.3] }), /dropout lists 3 values but the network has 2 hidden layers/);
  assert.throws(() => new Mlp(sizes, 'relu', 3, null, { dropout: 1.5 }), /dropout/);
  assert.throws(() => new Mlp(sizes, 'relu', 3, null, { batchnorm: true }), /Mlp options: unknown field `batchnorm`/);
  assert.throws(() => drop.forward(x, 8, { train: true }), /forward options: unknown field `train`/);
  assert.throws(() => drop.forward(x, 8, { training: true, seed: -2 }), /seed/);
});

test('the page\'s memory budget: sessions past it are refused with a message, and freeing them makes room', () => {
  const images = readFileSync(join(DIST, 'data/mnist-images-idx3-ubyte.gz'));
  const labels = readFileSync(join(DIST, 'data/mnist-labels-idx1-ubyte.gz'));
  const data = new descent.MnistData(images, labels, 1);
  const held = [];
  let refusal = null;
  // 1.9 M parameters each (about 30 MB with gradients and Adam's buffers): the budget (1,500 MB) is reached in a few dozen
  while (held.length < 100) {
    try {
      held.push(new descent.TrainSession(data, { hidden: [1024, 1024], batchSize: 16 }, undefined));
    } catch (e) {
      refusal = e;
      break;
    }
  }
  assert.ok(refusal instanceof Error && !(refusal instanceof WebAssembly.RuntimeError), `refused with an Error: ${refusal}`);
  assert.match(refusal.message, /^a run of sizes \[784, 1024, 1024, 10\] needs about \d+ MB, and the page already holds \d+ MB: more than the 1500 MB one page may use/);
  assert.ok(held.length >= 10, `${held.length} sessions fitted first`);
  for (const s of held) s.free();
  const s = new descent.TrainSession(data, { hidden: [1024, 1024], batchSize: 16 }, undefined);
  assert.equal(s.runSteps(1), 'running', 'after freeing, a new one builds and trains');
  s.free();
  data.free();
});
