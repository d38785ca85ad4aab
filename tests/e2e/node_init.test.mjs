// initialize() and Mlp's init option in Node: statistics match torch.nn.init's formulas, bounds
// hold, and bad requests throw Errors that say what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from './helpers.mjs';

const descent = await import(join(DIST, 'pkg/descent.js'));
descent.initSync({ module: readFileSync(join(DIST, 'pkg/descent_bg.wasm')) });
const { initialize, Mlp } = descent;

const FAN_IN = 256;
const FAN_OUT = 128;
const N = FAN_IN * FAN_OUT;

function moments(w) {
  let sum = 0;
  for (const v of w) sum += v;
  const mean = sum / w.length;
  let sq = 0;
  for (const v of w) sq += (v - mean) ** 2;
  return { mean, variance: sq / w.length, min: Math.min(...w), max: Math.max(...w) };
}

// (scheme, options, expected mean, expected variance, [lo, hi] bounds or null, reason)
const xavierVar = 2 / (FAN_IN + FAN_OUT);
const heVar = 2 / FAN_IN;
const ROWS = [
  ['uniform', { a: -2, b: 3 }, 0.5, 25 / 12, [-2, 3], 'U(a, b): mean (a+b)/2, variance (b−a)²/12'],
  ['uniform', {}, 0.5, 1 / 12, [0, 1], 'PyTorch default bounds a=0, b=1'],
  ['normal', { mean: 1, std: 0.5 }, 1, 0.25, null, 'N(mean, std²)'],
  ['xavier_uniform', {}, 0, xavierVar, [-Math.sqrt(6 / (FAN_IN + FAN_OUT)), Math.sqrt(6 / (FAN_IN + FAN_OUT))], 'bound √(6/(fan_in+fan_out))'],
  ['xavier_uniform', { gain: 2 }, 0, 4 * xavierVar, [-2 * Math.sqrt(6 / (FAN_IN + FAN_OUT)), 2 * Math.sqrt(6 / (FAN_IN + FAN_OUT))], 'the gain scales the bound'],
  ['xavier_normal', {}, 0, xavierVar, null, 'std √(2/(fan_in+fan_out))'],
  ['kaiming_uniform', {}, 0, heVar, [-Math.sqrt(6 / FAN_IN), Math.sqrt(6 / FAN_IN)], 'He: bound √(6/fan_in) with the ReLU gain √2'],
  ['kaiming_normal', {}, 0, heVar, null, 'He: std √(2/fan_in)'],
  ['kaiming_normal', { gain: 1 }, 0, 1 / FAN_IN, null, 'gain 1: LeCun-style std 1/√fan_in'],
  ['default', {}, 0, 1 / (3 * FAN_IN), [-1 / Math.sqrt(FAN_IN), 1 / Math.sqrt(FAN_IN)], "nn.Linear's U(±1/√fan_in)"],
];

test('initialize: mean, variance and bounds follow the formulas', () => {
  for (const [scheme, options, mean, variance, bounds, why] of ROWS) {
    const w = initialize(scheme, FAN_IN, FAN_OUT, 7, options);
    assert.ok(w instanceof Float32Array, why);
    assert.equal(w.length, N, `${why}: fanOut × fanIn values`);
    const m = moments(w);
    // standard errors: of the mean √(var/N), of the variance about √(2/N)·var
    assert.ok(Math.abs(m.mean - mean) < 5 * Math.sqrt(variance / N), `${scheme} ${JSON.stringify(options)} (${why}): mean ${m.mean} vs ${mean}`);
    assert.ok(Math.abs(m.variance / variance - 1) < 0.05, `${scheme} ${JSON.stringify(options)} (${why}): variance ${m.variance} vs ${variance}`);
    if (bounds) {
      const eps = 1e-6 * Math.max(1, Math.abs(bounds[0]), Math.abs(bounds[1]));
      assert.ok(m.min >= bounds[0] - eps && m.max <= bounds[1] + eps, `${why}: [${m.min}, ${m.max}] within ${bounds}`);
      // and the range is used, not a much narrower one
      assert.ok(m.max - m.min > 0.95 * (bounds[1] - bounds[0]), `${why}: spans ${m.min}..${m.max}`);
    }
  }
});

test('initialize: constants, aliases and seeds', () => {
  assert.ok(initialize('zeros', 3, 2, 1).every((v) => v === 0));
  assert.deepEqual(Array.from(initialize('constant', 3, 2, 1, { value: 0.25 })), Array(6).fill(0.25));
  // Keras' names for the same schemes give the same numbers for the same seed
  assert.deepEqual(initialize('glorot_uniform', 20, 10, 3), initialize('xavier_uniform', 20, 10, 3));
  assert.deepEqual(initialize('he_normal', 20, 10, 3), initialize('kaiming_normal', 20, 10, 3));
  assert.deepEqual(initialize('xavier_normal', 20, 10, 3), initialize('xavier_normal', 20, 10, 3), 'same seed, same draw');
  assert.notDeepEqual(initialize('xavier_normal', 20, 10, 3), initialize('xavier_normal', 20, 10, 4), 'another seed, another draw');
  // options may be left out or be null
  assert.equal(initialize('default', 4, 2, 1, null).length, 8);
  assert.equal(initialize('default', 4, 2, 1).length, 8);
});

test('initialize: refusals are Errors that name the problem', () => {
  // (call, expected message, reason)
  const rows = [
    [() => initialize('xavier', 4, 2, 1), /Unknown init scheme 'xavier'; valid schemes: default, zeros, constant, uniform, normal, xavier_uniform/, 'a bare "xavier" does not say uniform or normal'],
    [() => initialize('glorot', 4, 2, 1), /Unknown init scheme 'glorot'.*aliases: glorot_uniform, glorot_normal, he_uniform, he_normal/, 'aliases are listed too'],
    [() => initialize('uniform', 4, 2, 1, { a: 1, b: -1 }), /Invalid uniform bounds: a=1 > b=-1 \(need a <= b\)/, 'a > b'],
    [() => initialize('normal', 4, 2, 1, { std: -1 }), /Invalid std for normal init: -1 \(must be >= 0\)/, 'negative std'],
    [() => initialize('xavier_uniform', 4, 2, 1, { gain: -1 }), /Invalid gain for xavier_uniform init: -1 \(must be >= 0\)/, 'negative gain'],
    [() => initialize('normal', 0, 2, 1), /Invalid fan_in: 0 \(a layer needs at least one input; fan_out=2\)/, 'zero fan-in'],
    [() => initialize('normal', 4, 0, 1), /Invalid fan_out: 0 \(a layer needs at least one output; fan_in=4\)/, 'zero fan-out'],
    [() => initialize('constant', 4, 2, 1), /Init scheme 'constant' needs option 'value'/, 'constant has no default'],
    [() => initialize('uniform', 4, 2, 1, { std: 1 }), /Unknown option 'std' for init scheme 'uniform'; valid options: a \(default 0\), b \(default 1\)/, 'an option of another scheme'],
    [() => initialize('normal', 4, 2, 1, { std: 'big' }), /Init option 'std' of 'normal' must be a number, got "big"/, 'not a number'],
    [() => initialize('normal', 4, 2, 1, { std: Infinity }), /options\.std is Infinity: every number in the settings must be finite/, 'an infinite std'],
    [() => initialize('normal', 4, 2, -1), /invalid seed: -1/, 'negative seed'],
    [() => initialize('normal', 4, 2, 1, [1, 2]), /initialize: options must be an object/, 'options not an object'],
  ];
  for (const [call, message, why] of rows) {
    assert.throws(call, (e) => {
      assert.ok(e instanceof Error, `${why}: an Error, got ${e}`);
      assert.match(e.message, message, why);
      return true;
    }, why);
  }
});

test('Mlp: the init option reaches every layer, and bad ones are refused', () => {
  const sizes = [784, 128, 10];
  const mlp = new Mlp(Uint32Array.from(sizes), 'tanh', 5, { scheme: 'xavier_uniform' });
  const p = mlp.parameters();
  let at = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    const w = p.subarray(at, at + fanIn * fanOut);
    const b = p.subarray(at + fanIn * fanOut, at + fanIn * fanOut + fanOut);
    at += fanIn * fanOut + fanOut;
    const bound = Math.sqrt(6 / (fanIn + fanOut));
    const m = moments(w);
    assert.ok(m.min >= -bound && m.max <= bound, `layer ${l + 1}: within ±${bound}: [${m.min}, ${m.max}]`);
    assert.ok(m.max > 0.9 * bound && m.min < -0.9 * bound, `layer ${l + 1}: uses the whole range`);
    assert.ok(Math.abs(m.variance / (2 / (fanIn + fanOut)) - 1) < 0.1, `layer ${l + 1}: variance ${m.variance}`);
    assert.ok(b.every((v) => v === 0), `layer ${l + 1}: biases start at zero (PyTorch's xavier_uniform_ leaves them to the caller)`);
  }
  assert.equal(at, p.length);
  // the default init is the nn.Linear one, so it differs from Xavier
  const plain = new Mlp(Uint32Array.from(sizes), 'tanh', 5);
  assert.ok(plain.parameters().subarray(0, 784 * 128).every((v) => Math.abs(v) <= 1 / Math.sqrt(784)));
  assert.notDeepEqual(plain.parameters(), p);
  // constant init: every hidden unit starts identical
  const same = new Mlp(Uint32Array.from([4, 3, 2]), 'relu', 1, { scheme: 'constant', value: 0.1 });
  assert.deepEqual(Array.from(same.parameters().subarray(0, 12)), Array(12).fill(0.1).map(Math.fround));
  assert.throws(() => new Mlp(Uint32Array.from(sizes), 'relu', 1, { scheme: 'he' }), /Unknown init scheme 'he'/);
  assert.throws(() => new Mlp(Uint32Array.from(sizes), 'relu', 1, { scheme: 'normal', std: -0.1 }), /Invalid std for normal init: -0.1/);
  assert.throws(() => new Mlp(Uint32Array.from(sizes), 'relu', 1, { std: 1 }), /missing "scheme"/);
});
