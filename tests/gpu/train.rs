//! Whole training steps: the GPU session against `nn::Mlp` + `optim` from the same initial
//! parameters on the same batches, for every optimizer and the L1/L2 penalty (L1 by subgradient
//! and by its proximal step).

use super::common::{gpu, normal};
use descent::nn::{Activation, Mlp, MlpSpec, Penalty, Reduction};
use descent::web::gpu::{GpuMlp, GpuTrainConfig};
use serde_json::{json, Value};
use wasm_bindgen_test::*;

/// `steps` batches of `batch` rows (the last one `tail` rows, when given) of seeded data.
pub(super) fn batches(inputs: usize, classes: usize, batch: usize, steps: usize, tail: Option<usize>) -> Vec<(Vec<f32>, Vec<u32>)> {
    (0..steps)
        .map(|s| {
            let m = if s + 1 == steps { tail.unwrap_or(batch) } else { batch };
            let x = normal(m * inputs, 1000 + s as u64);
            let labels = (0..m).map(|i| ((i * 3 + s * 5) % classes) as u32).collect();
            (x, labels)
        })
        .collect()
}

/// Element-wise closeness at 1e-4 relative, with the floor at 1e-4 of the vector's RMS (a
/// weight that happens to be near 0 is compared on the scale of its neighbours).
pub(super) fn assert_same_parameters(what: &str, got: &[f32], want: &[f32]) {
    let rms = (want.iter().map(|v| v * v).sum::<f32>() / want.len() as f32).sqrt();
    super::common::assert_close(what, got, want, |i| 1e-4 * want[i].abs().max(rms));
}

struct Case {
    spec: MlpSpec,
    optimizer: &'static str,
    options: Value,
    reduction: Reduction,
    penalty: Penalty,
    batch: usize,
    tail: Option<usize>,
    steps: usize,
    readback_every: usize,
    /// Before this step (0-based), change the dropout probabilities (hidden, input) and/or the
    /// optimizer's weight_decay on both paths, as a student moving a slider mid-run does.
    mid: Option<Mid>,
    why: &'static str,
}

#[derive(Clone, Default)]
struct Mid {
    step: usize,
    dropout: Option<(Vec<f32>, f32)>,
    weight_decay: Option<f32>,
}

async fn run_case(c: Case) {
    let Some(ctx) = gpu(c.why).await else { return };
    let mut cpu = Mlp::new(c.spec.clone(), 7).unwrap();
    let cfg = GpuTrainConfig {
        optimizer: c.optimizer.into(),
        options: c.options.clone(),
        reduction: c.reduction,
        penalty: c.penalty,
        max_batch: c.batch,
        readback_every: c.readback_every,
    };
    let mut gpu_mlp = GpuMlp::new(ctx.clone(), &cpu, &cfg).unwrap();
    let (submits0, maps0) = ctx.traffic();
    let mut opt = descent::optim::build(c.optimizer, &c.options).unwrap();
    let (inputs, classes) = (cpu.inputs(), cpu.classes());
    let mut cpu_losses = Vec::new();
    let mut gpu_losses = Vec::new();
    for (s, (x, labels)) in batches(inputs, classes, c.batch, c.steps, c.tail).into_iter().enumerate() {
        if let Some(mid) = c.mid.as_ref().filter(|m| m.step == s) {
            if let Some((hidden, input)) = &mid.dropout {
                cpu.set_dropout(hidden, *input).unwrap();
                gpu_mlp.set_dropout(&cpu).unwrap();
            }
            if let Some(wd) = mid.weight_decay {
                opt.set_weight_decay(wd).unwrap();
                gpu_mlp.optimizer_mut().set_weight_decay(wd).unwrap();
            }
        }
        let (loss, wrong) = cpu.train_batch(&x, &labels, c.reduction, c.penalty).unwrap();
        let (p, g) = cpu.params_and_grads();
        opt.step(p, g).unwrap();
        cpu.proximal_step(&c.penalty, opt.lr()); // nothing unless L1 is proximal
        cpu_losses.push((loss, wrong));
        if gpu_mlp.needs_readback() {
            gpu_losses.extend(gpu_mlp.take_losses().await.unwrap());
        }
        gpu_mlp.step(&x, &labels).unwrap();
    }
    // One submit per step, and the losses mapped back only when the ring of N is full.
    let (submits, maps) = ctx.traffic();
    assert_eq!(submits - submits0, c.steps as u64, "{}: submits for {} steps", c.why, c.steps);
    assert_eq!(maps - maps0, ((c.steps - 1) / c.readback_every) as u64, "{}: readbacks for {} steps", c.why, c.steps);
    gpu_losses.extend(gpu_mlp.take_losses().await.unwrap());
    let params = gpu_mlp.parameters().await.unwrap();
    assert_same_parameters(&format!("{}: parameters after {} steps", c.why, c.steps), &params, cpu.parameters());
    if c.penalty.prox_threshold(opt.lr()).is_some() {
        // the soft-threshold puts weights on exactly 0 on both paths: the same ones, up to the
        // few whose |w| sits within rounding of η·λ₁ (none were seen; 1% are allowed)
        let zeros = |p: &[f32]| -> Vec<usize> { cpu.weight_ranges().into_iter().flatten().filter(|&i| p[i] == 0.0).collect() };
        let (gz, cz) = (zeros(&params), zeros(cpu.parameters()));
        let n: usize = cpu.weight_ranges().iter().map(|r| r.len()).sum();
        assert!(cz.len() >= n / 10, "{}: only {} of {n} weights exactly 0 on the CPU: the test shows nothing", c.why, cz.len());
        let shared = gz.iter().filter(|i| cz.binary_search(i).is_ok()).count();
        assert!(shared * 100 >= 99 * cz.len().max(gz.len()), "{}: exact zeros GPU {} CPU {} shared {shared}", c.why, gz.len(), cz.len());
    }
    assert_eq!(gpu_losses.len(), c.steps, "{}: one loss record per step", c.why);
    for (s, ((gl, gw), (cl, cw))) in gpu_losses.iter().zip(&cpu_losses).enumerate() {
        assert!((gl - cl).abs() <= 1e-4 * cl.abs().max(1.0), "{}: step {s} loss {gl} vs {cl}", c.why);
        assert_eq!(gw, cw, "{}: step {s} misclassified rows", c.why);
    }
    for l in 0..cpu.num_layers() {
        if let Some((mean, var)) = gpu_mlp.running_stats(l).await.unwrap() {
            let (cm, cv) = cpu.running_stats(l).unwrap();
            assert_same_parameters(&format!("{}: layer {l} running_mean", c.why), &mean, cm);
            assert_same_parameters(&format!("{}: layer {l} running_var", c.why), &var, cv);
        }
    }
    for (key, want) in opt.state() {
        let got = gpu_mlp.optimizer_state(key).await.unwrap().unwrap_or_else(|| panic!("{}: no {key} on the GPU", c.why));
        assert_same_parameters(&format!("{}: {key}", c.why), &got, want);
    }
}

#[wasm_bindgen_test]
async fn sgd_momentum_training_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec::new(&[20, 33, 17, 10], Activation::Relu),
        optimizer: "sgd",
        options: json!({"lr": 0.1, "momentum": 0.9}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        batch: 16,
        tail: Some(5),
        steps: 6,
        readback_every: 4,
        mid: None,
        why: "relu MLP, SGD momentum, a smaller last batch",
    })
    .await;
}

#[wasm_bindgen_test]
async fn adam_training_with_summed_loss_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec::new(&[30, 40, 10], Activation::Tanh),
        optimizer: "adam",
        options: json!({"lr": 0.01}),
        reduction: Reduction::Sum,
        penalty: Penalty::default(),
        batch: 24,
        tail: None,
        steps: 5,
        readback_every: 5,
        mid: None,
        why: "tanh MLP, Adam, summed loss",
    })
    .await;
}

#[wasm_bindgen_test]
async fn adamw_amsgrad_training_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec::new(&[20, 33, 10], Activation::Sigmoid),
        optimizer: "adamw",
        options: json!({"lr": 0.01, "weight_decay": 0.1, "amsgrad": true}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        batch: 10,
        tail: None,
        steps: 4,
        readback_every: 3,
        mid: None,
        why: "sigmoid MLP, AdamW with AMSGrad",
    })
    .await;
}

// SGD, not Adam, on purpose: a Linear bias right before batch-norm has a true gradient of 0
// (the normalization subtracts it out again), so both paths compute rounding noise of about
// 1e-9 for it, different noise on each. SGD moves the bias by lr·noise, invisible; Adam divides
// the noise by its own RMS and moves the bias by ±lr either way, and the two paths part.
#[wasm_bindgen_test]
async fn batch_norm_training_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec { batch_norm: vec![true], ..MlpSpec::new(&[12, 70, 9, 4], Activation::Sigmoid) },
        optimizer: "sgd",
        options: json!({"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        batch: 32,
        tail: Some(7),
        steps: 5,
        readback_every: 2,
        mid: None,
        why: "batch-norm sigmoid MLP, SGD",
    })
    .await;
}

#[wasm_bindgen_test]
async fn mnist_sized_step_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec::new(&[784, 128, 10], Activation::LeakyRelu),
        optimizer: "sgd",
        options: json!({"lr": 0.05, "nesterov": true, "momentum": 0.5, "weight_decay": 1e-3}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        batch: 64,
        tail: None,
        steps: 3,
        readback_every: 50,
        mid: None,
        why: "784-128-10 leaky relu, Nesterov",
    })
    .await;
}

#[wasm_bindgen_test]
async fn rprop_training_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec::new(&[20, 33, 17, 10], Activation::Relu),
        optimizer: "rprop",
        options: json!({"lr": 0.02, "etas": [0.4, 1.3], "step_sizes": [1e-4, 0.05]}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        batch: 16,
        tail: Some(5),
        steps: 7,
        readback_every: 3,
        mid: None,
        why: "relu MLP, Rprop with its own etas and step-size bounds",
    })
    .await;
}

#[wasm_bindgen_test]
async fn rprop_maximize_training_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec::new(&[12, 24, 4], Activation::Tanh),
        optimizer: "rprop",
        options: json!({"maximize": true}),
        reduction: Reduction::Sum,
        penalty: Penalty::default(),
        batch: 8,
        tail: None,
        steps: 5,
        readback_every: 5,
        mid: None,
        why: "tanh MLP, Rprop at its defaults climbing the loss",
    })
    .await;
}

#[wasm_bindgen_test]
async fn rmsprop_centered_momentum_training_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec::new(&[30, 40, 10], Activation::Tanh),
        optimizer: "rmsprop",
        options: json!({"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01, "momentum": 0.5, "centered": true}),
        reduction: Reduction::Sum,
        penalty: Penalty::default(),
        batch: 24,
        tail: Some(9),
        steps: 6,
        readback_every: 4,
        mid: None,
        why: "tanh MLP, centred RMSprop with momentum and weight decay, summed loss",
    })
    .await;
}

#[wasm_bindgen_test]
async fn rmsprop_plain_training_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec::new(&[20, 33, 17, 10], Activation::Sigmoid),
        optimizer: "rmsprop",
        options: json!({"lr": 0.01}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        batch: 16,
        tail: None,
        steps: 5,
        readback_every: 2,
        mid: None,
        why: "sigmoid MLP, plain RMSprop",
    })
    .await;
}

// SGD with batch-norm, for the reason given above; the penalty must leave γ and β alone.
#[wasm_bindgen_test]
async fn sgd_with_l1_and_l2_penalties_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec { batch_norm: vec![true], ..MlpSpec::new(&[12, 70, 9, 4], Activation::Relu) },
        optimizer: "sgd",
        options: json!({"lr": 0.1, "momentum": 0.9}),
        reduction: Reduction::Mean,
        penalty: Penalty::new(1e-3, 0.05),
        batch: 32,
        tail: Some(7),
        steps: 5,
        readback_every: 2,
        mid: None,
        why: "batch-norm relu MLP, SGD momentum, L1 + L2",
    })
    .await;
}

// Proximal L1: the optimizer steps on the data term and L2, then `prox` soft-thresholds the
// weights by lr·λ₁. 40 × 300 weights span 47 workgroups of `prox`, the last one partly idle.
#[wasm_bindgen_test]
async fn sgd_with_proximal_l1_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec::new(&[40, 300, 10], Activation::Relu),
        optimizer: "sgd",
        options: json!({"lr": 0.2}),
        reduction: Reduction::Mean,
        penalty: Penalty::new(0.2, 1e-3).proximal(),
        batch: 32,
        tail: Some(5),
        steps: 6,
        readback_every: 4,
        mid: None,
        why: "relu MLP, SGD, proximal L1 + L2",
    })
    .await;
}

#[wasm_bindgen_test]
async fn adam_with_proximal_l1_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec::new(&[30, 40, 10], Activation::Tanh),
        optimizer: "adam",
        options: json!({"lr": 0.01}),
        reduction: Reduction::Mean,
        penalty: Penalty::new(1.0, 0.0).proximal(),
        batch: 24,
        tail: None,
        steps: 5,
        readback_every: 5,
        mid: None,
        why: "tanh MLP, Adam, proximal L1 (threshold lr·λ₁)",
    })
    .await;
}

#[wasm_bindgen_test]
async fn adam_with_l2_penalty_matches_the_cpu_path() {
    // Not 784 inputs: Adam divides every gradient by its own RMS, so where the data term and
    // λ₂·w nearly cancel, summation-order noise (larger over 784-long sums) becomes a
    // visible difference. Each layer here still spans many invocations of the penalty kernel.
    run_case(Case {
        spec: MlpSpec::new(&[30, 40, 10], Activation::Tanh),
        optimizer: "adam",
        options: json!({"lr": 0.01}),
        reduction: Reduction::Mean,
        penalty: Penalty::new(0.0, 0.1),
        batch: 24,
        tail: Some(11),
        steps: 5,
        readback_every: 3,
        mid: None,
        why: "tanh MLP, Adam, L2",
    })
    .await;
}

#[wasm_bindgen_test]
async fn dropout_training_replays_and_masks_at_the_drop_rate() {
    let Some(ctx) = gpu("dropout training").await else { return };
    let spec = MlpSpec { dropout: vec![0.5], ..MlpSpec::new(&[16, 64, 5], Activation::Relu) };
    let cpu = Mlp::new(spec, 3).unwrap();
    let cfg = GpuTrainConfig {
        optimizer: "sgd".into(),
        options: json!({"lr": 0.1}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        max_batch: 8,
        readback_every: 10,
    };
    let data = batches(16, 5, 8, 4, None);
    let mut runs = Vec::new();
    for _ in 0..2 {
        let mut g = GpuMlp::new(ctx.clone(), &cpu, &cfg).unwrap();
        for (x, y) in &data {
            g.step(x, y).unwrap();
        }
        let losses = g.take_losses().await.unwrap();
        assert!(losses.iter().all(|(l, _)| l.is_finite()), "{losses:?}");
        runs.push((g.parameters().await.unwrap(), g.gradients().await.unwrap()));
    }
    assert_eq!(runs[0], runs[1], "the same seed replays the same masks");
}

// The CPU draws its dropout masks from the same counter-based generator as the GPU, so a run
// with dropout is the same run on both paths (losses, misclassifications, parameters, state).
#[wasm_bindgen_test]
async fn dropout_training_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec { dropout: vec![0.5, 0.2], ..MlpSpec::new(&[16, 64, 32, 5], Activation::Relu) },
        optimizer: "sgd",
        options: json!({"lr": 0.1, "momentum": 0.9}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        batch: 8,
        tail: Some(3),
        steps: 7,
        readback_every: 3,
        mid: None,
        why: "dropout MLP, SGD with momentum",
    })
    .await;
}

// Input dropout draws the pixels' masks from the same generator (key `INPUT_LAYER`) on both
// paths; the first layer's weight gradient sees the dropped pixels.
#[wasm_bindgen_test]
async fn input_dropout_training_matches_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec { dropout: vec![0.3], input_dropout: 0.2, ..MlpSpec::new(&[16, 24, 5], Activation::Relu) },
        optimizer: "adam",
        options: json!({"lr": 0.01}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        batch: 8,
        tail: None,
        steps: 6,
        readback_every: 4,
        mid: None,
        why: "input dropout MLP, Adam",
    })
    .await;
}

// p moved while the run trains, from none to some (a layer that had no dropout gets it), the
// input's switched on, and AdamW's weight_decay moved at the same step: both paths take the
// change from the same step.
#[wasm_bindgen_test]
async fn dropout_and_weight_decay_moved_mid_run_match_the_cpu_path() {
    run_case(Case {
        spec: MlpSpec { dropout: vec![0.5, 0.0], ..MlpSpec::new(&[16, 32, 24, 5], Activation::Tanh) },
        optimizer: "adamw",
        options: json!({"lr": 0.01, "weight_decay": 0.01}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        batch: 8,
        tail: None,
        steps: 7,
        readback_every: 3,
        mid: Some(Mid { step: 3, dropout: Some((vec![0.1, 0.4], 0.25)), weight_decay: Some(0.5) }),
        why: "dropout and AdamW weight_decay moved at step 3",
    })
    .await;
}
