//! A small training scenario shared by the native and the wasm tests: the same seed must give
//! the same numbers on both platforms.

use descent::nn::{Activation, Mlp, MlpSpec, Penalty, Reduction};

/// Train an 8-6-3 tanh MLP with SGD (lr 0.5) for `steps` steps on a fixed batch of four;
/// return the loss before and after, and the first few parameters.
pub fn replay(steps: usize) -> (f32, f32, Vec<f32>) {
    let mut mlp = Mlp::new(MlpSpec::new(&[8, 6, 3], Activation::Tanh), 42).unwrap();
    let x: Vec<f32> = (0..4 * 8).map(|i| ((i * 7) % 11) as f32 / 11.0 - 0.5).collect();
    let labels = [0u32, 1, 2, 1];
    let mut opt = descent::optim::build("sgd", &serde_json::json!({"lr": 0.5})).unwrap();
    let first = mlp.loss_and_gradients(&x, &labels, Reduction::Mean, Penalty::default()).unwrap();
    for _ in 0..steps {
        mlp.loss_and_gradients(&x, &labels, Reduction::Mean, Penalty::default()).unwrap();
        let (p, g) = mlp.params_and_grads();
        opt.step(p, g).unwrap();
    }
    let last = mlp.loss_and_gradients(&x, &labels, Reduction::Mean, Penalty::default()).unwrap();
    (first, last, mlp.parameters()[..4].to_vec())
}

/// (initial loss, loss after 60 steps, first four parameters) of `replay(60)`, as f32 bits,
/// produced by this code on x86-64. The initial loss depends only on the seeded init and one
/// forward pass, and must match to the bit on every platform; after training, the matrix
/// products' summation order (blocked kernels differ per CPU) may move the last bits, so the
/// rest is compared to 1e-5 relative.
pub const PINNED: (u32, u32, [u32; 4]) = (0x3f86780b, 0x3ea7fee5, [0x3e840f0d, 0x3e00ce39, 0xbce75e3d, 0xbf808a49]);

/// Assert that `replay(60)` reproduces [`PINNED`].
pub fn check_replay() {
    let (first, last, head) = replay(60);
    assert!(last < 0.5 * first, "loss {first} → {last}");
    assert_eq!(
        first.to_bits(),
        PINNED.0,
        "the initial loss changed ({first}); if the RNG streams or the default init changed on purpose, \
         update PINNED (saved experiment links will replay differently)"
    );
    let close = |a: f32, bits: u32| {
        let b = f32::from_bits(bits);
        (a - b).abs() <= 1e-5 * b.abs().max(1e-3)
    };
    assert!(close(last, PINNED.1), "loss after 60 steps {last} vs {}", f32::from_bits(PINNED.1));
    for (i, (&h, &bits)) in head.iter().zip(&PINNED.2).enumerate() {
        assert!(close(h, bits), "parameter {i}: {h} vs {}", f32::from_bits(bits));
    }
}

/// Each optimizer's update over a long vector (the vectorized loop body: the compiler turns
/// the element loops into 4-lane SIMD on wasm and SSE natively) must equal, bit for bit, the
/// same optimizer stepped one weight at a time (a one-element slice never enters the vector
/// body). Options cover every branch: momentum, Nesterov, weight decay, centred, AMSGrad,
/// decoupled decay, maximize, no bias correction.
pub fn check_vectorized_optimizers() {
    let settings = [
        ("sgd", serde_json::json!({"lr": 0.1})),
        ("sgd", serde_json::json!({"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-3, "nesterov": false})),
        ("sgd", serde_json::json!({"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3, "nesterov": true, "maximize": true})),
        ("rprop", serde_json::json!({"lr": 0.05})),
        ("rprop", serde_json::json!({"lr": 0.05, "etas": [0.4, 1.3], "step_sizes": [1e-4, 0.5], "maximize": true})),
        ("rmsprop", serde_json::json!({"lr": 0.01})),
        ("rmsprop", serde_json::json!({"lr": 0.01, "centered": true})),
        ("rmsprop", serde_json::json!({"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1})),
        ("rmsprop", serde_json::json!({"lr": 0.01, "momentum": 0.5, "centered": true, "maximize": true})),
        ("adam", serde_json::json!({"lr": 0.01})),
        ("adam", serde_json::json!({"lr": 0.01, "weight_decay": 0.1, "amsgrad": true})),
        ("adam", serde_json::json!({"lr": 0.01, "betas": [0.3, 0.9], "maximize": true, "bias_correction": false})),
        ("adamw", serde_json::json!({"lr": 0.01, "amsgrad": true})),
    ];
    let n = 1003; // not a multiple of 4: the loops' scalar tails run too
    let mut rng = descent::Rng::new(21);
    let start: Vec<f32> = (0..n).map(|_| rng.normal(0.0, 1.0)).collect();
    // gradients with exact zeros and sign flips (Rprop's branches), one batch per step
    let grads: Vec<Vec<f32>> = (0..6).map(|_| (0..n).map(|i| if i % 7 == 0 { 0.0 } else { rng.normal(0.0, 1.0) }).collect()).collect();
    for (name, options) in settings {
        let mut whole = descent::optim::build(name, &options).unwrap();
        let mut singles: Vec<_> = (0..n).map(|_| descent::optim::build(name, &options).unwrap()).collect();
        let (mut p, mut q) = (start.clone(), start.clone());
        for g in &grads {
            whole.step(&mut p, g).unwrap();
            for (i, opt) in singles.iter_mut().enumerate() {
                opt.step(&mut q[i..i + 1], &g[i..i + 1]).unwrap();
            }
        }
        for i in 0..n {
            assert_eq!(p[i].to_bits(), q[i].to_bits(), "{name} {options}: weight {i}: {} vs {} one at a time", p[i], q[i]);
        }
        for (key, state) in whole.state() {
            for (i, opt) in singles.iter().enumerate() {
                let one = opt.state().into_iter().find(|(k, _)| *k == key).unwrap().1[0];
                assert_eq!(state[i].to_bits(), one.to_bits(), "{name} {options}: {key}[{i}]");
            }
        }
    }
}

/// The packed product's zero-step skipping (`backend::packed`) on MNIST-like operands — most
/// values exactly zero, some rows and runs all zero — at the MLP's shapes and at awkward ones,
/// every transpose, beta 0, 1 and ½: `gemm` must equal `gemm_dense` bit for bit. And skipping
/// must really happen where the first layer needs it: with ±∞ in B wherever A's step is zero
/// (and in A wherever B's is), the dense product turns those steps into NaN, the skipping one
/// never reads them.
pub fn check_zero_skipping() {
    use descent::backend::packed::{gemm, gemm_dense};
    use descent::backend::Op;
    let mut rng = descent::Rng::new(31);
    // each value non-zero with probability 1/5, and every third row blank
    let mut sparse = |rows: usize, cols: usize| -> Vec<f32> {
        (0..rows * cols).map(|i| if (i / cols) % 3 == 2 || rng.uniform(0.0, 1.0) < 0.8 { 0.0 } else { rng.uniform(0.0, 1.0) }).collect()
    };
    for &(m, k, n) in &[(64, 784, 256), (256, 64, 784), (64, 256, 128), (9, 300, 40), (70, 513, 33), (33, 70, 90)] {
        for (ta, tb) in [(Op::N, Op::N), (Op::N, Op::T), (Op::T, Op::N), (Op::T, Op::T)] {
            for (a_sparse, b_sparse) in [(true, false), (false, true), (true, true)] {
                let a = if a_sparse { sparse(m, k) } else { (0..m * k).map(|i| (i % 13) as f32 - 6.0).collect() };
                let b = if b_sparse { sparse(k, n) } else { (0..k * n).map(|i| (i % 7) as f32 * 0.25 - 0.5).collect() };
                let c0: Vec<f32> = (0..m * n).map(|i| (i % 5) as f32).collect();
                for beta in [0.0, 1.0, 0.5] {
                    let (mut c, mut d) = (c0.clone(), c0.clone());
                    gemm(m, k, n, &a, ta, &b, tb, beta, &mut c);
                    gemm_dense(m, k, n, &a, ta, &b, tb, beta, &mut d);
                    for (i, (x, y)) in c.iter().zip(&d).enumerate() {
                        assert_eq!(x.to_bits(), y.to_bits(), "{m}x{k}x{n} {ta:?}{tb:?} beta {beta}, C[{i}]: {x} skipping vs {y} dense");
                    }
                }
            }
        }
    }
    // the first layer's forward X·Wᵀ: a step (pixel) blank in all of X meets ∞ in W
    let (m, k, n) = (64, 784, 256);
    let x: Vec<f32> = (0..m * k).map(|i| if (i % k) % 2 == 1 || (i / k + i % k) % 5 > 0 { 0.0 } else { 0.5 }).collect();
    let w: Vec<f32> = (0..n * k).map(|i| if (i % k) % 2 == 1 { f32::INFINITY } else { 0.25 }).collect();
    let (mut c, mut d) = (vec![0.0; m * n], vec![0.0; m * n]);
    gemm(m, k, n, &x, Op::N, &w, Op::T, 0.0, &mut c);
    gemm_dense(m, k, n, &x, Op::N, &w, Op::T, 0.0, &mut d);
    assert!(c.iter().all(|v| v.is_finite()), "the forward product read a step that is zero in all four rows of an A panel");
    assert!(d.iter().all(|v| v.is_nan()), "the dense product should have multiplied 0 by ∞");
    // its weight gradient dYᵀ·X: an 8-pixel run blank in a digit meets ∞ in dY
    let (m, k, n) = (256, 64, 784);
    let dy: Vec<f32> = (0..k * m).map(|i| if (i / m) % 2 == 1 { f32::NEG_INFINITY } else { 1.0 }).collect();
    let x: Vec<f32> = (0..k * n).map(|i| if (i / n) % 2 == 1 || (i % n) % 3 > 0 { 0.0 } else { 0.5 }).collect();
    let (mut c, mut d) = (vec![0.0; m * n], vec![0.0; m * n]);
    gemm(m, k, n, &dy, Op::T, &x, Op::N, 0.0, &mut c);
    gemm_dense(m, k, n, &dy, Op::T, &x, Op::N, 0.0, &mut d);
    assert!(c.iter().all(|v| v.is_finite()), "the weight gradient read a batch row whose 8 pixels are all zero");
    assert!(d.iter().any(|v| v.is_nan()), "the dense product should have multiplied 0 by −∞");
}

/// The packed product with a Linear layer's bias and ReLU in its write-back
/// (`packed::gemm_bias_relu`) against the unfused steps — C ← bias, C += op(A)·op(B), then
/// `Activation::Relu` — bit for bit: at the MLP's shapes and at ragged ones, with k over one
/// block (so ReLU must wait for the last), sparse and dense A, and a NaN that must survive ReLU.
pub fn check_fused_bias_relu() {
    use descent::backend::packed::{gemm, gemm_bias_relu};
    use descent::backend::Op;
    use descent::nn::Activation;
    let mut rng = descent::Rng::new(32);
    for &(m, k, n) in &[(64, 784, 256), (64, 256, 128), (64, 128, 10), (5, 300, 9), (70, 513, 33), (3, 1, 17)] {
        for (ta, tb) in [(Op::N, Op::T), (Op::N, Op::N), (Op::T, Op::T)] {
            for sparse in [false, true] {
                let mut a: Vec<f32> = (0..m * k).map(|_| if sparse && rng.uniform(0.0, 1.0) < 0.8 { 0.0 } else { rng.normal(0.0, 1.0) }).collect();
                a[0] = f32::NAN; // row 0 (or column 0) of C becomes NaN, which ReLU keeps
                let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
                let bias: Vec<f32> = (0..n).map(|_| rng.normal(0.0, 1.0)).collect();
                for relu in [false, true] {
                    let mut fused = vec![0.0; m * n];
                    gemm_bias_relu(m, k, n, &a, ta, &b, tb, &bias, relu, &mut fused);
                    let mut unfused: Vec<f32> = bias.iter().copied().cycle().take(m * n).collect();
                    gemm(m, k, n, &a, ta, &b, tb, 1.0, &mut unfused);
                    if relu {
                        Activation::Relu.forward(&mut unfused);
                    }
                    assert!(fused.iter().any(|v| v.is_nan()) && (!relu || fused.contains(&0.0)));
                    for (i, (x, y)) in fused.iter().zip(&unfused).enumerate() {
                        assert_eq!(x.to_bits(), y.to_bits(), "{m}x{k}x{n} {ta:?}{tb:?} relu {relu} sparse {sparse}, C[{i}]: {x} fused vs {y}");
                    }
                }
            }
        }
    }
}

/// The packed product's ReLU backward in its write-back (`packed::gemm_relu_grad`: the input
/// gradient of a layer whose input was a ReLU's output y) is bit for bit the product followed
/// by `Activation::Relu.backward`: zero where y ≤ 0 (−0 included), the product where y > 0 or
/// y is NaN, on dense and sparse A and across the k, m and n block edges.
pub fn check_fused_relu_grad() {
    use descent::backend::packed::{gemm, gemm_relu_grad};
    use descent::backend::Op;
    let mut rng = descent::Rng::new(33);
    for &(m, k, n) in &[(64, 256, 128), (64, 128, 256), (64, 10, 128), (5, 300, 9), (70, 513, 33), (3, 1, 17), (2, 0, 5)] {
        for (ta, tb) in [(Op::N, Op::N), (Op::N, Op::T), (Op::T, Op::N)] {
            for sparse in [false, true] {
                let a: Vec<f32> = (0..m * k).map(|_| if sparse && rng.uniform(0.0, 1.0) < 0.8 { 0.0 } else { rng.normal(0.0, 1.0) }).collect();
                let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
                // a ReLU output: about half zeros, some −0 and one NaN
                let mut y: Vec<f32> = (0..m * n).map(|i| if i % 7 == 3 { -0.0 } else { rng.normal(0.0, 1.0).max(0.0) }).collect();
                y[m * n / 2] = f32::NAN;
                let mut fused = vec![f32::NAN; m * n]; // stale values must be overwritten
                gemm_relu_grad(m, k, n, &a, ta, &b, tb, &y, &mut fused);
                let mut unfused = vec![0.0; m * n];
                gemm(m, k, n, &a, ta, &b, tb, 0.0, &mut unfused);
                Activation::Relu.backward(&y, &mut unfused);
                assert!(k == 0 || fused.iter().filter(|v| **v == 0.0).count() * 3 > m * n, "{m}x{k}x{n}: the mask was not applied");
                for (i, (x, u)) in fused.iter().zip(&unfused).enumerate() {
                    assert_eq!(x.to_bits(), u.to_bits(), "{m}x{k}x{n} {ta:?}{tb:?} sparse {sparse}, C[{i}]: {x} fused vs {u}");
                }
            }
        }
    }
}

/// The packed product's row sums (`packed::gemm_row_sums`, a Linear layer's bias gradient
/// Σ dY taken as dYᵀ is packed for the weight gradient) are bit for bit the sums a loop over
/// the rows of dY makes, added to what the sums held, for both layouts of A, every beta, and
/// across the k, m and n block edges (n > 2048: A is packed twice, summed once); C is the
/// plain product's.
pub fn check_fused_row_sums() {
    use descent::backend::packed::{gemm, gemm_row_sums};
    use descent::backend::Op;
    let mut rng = descent::Rng::new(34);
    for &(m, k, n) in &[(256, 64, 784), (128, 64, 256), (10, 64, 128), (70, 513, 9), (5, 300, 2100), (3, 1, 17), (4, 0, 3), (6, 5, 0)] {
        for (ta, tb) in [(Op::T, Op::N), (Op::N, Op::N), (Op::T, Op::T)] {
            for beta in [0.0, 1.0] {
                let a: Vec<f32> = (0..m * k).map(|_| if rng.uniform(0.0, 1.0) < 0.3 { 0.0 } else { rng.normal(0.0, 1.0) }).collect();
                let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
                let c0: Vec<f32> = (0..m * n).map(|_| rng.normal(0.0, 1.0)).collect();
                let s0: Vec<f32> = (0..m).map(|_| rng.normal(0.0, 1.0)).collect();
                let (mut c, mut sums) = (c0.clone(), s0.clone());
                gemm_row_sums(m, k, n, &a, ta, &b, tb, beta, &mut c, &mut sums);
                let mut plain = c0.clone();
                gemm(m, k, n, &a, ta, &b, tb, beta, &mut plain);
                // the unfused bias gradient: db += each row of dY (op(A)ᵀ) in turn
                let mut want = s0.clone();
                for p in 0..k {
                    for (i, s) in want.iter_mut().enumerate() {
                        *s += if ta == Op::T { a[p * m + i] } else { a[i * k + p] };
                    }
                }
                for (i, (x, w)) in sums.iter().zip(&want).enumerate() {
                    assert_eq!(x.to_bits(), w.to_bits(), "{m}x{k}x{n} {ta:?}{tb:?} beta {beta}, sum {i}: {x} fused vs {w}");
                }
                for (i, (x, w)) in c.iter().zip(&plain).enumerate() {
                    assert_eq!(x.to_bits(), w.to_bits(), "{m}x{k}x{n} {ta:?}{tb:?} beta {beta}, C[{i}]: {x} vs {w}");
                }
            }
        }
    }
}

/// The packed product reading an operand as rows gathered from a larger table
/// (`Rows::gathered`: a mini-batch read straight from the training set into the panels) gives
/// bit for bit the product of the rows copied out first: the first layer's forward (A
/// gathered, with bias and ReLU) and its weight gradient (B gathered, with the row sums), for
/// both layouts, with rows repeated and out of order, across the block edges.
pub fn check_gathered_rows() {
    use descent::backend::packed::{gemm_bias_relu, gemm_row_sums};
    use descent::backend::{Op, Rows};
    let mut rng = descent::Rng::new(36);
    let copy = |table: &[f32], pick: &[usize], len: usize| -> Vec<f32> {
        pick.iter().flat_map(|&r| table[r * len..(r + 1) * len].iter().copied()).collect()
    };
    for &(m, k, n) in &[(64, 784, 256), (7, 300, 33), (70, 513, 9), (3, 1, 17), (64, 784, 2100)] {
        for t in [Op::N, Op::T] {
            // stored rows of the gathered operand: op(A) is m × k, so A is stored m × k (N) or k × m (T)
            let (rows, len) = if t == Op::N { (m, k) } else { (k, m) };
            let table: Vec<f32> = (0..(rows + 9) * len).map(|_| if rng.uniform(0.0, 1.0) < 0.7 { 0.0 } else { rng.normal(0.0, 1.0) }).collect();
            let mut pick: Vec<usize> = (0..rows).map(|i| (i * 31 + 5) % (rows + 9)).collect();
            pick[rows - 1] = pick[0]; // a row picked twice
            let a = copy(&table, &pick, len);
            let w: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
            let bias: Vec<f32> = (0..n).map(|_| rng.normal(0.0, 1.0)).collect();
            let (mut got, mut want) = (vec![f32::NAN; m * n], vec![0.0; m * n]);
            gemm_bias_relu(m, k, n, Rows::gathered(&table, &pick), t, &w, Op::T, &bias, true, &mut got);
            gemm_bias_relu(m, k, n, &a, t, &w, Op::T, &bias, true, &mut want);
            assert!(got.iter().zip(&want).all(|(g, w)| g.to_bits() == w.to_bits()), "forward {m}x{k}x{n} A {t:?} gathered");
            // the weight gradient: op(B) (k × n) gathered, B stored k × n (N) or n × k (T)
            let (rows, len) = if t == Op::N { (k, n) } else { (n, k) };
            let table: Vec<f32> = (0..(rows + 3) * len).map(|_| if rng.uniform(0.0, 1.0) < 0.7 { 0.0 } else { rng.normal(0.0, 1.0) }).collect();
            let pick: Vec<usize> = (0..rows).rev().map(|i| (i * 7) % (rows + 3)).collect();
            let b = copy(&table, &pick, len);
            let dy: Vec<f32> = (0..m * k).map(|_| rng.normal(0.0, 1.0)).collect();
            let (mut got, mut want) = (vec![f32::NAN; m * n], vec![0.0; m * n]);
            let (mut gs, mut ws) = (vec![0.5; m], vec![0.5; m]);
            gemm_row_sums(m, k, n, &dy, Op::N, Rows::gathered(&table, &pick), t, 0.0, &mut got, &mut gs);
            gemm_row_sums(m, k, n, &dy, Op::N, &b, t, 0.0, &mut want, &mut ws);
            assert!(got.iter().zip(&want).all(|(g, w)| g.to_bits() == w.to_bits()), "weight gradient {m}x{k}x{n} B {t:?} gathered");
            assert_eq!(gs, ws);
        }
    }
}

/// A training step with every fusion (bias and ReLU in the forward's write-back, the bias
/// gradient in the weight gradient's packing, ReLU's backward in the input gradient's
/// write-back, buffers reused from step to step) gives bit for bit the gradients of the same
/// step taken apart into the unfused layer operations: `Mlp::train_step` (Adam applied layer
/// by layer, gradients written) for three steps, so reused buffers hold stale values, then
/// `Mlp::train_batch` (gradients added to zeroed ones). Steps 0 and 2 hand `train_step` the
/// batch as rows of a larger table (`Rows::gathered`, as the trainer does), step 1 as a
/// matrix of its own.
pub fn check_fused_step() {
    use descent::backend::{gemm, Op, Rows};
    use descent::nn::{loss, Mlp, MlpSpec};
    let sizes = [40usize, 24, 16, 10];
    let mut mlp = Mlp::new(MlpSpec::new(&sizes, Activation::Relu), 5).unwrap();
    let mut adam = descent::optim::build("adam", &serde_json::json!({"lr": 0.01})).unwrap();
    let mut rng = descent::Rng::new(35);
    let table: Vec<f32> = (0..50 * sizes[0]).map(|_| if rng.uniform(0.0, 1.0) < 0.6 { 0.0 } else { rng.uniform(0.0, 1.0) }).collect();
    for step in 0..4 {
        let batch = [12usize, 12, 7, 12][step];
        let pick: Vec<usize> = (0..batch).map(|i| (i * 17 + step * 5) % 50).collect();
        let x: Vec<f32> = pick.iter().flat_map(|&r| table[r * sizes[0]..(r + 1) * sizes[0]].iter().copied()).collect();
        let labels: Vec<u32> = (0..batch).map(|i| (i * 3 % 10) as u32).collect();
        let (p, layout) = (mlp.parameters().to_vec(), mlp.layout());
        // train_step writes dW (beta 0); train_batch adds it to zeroed gradients (beta 1)
        let beta = if step < 3 {
            let rows = if step == 1 { Rows::dense(&x) } else { Rows::gathered(&table, &pick) };
            let (_, _, updated) = mlp.train_step(rows, &labels, Reduction::Mean, f32::MAX, adam.parts().unwrap()).unwrap();
            assert!(updated && mlp.parameters() != &p[..]);
            0.0
        } else {
            mlp.train_batch(&x, &labels, Reduction::Mean, Penalty::default()).unwrap();
            1.0
        };
        // the same step, one unfused operation at a time, from the parameters before it
        let mut acts = vec![x.clone()];
        for (l, s) in layout.iter().enumerate() {
            let mut z: Vec<f32> = p[s.b.clone()].iter().copied().cycle().take(batch * s.fan_out).collect();
            gemm(batch, s.fan_in, s.fan_out, &acts[l], Op::N, &p[s.w.clone()], Op::T, 1.0, &mut z);
            if l + 1 < layout.len() {
                Activation::Relu.forward(&mut z);
            }
            acts.push(z);
        }
        let (_, mut d) = loss::cross_entropy(acts.last().unwrap(), &labels, 10, Reduction::Mean).unwrap();
        let mut want = vec![0f32; p.len()];
        for (l, s) in layout.iter().enumerate().rev() {
            gemm(s.fan_out, batch, s.fan_in, &d, Op::T, &acts[l], Op::N, beta, &mut want[s.w.clone()]);
            for row in d.chunks_exact(s.fan_out) {
                want[s.b.clone()].iter_mut().zip(row).for_each(|(g, &v)| *g += v);
            }
            if l > 0 {
                let mut dx = vec![0.0; batch * s.fan_in];
                gemm(batch, s.fan_out, s.fan_in, &d, Op::N, &p[s.w.clone()], Op::N, 0.0, &mut dx);
                Activation::Relu.backward(&acts[l], &mut dx);
                d = dx;
            }
        }
        let got = mlp.gradients();
        assert!(got.iter().filter(|&&g| g != 0.0).count() > got.len() / 4);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.to_bits(), w.to_bits(), "step {step}, gradient {i}: {g} fused vs {w}");
        }
    }
}
