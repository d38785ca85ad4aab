//! The trainer on the WebGPU engine: the same record as on the CPU engine, and a lost device
//! handing the run over to the CPU without losing it.

use super::common::{assert_close, gpu, normal};
use descent::data::Dataset;
use descent::nn::{Activation, Mlp, MlpSpec, Penalty, Reduction};
use descent::train::{Status, TrainConfig, Trainer};
use descent::web::gpu::{GpuContext, GpuEngine};
use serde_json::{json, Value};
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

/// A seeded data set: `n` examples of `features` values, labels from a linear rule.
fn dataset(n: usize, features: usize, classes: usize, seed: u64) -> Arc<Dataset> {
    let x = normal(n * features, seed);
    let labels = x.chunks_exact(features).map(|r| ((r[0] - r[1]).abs() * 2.0) as usize % classes).map(|c| c as u8).collect();
    Arc::new(Dataset::new(x, labels, features, classes).unwrap())
}

/// Let the browser run its tasks (the readback's mapAsync resolves on one).
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let window = web_sys::window().expect("a window");
        window.set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), 0).expect("setTimeout");
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.expect("timeout");
}

/// Drive a trainer on the GPU engine to its end, optionally destroying its device once
/// `lose_after` steps are booked; a frame takes steps until the engine is busy or 5 ms pass.
async fn finish(t: &mut Trainer, lose_after: Option<(usize, &GpuContext)>) {
    let mut lost = false;
    for _ in 0..100_000 {
        if let Some((at, ctx)) = lose_after {
            if !lost && t.steps() >= at {
                ctx.device.destroy();
                lost = true;
            }
        }
        let start = js_sys::Date::now();
        while *t.step().unwrap() == Status::Running && !t.waiting() && js_sys::Date::now() - start < 5.0 {}
        if *t.status() != Status::Running {
            return;
        }
        next_task().await;
    }
    panic!("the GPU run never finished");
}

fn setup(optimizer: &str, options: &Value) -> (Mlp, Arc<Dataset>, Arc<Dataset>, TrainConfig, Trainer) {
    let (train, validation) = (dataset(150, 12, 4, 1), dataset(60, 12, 4, 2));
    let spec = MlpSpec { batch_norm: vec![true], ..MlpSpec::new(&[12, 24, 4], Activation::Relu) };
    let model = Mlp::new(spec, 5).unwrap();
    let cfg = TrainConfig { batch_size: 16, epochs: 2, reduction: Reduction::Mean, seed: 9, ..TrainConfig::default() };
    let mut trainer =
        Trainer::new(model.clone(), descent::optim::build(optimizer, options).unwrap(), train.clone(), validation.clone(), cfg.clone()).unwrap();
    trainer.run().unwrap();
    (model, train, validation, cfg, trainer)
}

fn assert_same_record(what: &str, s: &Trainer, t: &Trainer) {
    let (g, c) = (s.history(), t.history());
    assert_eq!(s.steps(), t.steps(), "{what}: steps");
    assert_close(&format!("{what}: step losses"), &g.step_loss, &c.step_loss, |i| 1e-4 * c.step_loss[i].abs().max(1.0));
    assert_eq!(g.epochs.len(), c.epochs.len(), "{what}: epochs");
    for (a, b) in g.epochs.iter().zip(&c.epochs) {
        assert_eq!((a.epoch, a.step), (b.epoch, b.step), "{what}");
        assert!((a.train_loss - b.train_loss).abs() < 1e-4 && (a.val_loss - b.val_loss).abs() < 1e-4, "{what}: {a:?} vs {b:?}");
        assert!((a.train_error - b.train_error).abs() < 0.02 && (a.val_error - b.val_error).abs() < 0.02, "{what}: {a:?} vs {b:?}");
    }
    let want = t.model().parameters();
    let rms = (want.iter().map(|v| v * v).sum::<f32>() / want.len() as f32).sqrt();
    assert_close(&format!("{what}: parameters"), s.model().parameters(), want, |i| 1e-4 * want[i].abs().max(rms));
}

/// Checks inside epochs hold the GPU run at each check step: the checks land at the same
/// steps with the same numbers as on the CPU, and the training itself is unchanged.
/// (SGD, not Adam: the Linear bias in front of a batch-norm has an analytic gradient of 0, so
/// its gradient is rounding noise, which differs between the devices; Adam normalizes that
/// noise into ±lr steps, invisible in training mode, where batch-norm subtracts the bias, but
/// not in evaluation mode, which uses the running mean.)
#[wasm_bindgen_test]
async fn validation_checks_inside_epochs_are_the_cpus_on_the_gpu() {
    let Some(ctx) = gpu("GPU checks").await else { return };
    let options = json!({"lr": 0.05, "momentum": 0.9});
    let (model, train, validation, cfg, _) = setup("sgd", &options);
    let cfg = TrainConfig { checks_per_epoch: 3, ..cfg };
    let opt = descent::optim::build("sgd", &options).unwrap();
    let mut cpu = Trainer::new(model.clone(), opt, train.clone(), validation.clone(), cfg.clone()).unwrap();
    cpu.run().unwrap();
    let engine = GpuEngine::new(ctx, model, "sgd", &options, &cfg).unwrap();
    let mut t = Trainer::with_engine(Box::new(engine), train, validation, cfg).unwrap();
    finish(&mut t, None).await;
    assert_same_record("sgd momentum + batch-norm, 3 checks an epoch", &t, &cpu);
    let (g, c) = (&t.history().checks, &cpu.history().checks);
    assert_eq!(c.iter().map(|k| k.step).collect::<Vec<_>>(), [3, 7, 10, 13, 17, 20], "the CPU's check steps");
    assert_eq!(g.iter().map(|k| k.step).collect::<Vec<_>>(), c.iter().map(|k| k.step).collect::<Vec<_>>(), "the same steps on the GPU");
    for (a, b) in g.iter().zip(c) {
        assert!((a.val_loss - b.val_loss).abs() < 1e-4 && (a.val_error - b.val_error).abs() < 0.02, "{a:?} vs {b:?}");
    }
}

/// Early stopping with restoreBest on the GPU: the rule fires at the CPU's check, and the
/// restored model (weights and batch-norm statistics, from the synced model at the best check)
/// is the CPU's, which is the model of the same seed trained for the best check's epochs.
#[wasm_bindgen_test]
async fn an_early_stopped_run_restores_the_best_on_the_gpu_too() {
    use descent::train::early_stopping::{Criterion, EarlyStopping, Monitor, Rule};
    let Some(ctx) = gpu("GPU early stopping").await else { return };
    let options = json!({"lr": 0.3, "momentum": 0.9});
    let (model, train, validation, cfg, _) = setup("sgd", &options);
    let rule = EarlyStopping { monitor: Monitor::ValLoss, rule: Rule { patience: 1.0, ..Rule::new(Criterion::Patience) } };
    let cfg = TrainConfig { epochs: 12, early_stopping: Some(rule), ..cfg };
    let opt = || descent::optim::build("sgd", &options).unwrap();
    let mut cpu = Trainer::new(model.clone(), opt(), train.clone(), validation.clone(), cfg.clone()).unwrap();
    while *cpu.step().unwrap() == Status::Running {}
    let engine = GpuEngine::new(ctx, model.clone(), "sgd", &options, &cfg).unwrap();
    let mut t = Trainer::with_engine(Box::new(engine), train.clone(), validation.clone(), cfg.clone()).unwrap();
    finish(&mut t, None).await;
    assert_eq!(t.status(), cpu.status(), "the same ending");
    assert_eq!((t.stopped_at(), t.best_check()), (cpu.stopped_at(), cpu.best_check()), "at the same checks");
    let best = cpu.best_check().expect("a best check");
    let want = cpu.model().parameters();
    let rms = (want.iter().map(|v| v * v).sum::<f32>() / want.len() as f32).sqrt();
    assert_close("restored on the GPU", t.model().parameters(), want, |i| 1e-4 * want[i].abs().max(rms));
    let mut plain = Trainer::new(model, opt(), train, validation, TrainConfig { epochs: best, early_stopping: None, ..cfg }).unwrap();
    plain.run().unwrap();
    assert_eq!(plain.model().parameters(), want, "the CPU's restored best is the run of {best} epochs");
    let (a, b) = (t.model().running_stats(0).unwrap(), plain.model().running_stats(0).unwrap());
    assert_close("restored running mean", a.0, b.0, |i| 1e-4 * b.0[i].abs().max(1.0));
    assert_close("restored running var", a.1, b.1, |i| 1e-4 * b.1[i].abs().max(1.0));
}

#[wasm_bindgen_test]
async fn the_trainer_keeps_the_same_record_on_the_gpu_engine() {
    let Some(ctx) = gpu("GPU engine").await else { return };
    let options = json!({"lr": 0.05, "momentum": 0.9});
    let (model, train, validation, cfg, trainer) = setup("sgd", &options);
    let engine = GpuEngine::new(ctx.clone(), model, "sgd", &options, &cfg).unwrap();
    let mut t = Trainer::with_engine(Box::new(engine), train, validation, cfg).unwrap();
    assert_eq!(t.engine().label(), "WebGPU");
    let (submits0, maps0) = ctx.traffic();
    finish(&mut t, None).await;
    assert_eq!(*t.status(), Status::Finished);
    assert_same_record("sgd momentum + batch-norm", &t, &trainer);
    // One submit per step; a sync (here: each of the 2 epochs' ends) is one copy and one map.
    let (submits, maps) = (ctx.traffic().0 - submits0, ctx.traffic().1 - maps0);
    assert_eq!(maps, 2, "readbacks of 20 steps in 2 epochs");
    assert_eq!(submits, 20 + maps, "a submit per step, and one per readback");
    assert!(t.engine().notice().is_none());
    // every optimizer and the L1/L2 penalty start on the GPU
    let penalized = TrainConfig { penalty: Penalty::new(1e-3, 1e-3), ..trainer.config().clone() };
    for name in descent::optim::NAMES {
        let ctx = gpu("GPU engine").await.expect("a device");
        let e = GpuEngine::new(ctx, trainer.model().clone(), name, &json!({}), &penalized);
        assert!(e.is_ok(), "{name}: {:?}", e.err());
    }
}

/// Drive a trainer to exactly `step` booked steps, synced (`Trainer::step_to`).
async fn reach(t: &mut Trainer, step: usize) {
    for _ in 0..100_000 {
        if t.step_to(step).unwrap() {
            t.hold_after(None);
            return;
        }
        if t.waiting() {
            next_task().await;
        }
    }
    panic!("never reached step {step}");
}

/// λ moved (and L1 switched to proximal) while the run trains: the GPU session takes the new
/// penalty from the next step, as the CPU does, and the record marks the change.
#[wasm_bindgen_test]
async fn a_penalty_changed_mid_run_applies_on_the_gpu_as_on_the_cpu() {
    let Some(ctx) = gpu("penalty changed mid-run").await else { return };
    let options = json!({"lr": 0.1});
    let (model, train, validation, cfg, _) = setup("sgd", &options);
    let cfg = TrainConfig { penalty: Penalty::new(0.0, 1e-2), ..cfg };
    let changed = Penalty::new(0.05, 0.0).proximal();
    let mut cpu =
        Trainer::new(model.clone(), descent::optim::build("sgd", &options).unwrap(), train.clone(), validation.clone(), cfg.clone()).unwrap();
    let engine = GpuEngine::new(ctx, model, "sgd", &options, &cfg).unwrap();
    let mut on_gpu = Trainer::with_engine(Box::new(engine), train, validation, cfg).unwrap();
    for t in [&mut cpu, &mut on_gpu] {
        reach(t, 4).await;
        t.set_penalty(changed).unwrap();
    }
    cpu.run().unwrap();
    finish(&mut on_gpu, None).await;
    assert_eq!(on_gpu.history().marks, vec![(4, "λ₁ → 0.05, λ₂ → 0, L1 proximal".to_string())]);
    assert_eq!(cpu.history().marks, on_gpu.history().marks);
    assert_same_record("penalty changed at step 4", &on_gpu, &cpu);
    let zeros = on_gpu.model().weight(0).iter().filter(|&&w| w == 0.0).count();
    assert!(zeros > 0, "the proximal L1 from step 4 on made exact zeros on the GPU");
}

#[wasm_bindgen_test]
async fn a_lost_device_hands_the_run_to_the_cpu_from_the_last_readback() {
    // A device of its own: this test destroys it.
    if gpu("device loss").await.is_none() {
        return;
    }
    let ctx: Rc<GpuContext> = GpuContext::request().await.unwrap().expect("a second device");
    // The momentum buffer (and step count) is read back with the parameters and handed to the
    // CPU optimizer, so the handed-over run must end where the CPU's does; with the buffer
    // started afresh it would not. (Adam would serve too, but it divides by √v and so
    // magnifies f32 rounding past this test's 1e-4.)
    let options = json!({"lr": 0.05, "momentum": 0.9});
    let (model, train, validation, cfg, trainer) = setup("sgd", &options);
    let engine = GpuEngine::new(ctx.clone(), model, "sgd", &options, &cfg).unwrap();
    let mut t = Trainer::with_engine(Box::new(engine), train, validation, cfg).unwrap();
    // after the first epoch's readback: the state handed over is 10 steps old, not empty
    finish(&mut t, Some((10, &ctx))).await;
    assert_eq!(*t.status(), Status::Finished);
    assert_eq!(t.engine().label(), "CPU (SIMD)");
    let notice = t.engine().notice().expect("a notice for the student").to_string();
    assert!(notice.contains("CPU") && notice.contains("with the optimizer's state"), "{notice}");
    wasm_bindgen_test::console_log!("{notice}");
    assert_same_record("after the device was lost", &t, &trainer);
}
