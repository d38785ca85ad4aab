//! What the "RMSprop and Adam" cell promises, checked natively on the type the page runs
//! (`lab::adaptive::Adaptive`) with the page's own defaults and presets, read from index.html:
//! the claims of the cell's note on real MNIST, and the same traces on a GPU-like engine.

#[path = "common/delayed.rs"]
mod delayed;
#[path = "common/page.rs"]
mod page;

use delayed::Delayed;
use descent::data::{Dataset, Split};
use descent::lab::adaptive::{Adaptive, AdaptiveReport, AdaptiveSpec, ADAM, ADAM_RAW};
use descent::lab::{Clock, Cpu, Data, Device, RunSpec, SystemClock};
use descent::train::{smoothed, CpuEngine, Trainer};
use std::cell::Cell;
use std::sync::Arc;

/// The cell as the page starts it: its inputs' values, layer 1.
fn page_spec(seed: u64) -> AdaptiveSpec {
    let html = page::html();
    AdaptiveSpec {
        seed,
        hidden: page::sizes_of(&html, "adaptive-hidden"),
        batch_size: page::number_of(&html, "adaptive-batch"),
        steps: page::number_of(&html, "adaptive-steps"),
        layer: 1,
        sgd_lr: page::number_of(&html, "adaptive-sgd-lr"),
        rmsprop_lr: page::number_of(&html, "adaptive-rmsprop-lr"),
        adam_lr: page::number_of(&html, "adaptive-adam-lr"),
    }
}

/// The Adam learning rate of each preset button of the cell.
fn presets() -> Vec<f64> {
    let html = page::html();
    let start = html.find("id=\"adaptive\"").unwrap();
    let section = &html[start..start + html[start..].find("</section>").unwrap()];
    section
        .match_indices(" data-preset=")
        .map(|(at, _)| {
            let preset: serde_json::Value = serde_json::from_str(&page::attr(page::tag_at(section, at), "data-preset").unwrap()).unwrap();
            assert_eq!(preset.as_object().unwrap().len(), 1, "a preset sets Adam's lr only: {preset}");
            preset["adam-lr"].as_f64().unwrap()
        })
        .collect()
}

fn mnist(seed: u64) -> Data {
    let split = Split::mnist_default(&page::mnist(), seed).unwrap();
    Data { train: Arc::new(split.train), validation: Arc::new(split.validation) }
}

fn run(data: &Data, spec: AdaptiveSpec, device: &dyn Device, clock: &dyn Clock, budget: f64) -> (Adaptive, usize) {
    let mut lab = Adaptive::new(data, spec, device).unwrap();
    for calls in 1..100_000 {
        if !lab.run_for(budget, clock).unwrap() {
            return (lab, calls);
        }
    }
    panic!("the cell never finished");
}

/// The last smoothed loss of run `i`.
fn loss(r: &AdaptiveReport, i: usize) -> f64 {
    r.runs[i].loss.unwrap()
}

#[test]
fn the_page_defaults_and_presets() {
    let s = page_spec(1);
    assert_eq!((s.hidden.as_slice(), s.batch_size, s.steps), (&[128][..], 64, 200), "the cell's defaults");
    assert_eq!((s.sgd_lr, s.rmsprop_lr, s.adam_lr), (0.3, 0.001, 0.001));
    assert_eq!(presets(), [0.001, 0.02], "PyTorch's default, and where the correction matters");
}

#[test]
fn the_notes_claims_hold_on_mnist() {
    let data = mnist(1);
    let clock = SystemClock::default();
    let sgd_lr = page_spec(1).sgd_lr;
    let [timid, bold] = presets()[..] else { panic!("two presets") };
    let (lab, _) = run(&data, AdaptiveSpec { adam_lr: timid, ..page_spec(1) }, &Cpu, &clock, 50.0);
    let r = lab.report();
    assert_eq!((r.status, r.steps), ("finished", 200));

    // weights of pixels blank in every image have v = 0: counted, left out of the histogram
    let (rms, adam) = (r.rmsprop.as_ref().unwrap(), r.adam.as_ref().unwrap());
    assert!(rms.no_gradient > 0 && adam.no_gradient > 0, "blank pixels: {} / {}", rms.no_gradient, adam.no_gradient);
    // rarely inked pixels get rates hundreds of times SGD's
    let most = lab.rates(ADAM).unwrap().0.into_iter().fold(0.0, f64::max);
    assert!(most > 100.0 * sgd_lr, "Adam's largest rate {most} against SGD's {sgd_lr}");

    // without the correction the first step is (1 − β₁)/√(1 − β₂) ≈ 3.2× too large
    let ratio = r.first_updates[1][0] / r.first_updates[0][0];
    assert!((ratio - 0.1 / 0.001f64.sqrt()).abs() < 0.03, "step 1: {ratio}×");
    // with lr = 0.001 that accident speeds up the start
    assert!(loss(&r, ADAM_RAW) < loss(&r, ADAM), "lr {timid}: uncorrected {} vs corrected {}", loss(&r, ADAM_RAW), loss(&r, ADAM));

    // with lr = 0.02 the uncorrected run leaps too far: its loss climbs before it recovers,
    // and corrected Adam ends lower
    let (lab, _) = run(&data, AdaptiveSpec { adam_lr: bold, ..page_spec(1) }, &Cpu, &clock, 50.0);
    let r = lab.report();
    assert!(loss(&r, ADAM) < loss(&r, ADAM_RAW), "lr {bold}: corrected {} vs uncorrected {}", loss(&r, ADAM), loss(&r, ADAM_RAW));
    let raw = smoothed(&lab.runs().get(ADAM_RAW).history().step_loss, 0.9);
    let low = raw[..20].iter().copied().fold(f64::INFINITY, f64::min);
    let climb = raw[..100].iter().copied().fold(0.0, f64::max);
    assert!(climb > 1.5 * low, "lr {bold}: the uncorrected loss climbs from {low} to {climb}");
    assert!(*raw.last().unwrap() < climb, "and recovers");
}

/// Runs on a CPU engine seen through GPU-like delays: results held back until 4 steps are
/// pending or a sync is asked for, each readback landing 2 calls after it starts.
struct GpuLike;

impl Device for GpuLike {
    fn place(&self, spec: &RunSpec, trainer: &mut Trainer) -> descent::Result<()> {
        let engine = CpuEngine::new(trainer.model().clone(), descent::optim::build(&spec.optimizer, &spec.options)?);
        trainer.set_engine(Box::new(Delayed::new(engine, 4, 2, None)))
    }
}

/// A clock that never moves: only the cell's own rules end a call.
struct Frozen;

impl Clock for Frozen {
    fn now_ms(&self) -> f64 {
        0.0
    }
}

/// A clock that moves on by 1 ms each time it is read.
struct Ticks(Cell<f64>);

impl Clock for Ticks {
    fn now_ms(&self) -> f64 {
        self.0.set(self.0.get() + 1.0);
        self.0.get()
    }
}

#[test]
fn a_gpu_like_engine_gives_the_same_traces_read_out_and_charts() {
    // 60 examples of 12 features in batches of 16: 4 steps an epoch, 10 steps cross two ends
    let mut rng = descent::Rng::new(3);
    let labels: Vec<u8> = (0..60).map(|i| (i % 4) as u8).collect();
    let x = labels
        .iter()
        .flat_map(|&c| (0..12).map(move |j| if j % 4 == c as usize { 1.0 } else { 0.0 }))
        .map(|v: f32| v + rng.normal(0.0, 0.5))
        .collect();
    let d = Arc::new(Dataset::new(x, labels, 12, 4).unwrap());
    let data = Data { train: d.clone(), validation: d };
    let spec = AdaptiveSpec { seed: 2, hidden: vec![16], batch_size: 16, steps: 10, layer: 1, sgd_lr: 0.3, rmsprop_lr: 0.01, adam_lr: 0.02 };

    let (cpu, _) = run(&data, spec.clone(), &Cpu, &Ticks(Cell::new(0.0)), 4.0);
    let (gpu, calls) = run(&data, spec, &GpuLike, &Frozen, f64::INFINITY);
    // every step of every run waits for a readback of 2 calls: a few calls a step, not a spin
    assert!(calls < 100, "{calls} calls");
    for i in [ADAM, ADAM_RAW] {
        assert_eq!(gpu.trace(i).len(), 10);
        assert_eq!(gpu.trace(i), cpu.trace(i), "run {i}: every step traced as on the CPU");
    }
    let json = |lab: &Adaptive| serde_json::to_value(lab.report()).unwrap();
    assert_eq!(json(&gpu), json(&cpu), "the same read-out");
    for name in ["rates", "moments", "loss", "updates"] {
        assert_eq!(gpu.chart(name).unwrap(), cpu.chart(name).unwrap(), "the same {name} chart");
    }
}
