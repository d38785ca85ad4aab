//! A run moved between the CPU and the GPU with its optimizer state: CPU steps, then
//! `GpuMlp::load_optimizer_state` and GPU steps, then `GpuMlp::export_optimizer_state` back
//! into a CPU optimizer, each stage continuing exactly as the CPU alone does.

use super::common::gpu;
use super::train::{assert_same_parameters, batches};
use descent::nn::{Activation, Mlp, MlpSpec, Penalty, Reduction};
use descent::web::gpu::{GpuMlp, GpuTrainConfig};
use serde_json::{json, Value};
use wasm_bindgen_test::*;

/// The run starts on the CPU, moves to the GPU after `k` steps with its optimizer state
/// (`load_optimizer_state`), and back again (`export_optimizer_state`); at each stage it
/// must continue as the CPU alone does.
async fn state_round_trip(optimizer: &str, options: Value, why: &str) {
    let Some(ctx) = gpu(why).await else { return };
    let spec = MlpSpec::new(&[20, 33, 10], Activation::Tanh);
    let penalty = Penalty::new(1e-3, 1e-2);
    let data = batches(20, 10, 16, 9, None);
    let (k, m) = (3, 6); // CPU alone for 0..k, GPU for k..m, CPU again for m..

    let mut cpu = Mlp::new(spec, 7).unwrap();
    let mut opt = descent::optim::build(optimizer, &options).unwrap();
    for (x, labels) in &data[..k] {
        cpu.train_batch(x, labels, Reduction::Mean, penalty).unwrap();
        let (p, g) = cpu.params_and_grads();
        opt.step(p, g).unwrap();
    }

    let cfg = GpuTrainConfig {
        optimizer: optimizer.into(),
        options: options.clone(),
        reduction: Reduction::Mean,
        penalty,
        max_batch: 16,
        readback_every: 8,
    };
    let mut gpu_mlp = GpuMlp::new(ctx, &cpu, &cfg).unwrap();
    gpu_mlp.load_optimizer_state(opt.as_ref()).unwrap();
    for (x, labels) in &data[k..m] {
        cpu.train_batch(x, labels, Reduction::Mean, penalty).unwrap();
        let (p, g) = cpu.params_and_grads();
        opt.step(p, g).unwrap();
        gpu_mlp.step(x, labels).unwrap();
    }
    let params = gpu_mlp.parameters().await.unwrap();
    assert_same_parameters(&format!("{why}: parameters after moving to the GPU"), &params, cpu.parameters());
    let (t, state) = gpu_mlp.export_optimizer_state().await.unwrap();
    assert_eq!(t, opt.steps(), "{why}: step count on the GPU");
    let cpu_state = opt.state();
    assert_eq!(
        state.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        cpu_state.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        "{why}: state names"
    );
    for ((key, got), (_, want)) in state.iter().zip(&cpu_state) {
        assert_same_parameters(&format!("{why}: {key} after moving to the GPU"), got, want);
    }

    // Back to the CPU: a fresh optimizer from the GPU's state continues as the original does.
    let mut back = descent::optim::build(optimizer, &options).unwrap();
    for (key, values) in &state {
        back.set_state(key, values).unwrap();
    }
    back.set_steps(t);
    let mut other = cpu.clone();
    for (x, labels) in &data[m..] {
        for (model, o) in [(&mut cpu, &mut opt), (&mut other, &mut back)] {
            model.train_batch(x, labels, Reduction::Mean, penalty).unwrap();
            let (p, g) = model.params_and_grads();
            o.step(p, g).unwrap();
        }
    }
    assert_same_parameters(&format!("{why}: parameters after moving back to the CPU"), other.parameters(), cpu.parameters());
}

#[wasm_bindgen_test]
async fn optimizer_state_moves_between_cpu_and_gpu() {
    // (optimizer, options, why): each depends on its state and, for SGD and Adam, on the count.
    let rows = [
        ("sgd", json!({"lr": 0.1, "momentum": 0.9, "dampening": 0.2}), "SGD momentum (the first-step buffer)"),
        ("rprop", json!({"lr": 0.01}), "Rprop (step sizes and previous gradients)"),
        ("rmsprop", json!({"lr": 0.01, "centered": true, "momentum": 0.5}), "centred RMSprop with momentum"),
        ("adam", json!({"lr": 0.01, "amsgrad": true}), "Adam with AMSGrad (bias corrections from the count)"),
        ("adamw", json!({"lr": 0.01, "weight_decay": 0.1}), "AdamW"),
    ];
    for (optimizer, options, why) in rows {
        state_round_trip(optimizer, options, why).await;
    }
}

#[wasm_bindgen_test]
async fn loading_refuses_another_optimizer() {
    let Some(ctx) = gpu("load refusals").await else { return };
    let cpu = Mlp::new(MlpSpec::new(&[4, 3], Activation::Relu), 1).unwrap();
    let cfg = GpuTrainConfig {
        optimizer: "rmsprop".into(),
        options: json!({"centered": true}),
        reduction: Reduction::Mean,
        penalty: Penalty::default(),
        max_batch: 2,
        readback_every: 2,
    };
    let mut g = GpuMlp::new(ctx, &cpu, &cfg).unwrap();
    let mut adam = descent::optim::build("adam", &json!({})).unwrap();
    adam.step(&mut [0.0; 15], &[1.0; 15]).unwrap();
    assert_eq!(g.load_optimizer_state(adam.as_ref()).unwrap_err(), "cannot load adam state into the GPU's rmsprop");
    let mut plain = descent::optim::build("rmsprop", &json!({})).unwrap();
    plain.step(&mut [0.0; 15], &[1.0; 15]).unwrap();
    let err = g.load_optimizer_state(plain.as_ref()).unwrap_err();
    assert!(err.contains("keeps no 'grad_avg'"), "{err}");
    let ctx = g.context().clone();
    let err = g.optimizer_mut().set_state(&ctx, "square_avg", &[1.0; 14]).unwrap_err();
    assert!(err.contains("holds 15 values per tensor but 14"), "{err}");
    let bad = GpuTrainConfig { penalty: Penalty::new(-1.0, 0.0), ..cfg };
    assert!(GpuMlp::new(ctx, &cpu, &bad).is_err(), "a negative L1 strength is refused");
}
