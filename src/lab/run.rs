//! One training run as a cell describes it: a [`RunSpec`] (plain data, camelCase JSON, PyTorch's
//! names for the optimizer's options) built into a [`Trainer`] on a train/validation pair.
//!
//! Every cell that trains builds its runs here, so a run is the same wherever it is built
//! (the page, a worker, a native test): the network `[features, hidden…, classes]` from
//! `seed` (init, batch-norm, dropout), the optimizer from its name and options, the batch
//! order from the same `seed`. Limits are checked here once, with messages that name the
//! value; the page's inputs carry the same limits as attributes (a native test compares them).
//!
//! Where the run trains is a [`Device`]'s choice: the CPU leaves the trainer as built; the
//! page's WebGPU device moves it onto the GPU before its first step.

use crate::data::Dataset;
use crate::init::Init;
use crate::nn::{Activation, L1Mode, Mlp, MlpSpec, Penalty, Reduction};
use crate::train::early_stopping::EarlyStopping;
use crate::train::{TrainConfig, Trainer};
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use crate::limits::{MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_PAGE_STEP_FLOP, MAX_PARAMETERS, MAX_WIDTH};

/// The data a run trains and validates on.
#[derive(Clone, Debug)]
pub struct Data {
    pub train: Arc<Dataset>,
    pub validation: Arc<Dataset>,
}

/// A training run's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunSpec {
    /// Hidden layer widths (the input and output sizes come from the data).
    pub hidden: Vec<usize>,
    /// "relu" (default), "tanh", "sigmoid" or "leaky_relu".
    #[serde(default = "relu")]
    pub activation: String,
    /// How weights start, e.g. `{ "scheme": "xavier_uniform" }` (default: PyTorch's Linear).
    #[serde(default)]
    pub init: Option<serde_json::Value>,
    /// Seeds the initial weights, the batch order and the dropout masks (default 0).
    #[serde(default)]
    pub seed: u64,
    /// "sgd" (default), "rprop", "rmsprop", "adam" or "adamw".
    #[serde(default = "sgd")]
    pub optimizer: String,
    /// The optimizer's options with PyTorch's names (`lr`, `momentum`, `betas`, …).
    #[serde(default)]
    pub options: serde_json::Value,
    /// Mini-batch size (default 64).
    #[serde(default = "batch")]
    pub batch_size: usize,
    /// Passes over the training set (default 3).
    #[serde(default = "epochs")]
    pub epochs: usize,
    /// "mean" (default) or "sum".
    #[serde(default)]
    pub reduction: Option<String>,
    /// L1 and L2 penalties on the weights (default 0).
    #[serde(default)]
    pub l1: f32,
    #[serde(default)]
    pub l2: f32,
    /// How L1 is followed: "subgradient" (default: λ₁·sign(w) in the gradient) or "proximal"
    /// (soft-thresholding by lr·λ₁ after each step, which gives exact zeros; `nn::penalty`).
    #[serde(default = "subgradient")]
    pub l1_mode: String,
    /// Batch-norm after each hidden Linear: `true` (every hidden layer), `false` (none, the
    /// default) or one value per hidden layer. Kept as the list `MlpSpec` takes (`true` is
    /// `[true]`, `false` is `[]`), which is also how a spec is written back, so a written spec
    /// reads back the same.
    #[serde(default, deserialize_with = "per_layer_bools")]
    pub batch_norm: Vec<bool>,
    /// Batch-norm's running-statistics momentum, PyTorch's convention: the weight of the new
    /// batch (default 0.1; Keras's `momentum = 0.99` is this 0.01).
    #[serde(default = "bn_momentum")]
    pub bn_momentum: f32,
    /// "Noisy" batch-norm: the strength of a random per-step scale and shift after each
    /// batch-norm layer (`nn::batch_norm::noise`; default 0, off; CPU only).
    #[serde(default)]
    pub bn_noise: f32,
    /// Dropout probability after each hidden activation (default none).
    #[serde(default)]
    pub dropout: Vec<f32>,
    /// Dropout probability on the input pixels, before the first Linear (default 0; CPU only).
    #[serde(default)]
    pub input_dropout: f32,
    /// Train on only the first n training examples (the split is already shuffled).
    #[serde(default)]
    pub train_subset: Option<usize>,
    /// Validation checks per epoch, the last at its end (default 1).
    #[serde(default = "one")]
    pub checks_per_epoch: usize,
    /// Validate every n-th epoch only (default 1).
    #[serde(default = "one")]
    pub validate_every: usize,
    /// Keep the parameters of the check with the lowest validation loss (default false).
    #[serde(default)]
    pub keep_best: bool,
    /// Also evaluate the whole training set at each epoch's end (default false).
    #[serde(default)]
    pub full_train_error: bool,
    /// `{ monitor: "val_loss" | "val_error", criterion, …rule }` (see `train::early_stopping`).
    #[serde(default)]
    pub early_stopping: Option<EarlyStopping>,
    /// When a run that keeps its best ends, restore the best checkpoint (default true).
    #[serde(default = "yes")]
    pub restore_best: bool,
}

/// A per-hidden-layer switch as a spec gives it: one boolean for every hidden layer, or one
/// per layer (the length is checked against the network in [`RunSpec::check_shape`]).
fn per_layer_bools<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "batchNorm must be true, false or a list of booleans, one per hidden layer")]
    enum PerLayer {
        Every(bool),
        Each(Vec<bool>),
    }
    Ok(match PerLayer::deserialize(d)? {
        PerLayer::Every(true) => vec![true],
        PerLayer::Every(false) => Vec::new(),
        PerLayer::Each(v) => v,
    })
}

fn yes() -> bool {
    true
}

fn relu() -> String {
    "relu".into()
}
fn subgradient() -> String {
    L1Mode::Subgradient.name().into()
}
fn sgd() -> String {
    "sgd".into()
}
fn batch() -> usize {
    64
}
fn epochs() -> usize {
    3
}
fn bn_momentum() -> f32 {
    0.1
}
fn one() -> usize {
    1
}

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            hidden: vec![128],
            activation: relu(),
            init: None,
            seed: 0,
            optimizer: sgd(),
            options: serde_json::json!({}),
            batch_size: batch(),
            epochs: epochs(),
            reduction: None,
            l1: 0.0,
            l2: 0.0,
            l1_mode: subgradient(),
            batch_norm: Vec::new(),
            bn_momentum: bn_momentum(),
            bn_noise: 0.0,
            dropout: Vec::new(),
            input_dropout: 0.0,
            train_subset: None,
            checks_per_epoch: one(),
            validate_every: one(),
            keep_best: false,
            full_train_error: false,
            early_stopping: None,
            restore_best: true,
        }
    }
}

impl RunSpec {
    /// Read a spec from JSON, with a message that says which setting is wrong.
    pub fn from_json(v: &serde_json::Value) -> Result<RunSpec> {
        serde_json::from_value(v.clone()).map_err(|e| crate::Error::new(format!("training settings: {e}")))
    }

    /// The layer sizes on data of `features` inputs and `classes` classes.
    pub fn sizes(&self, features: usize, classes: usize) -> Vec<usize> {
        std::iter::once(features).chain(self.hidden.iter().copied()).chain([classes]).collect()
    }

    /// Check the network's shape against the limits (before anything is allocated).
    pub fn check_shape(&self, features: usize, classes: usize) -> Result<()> {
        ensure!(self.hidden.len() <= MAX_HIDDEN_LAYERS, "{} hidden layers is too many: use at most {MAX_HIDDEN_LAYERS}", self.hidden.len());
        for (i, &w) in self.hidden.iter().enumerate() {
            ensure!((1..=MAX_WIDTH).contains(&w), "hidden layer {} has {w} units: use 1 to {MAX_WIDTH}", i + 1);
        }
        let h = self.hidden.len();
        for (name, len) in [("batchNorm", self.batch_norm.len()), ("dropout", self.dropout.len())] {
            ensure!(len <= 1 || len == h, "{name} lists {len} values but the network has {h} hidden layers (give 0, 1 or {h})");
        }
        let sizes = self.sizes(features, classes);
        let params: usize = sizes.windows(2).map(|w| w[0].saturating_mul(w[1]).saturating_add(w[1])).fold(0, usize::saturating_add);
        ensure!(
            params <= MAX_PARAMETERS,
            "a network of sizes {sizes:?} has {params} parameters, more than a browser tab can train (at most {MAX_PARAMETERS})"
        );
        Ok(())
    }

    /// Floating-point operations of one training step on `train_len` examples of `features`
    /// inputs: forward and backward, 2 + 4 per weight per example of the batch.
    pub fn step_flop(&self, features: usize, classes: usize, train_len: usize) -> f64 {
        let sizes = self.sizes(features, classes);
        let weights: f64 = sizes.windows(2).map(|w| w[0] as f64 * w[1] as f64).sum();
        6.0 * weights * self.batch_size.min(train_len) as f64
    }

    /// Refuse a run whose single step would hold the page's thread too long, with its cost,
    /// before it is placed there: longer than [`crate::limits::MAX_PAGE_STEP_SECONDS`] at the
    /// speed the page measured, or past [`MAX_PAGE_STEP_FLOP`] until it has measured one.
    pub fn check_page_step(&self, features: usize, classes: usize, train_len: usize) -> Result<()> {
        self.check_page_step_at(features, classes, train_len, crate::limits::page_gflops())
    }

    /// [`RunSpec::check_page_step`] at a given measured speed (GFLOP/s), or the assumed one.
    pub fn check_page_step_at(&self, features: usize, classes: usize, train_len: usize, measured: Option<f64>) -> Result<()> {
        use crate::limits::{ASSUMED_PAGE_GFLOPS, MAX_PAGE_RUN_PARAMETERS, MAX_PAGE_STEP_SECONDS};
        let flop = self.step_flop(features, classes, train_len);
        let (gflops, whose) = match measured {
            Some(g) => (g, "measured on this machine"),
            None => (ASSUMED_PAGE_GFLOPS, "of a typical core"),
        };
        let limit = gflops * 1e9 * MAX_PAGE_STEP_SECONDS;
        ensure!(
            flop <= limit,
            "one training step of sizes {:?} on batches of {} costs {:.1} GFLOP, about {:.1} s a step at the {:.0} GFLOP/s {whose}, which would freeze the tab: \
             use a smaller batch or network (at most {:.1} GFLOP a step here), or train on WebGPU",
            self.sizes(features, classes),
            self.batch_size.min(train_len),
            flop / 1e9,
            flop / (gflops * 1e9),
            gflops,
            limit / 1e9
        );
        let sizes = self.sizes(features, classes);
        let params: usize = sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
        ensure!(
            params <= MAX_PAGE_RUN_PARAMETERS,
            "a network of sizes {sizes:?} has {params} parameters, too many to build and train on the page's own thread (at most {MAX_PAGE_RUN_PARAMETERS}): \
             use a smaller network, or train on WebGPU"
        );
        Ok(())
    }

    /// Book the run's memory in the page's budget (`memory`): weights, gradients and two
    /// optimizer buffers, and a batch's activations, their gradients and scratch.
    pub fn book(&self, features: usize, classes: usize) -> Result<crate::memory::Booking> {
        let sizes = self.sizes(features, classes);
        let params: usize = sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
        let units: usize = sizes.iter().sum();
        let bytes = 16usize.saturating_mul(params).saturating_add(16usize.saturating_mul(self.batch_size).saturating_mul(units));
        crate::memory::Booking::take(bytes, &format!("a run of sizes {sizes:?}"))
    }

    /// The network this spec starts from, on data of `features` inputs and `classes` classes.
    pub fn model(&self, features: usize, classes: usize) -> Result<Mlp> {
        self.check_shape(features, classes)?;
        let mut spec = MlpSpec::new(&self.sizes(features, classes), Activation::parse(&self.activation)?);
        if let Some(init) = &self.init {
            spec.init = Init::from_json(init)?;
        }
        spec.batch_norm = self.batch_norm.clone();
        spec.bn_momentum = self.bn_momentum;
        spec.bn_noise = self.bn_noise;
        spec.dropout = self.dropout.clone();
        spec.input_dropout = self.input_dropout;
        Mlp::new(spec, self.seed)
    }

    /// The trainer's settings.
    pub fn train_config(&self) -> Result<TrainConfig> {
        ensure!(self.epochs <= MAX_EPOCHS, "{} epochs is too many: use 1 to {MAX_EPOCHS}", self.epochs);
        let reduction = match self.reduction.as_deref() {
            None => Reduction::Mean,
            Some(r) => Reduction::parse(r)?,
        };
        Ok(TrainConfig {
            batch_size: self.batch_size,
            epochs: self.epochs,
            reduction,
            drop_last: false,
            penalty: Penalty { l1: self.l1, l2: self.l2, l1_mode: L1Mode::parse(&self.l1_mode)? },
            seed: self.seed,
            checks_per_epoch: self.checks_per_epoch,
            validate_every: self.validate_every,
            keep_best: self.keep_best,
            full_train_error: self.full_train_error,
            early_stopping: self.early_stopping.clone(),
            restore_best: self.restore_best,
        })
    }

    /// Build the run on the CPU, optionally from given parameters instead of the init.
    pub fn build(&self, data: &Data, start_from: Option<&[f32]>) -> Result<Trainer> {
        let (train, validation) = (&data.train, &data.validation);
        let config = self.train_config()?;
        let (features, classes) = (train.features, train.classes.max(validation.classes));
        self.check_shape(features, classes)?;
        let booking = self.book(features, classes)?;
        let mut model = self.model(features, classes)?;
        if let Some(p) = start_from {
            model.set_parameters(p)?;
        }
        let options = if self.options.is_null() { serde_json::json!({}) } else { self.options.clone() };
        let optimizer = crate::optim::build(&self.optimizer, &options)?;
        let train = match self.train_subset {
            Some(0) => crate::bail!("trainSubset must be at least 1"),
            Some(n) if n < train.len() => Arc::new(train.take(n)),
            _ => train.clone(),
        };
        let mut trainer = Trainer::new(model, optimizer, train, validation.clone(), config)?;
        trainer.hold_booking(booking);
        Ok(trainer)
    }

    /// Build the run and let `device` place it.
    pub fn build_on(&self, data: &Data, start_from: Option<&[f32]>, device: &dyn Device) -> Result<Trainer> {
        let mut trainer = self.build(data, start_from)?;
        device.place(self, &mut trainer)?;
        Ok(trainer)
    }
}

/// Where new runs train. The CPU leaves a built trainer as it is; another device moves the
/// trainer's model and optimizer onto itself before the first step (or leaves it on the CPU,
/// saying why, when it cannot take this run).
pub trait Device {
    fn place(&self, spec: &RunSpec, trainer: &mut Trainer) -> Result<()>;
}

/// Runs stay on the CPU.
pub struct Cpu;

impl Device for Cpu {
    fn place(&self, _: &RunSpec, _: &mut Trainer) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data() -> Data {
        let n = 40;
        let x: Vec<f32> = (0..n * 4).map(|i| ((i * 13) % 7) as f32 / 7.0).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
        let d = Arc::new(Dataset::new(x, labels, 4, 3).unwrap());
        Data { train: d.clone(), validation: d }
    }

    #[test]
    fn defaults_fill_in_what_the_page_leaves_out() {
        let s = RunSpec::from_json(&json!({ "hidden": [8] })).unwrap();
        assert_eq!((s.batch_size, s.epochs, s.optimizer.as_str(), s.checks_per_epoch), (64, 3, "sgd", 1));
        let t = RunSpec { batch_size: 10, ..s }.build(&data(), None).unwrap();
        assert_eq!(t.model().spec().sizes, [4, 8, 3]);
        assert_eq!(t.steps_per_epoch(), 4);
    }

    #[test]
    fn a_step_too_large_for_the_page_is_refused_with_its_cost() {
        let spec = RunSpec::from_json(&json!({ "hidden": [4096, 4096, 4096], "batchSize": 7000 })).unwrap();
        let flop = spec.step_flop(784, 10, 7000);
        assert_eq!(flop, 6.0 * 7000.0 * (784.0 * 4096.0 + 2.0 * 4096.0 * 4096.0 + 4096.0 * 10.0));
        let err = spec.check_page_step_at(784, 10, 7000, None).unwrap_err().to_string();
        assert!(err.contains("costs 1545.9 GFLOP") && err.contains("smaller batch or network"), "{err}");
        // the batch is at most the training set (10 examples: a step of 2.2 GFLOP passes; this
        // network's 36.8 M weights do not)
        let err = spec.check_page_step_at(784, 10, 10, None).unwrap_err().to_string();
        assert!(err.contains("too many to build and train on the page's own thread"), "{err}");
        let sgd = RunSpec::from_json(&json!({ "hidden": [128], "batchSize": 7000 })).unwrap();
        assert!(sgd.check_page_step_at(784, 10, 7000, None).is_ok(), "full-batch gradient descent on the SGD cell's network");
        // at a measured speed the limit is 0.2 s of that speed: a slow machine refuses what a
        // typical one takes, and says whose speed it used
        let err = sgd.check_page_step_at(784, 10, 7000, Some(10.0)).unwrap_err().to_string();
        assert!(err.contains("at the 10 GFLOP/s measured on this machine") && err.contains("at most 2.0 GFLOP"), "{err}");
        assert!(spec.check_page_step_at(784, 10, 7000, None).unwrap_err().to_string().contains("at the 25 GFLOP/s of a typical core"));
        // a network too large to build on the page, whatever its step costs
        let wide = RunSpec::from_json(&json!({ "hidden": [2048, 2048], "batchSize": 1 })).unwrap();
        let err = wide.check_page_step_at(784, 10, 7000, Some(100.0)).unwrap_err().to_string();
        assert!(err.contains("5824522 parameters, too many") && err.contains("at most 3000000"), "{err}");
        let fits = RunSpec::from_json(&json!({ "hidden": [1024, 1024], "batchSize": 64 })).unwrap();
        assert!(fits.check_page_step_at(784, 10, 7000, Some(25.0)).is_ok());
    }

    #[test]
    fn bad_settings_are_named() {
        // (settings, part of the message, reason)
        let rows = [
            (json!({ "hidden": [8], "epochs": 100000 }), "100000 epochs", "too many epochs"),
            (json!({ "hidden": [0] }), "hidden layer 1 has 0 units", "an empty layer"),
            (json!({ "hidden": [5000] }), "5000 units", "too wide"),
            (json!({ "hidden": [4096, 4096] }), "parameters", "too many parameters"),
            (json!({ "hidden": vec![1; 17] }), "17 hidden layers", "too deep"),
            (json!({ "hidden": [8], "optimizer": "adamax" }), "adamax", "unknown optimizer"),
            (json!({ "hidden": [8], "options": { "lr": -1 } }), "-1", "bad learning rate"),
            (json!({ "hidden": [8], "batchSize": 0 }), "batch size", "empty batches"),
            (json!({ "hidden": [8], "trainSubset": 0 }), "trainSubset", "an empty subset"),
            (json!({ "hidden": [8], "batchSize": 8, "checksPerEpoch": 0 }), "checks per epoch 0", "no checks"),
            (json!({ "hidden": [8], "reduction": "median" }), "median", "unknown reduction"),
            (json!({ "hidden": [8], "activation": "swish" }), "swish", "unknown activation"),
            (json!({ "hidden": [8, 8], "batchNorm": [true, false, true] }), "batchNorm lists 3 values", "a list longer than the layers"),
            (
                json!({ "hidden": [8, 8], "batchNorm": "yes" }),
                "batchNorm must be true, false or a list of booleans, one per hidden layer",
                "neither a boolean nor a list",
            ),
            (
                json!({ "hidden": [8, 8], "batchNorm": [1, 0] }),
                "batchNorm must be true, false or a list of booleans, one per hidden layer",
                "numbers for booleans",
            ),
            (json!({ "hidden": [8], "batchNorm": [true], "bnMomentum": 1.5 }), "momentum: 1.5", "a momentum above 1"),
            (json!({ "hidden": [8], "batchNorm": [true], "bnNoise": 5 }), "noise 5", "too much noise"),
            (json!({ "hidden": [8], "batchSize": 8, "l1Mode": "ista" }), "unknown l1Mode 'ista'", "unknown L1 mode"),
            (json!({ "hidden": [8], "batchSize": 8, "l1": -0.5 }), "invalid L1 strength: -0.5", "a negative penalty"),
        ];
        for (v, want, reason) in rows {
            let err = RunSpec::from_json(&v).and_then(|s| s.build(&data(), None).map(|_| ())).unwrap_err();
            assert!(err.message().contains(want), "{reason}: {v} gave {:?}", err.message());
        }
        let err = RunSpec::from_json(&json!({ "hidden": [8], "lr": 0.1 })).unwrap_err();
        assert!(err.message().contains("unknown field `lr`"), "{}", err.message());
    }

    #[test]
    fn batch_norm_is_one_switch_or_one_per_layer_and_reads_back_as_written() {
        let spec = |bn: serde_json::Value| RunSpec::from_json(&json!({ "hidden": [4, 3], "batchNorm": bn })).unwrap();
        // (as given, the list kept, layers with batch-norm)
        for (bn, list, layers) in [
            (json!(true), vec![true], vec![0, 1]),
            (json!(false), vec![], vec![]),
            (json!([false, true]), vec![false, true], vec![1]),
            (json!([true]), vec![true], vec![0, 1]),
        ] {
            let s = spec(bn.clone());
            assert_eq!(s.batch_norm, list, "{bn}");
            let model = s.model(6, 2).unwrap();
            let with: Vec<usize> = (0..2).filter(|&l| model.running_stats(l).is_some()).collect();
            assert_eq!(with, layers, "{bn}: the layers that have batch-norm");
            let written = serde_json::to_value(&s).unwrap();
            assert_eq!(RunSpec::from_json(&written).unwrap(), s, "{bn}: a written spec reads back the same ({written})");
        }
        assert!(RunSpec::from_json(&json!({ "hidden": [4] })).unwrap().batch_norm.is_empty(), "off by default");
    }

    #[test]
    fn one_seed_one_run() {
        let spec = RunSpec { hidden: vec![6], seed: 7, batch_size: 8, epochs: 2, ..RunSpec::default() };
        let a = spec.build(&data(), None).unwrap().run().unwrap().clone();
        let b = spec.build(&data(), None).unwrap().run().unwrap().clone();
        assert_eq!(a.step_loss, b.step_loss);
        let other = RunSpec { seed: 8, ..spec }.build(&data(), None).unwrap().run().unwrap().clone();
        assert_ne!(a.step_loss, other.step_loss, "the seed changes the run");
    }
}
