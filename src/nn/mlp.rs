//! A multi-layer perceptron built from a spec, with all parameters in one flat vector.
//!
//! Each hidden layer is `Linear → [BatchNorm1d] → activation → [Dropout]`, and the last layer
//! is a plain `Linear` producing one logit per class. That is the PyTorch module
//!
//! ```text
//! nn.Sequential(nn.Linear(784, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(p),
//!               nn.Linear(128, 10))
//! ```
//!
//! and the flat parameter vector follows `model.parameters()` order: W1 (out × in, row-major),
//! b1, [γ1, β1], W2, b2, … . Gradients use the same layout, so an optimizer steps the whole
//! model as one vector.
//!
//! Shapes through the network (m = batch): (m × 784) → (m × 128) → … → (m × 10). Every layer
//! maps each row independently (batch-norm aside, which mixes rows only through its
//! statistics), so the batch dimension m survives to the output.

use super::activation::Activation;
use super::batch_norm::BatchNormState;
use super::loss::{argmax_rows, count_wrong, cross_entropy, cross_entropy_into, Reduction};
use super::penalty::Penalty;
use super::{check_batch, dropout, linear};
use crate::backend::Rows;
use crate::init::Init;
use crate::optim::PartialStep;
use crate::{bail, ensure, Result, Rng};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// What to build. Per-hidden-layer lists may be empty (off everywhere), hold one value (the
/// same for every hidden layer), or hold one value per hidden layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpSpec {
    /// Layer widths, input first, classes last (e.g. [784, 128, 10]).
    pub sizes: Vec<usize>,
    /// Hidden-layer non-linearity (default ReLU).
    #[serde(default = "default_activation")]
    pub activation: Activation,
    /// Batch-norm after each hidden Linear (default: none).
    #[serde(default)]
    pub batch_norm: Vec<bool>,
    /// Dropout probability after each hidden activation (default: none).
    #[serde(default)]
    pub dropout: Vec<f32>,
    /// How weights start (default: PyTorch's nn.Linear default).
    #[serde(default)]
    pub init: Init,
    /// Batch-norm momentum (default 0.1).
    #[serde(default = "default_bn_momentum")]
    pub bn_momentum: f32,
    /// Batch-norm eps (default 1e-5).
    #[serde(default = "default_bn_eps")]
    pub bn_eps: f32,
    /// "Noisy" batch-norm: the strength of the random scale and shift added after every
    /// batch-norm layer at each training step (`batch_norm::noise`; default 0, off).
    #[serde(default)]
    pub bn_noise: f32,
    /// Dropout probability on the input itself, before the first Linear (default 0, off):
    /// inverted dropout in training mode only, with masks of their own (`INPUT_LAYER`).
    #[serde(default)]
    pub input_dropout: f32,
}

/// The layer index the input's dropout masks are keyed with: apart from every hidden layer's
/// (which use their own index) and from the noisy batch-norm's (`0x8000_0000 | l`).
pub const INPUT_LAYER: u32 = 0x4000_0000;

fn default_activation() -> Activation {
    Activation::Relu
}
fn default_bn_momentum() -> f32 {
    0.1
}
fn default_bn_eps() -> f32 {
    1e-5
}

impl MlpSpec {
    /// A plain MLP: no batch-norm, no dropout, PyTorch's default init.
    pub fn new(sizes: &[usize], activation: Activation) -> MlpSpec {
        MlpSpec {
            sizes: sizes.to_vec(),
            activation,
            batch_norm: vec![],
            dropout: vec![],
            init: Init::default(),
            bn_momentum: default_bn_momentum(),
            bn_eps: default_bn_eps(),
            bn_noise: 0.0,
            input_dropout: 0.0,
        }
    }

    fn hidden(&self) -> usize {
        self.sizes.len().saturating_sub(2)
    }

    fn per_layer<T: Copy>(list: &[T], i: usize, off: T) -> T {
        match list.len() {
            0 => off,
            1 => list[0],
            _ => list[i],
        }
    }

    pub fn validate(&self) -> Result<()> {
        ensure!(self.sizes.len() >= 2, "an MLP needs at least an input size and an output size (got {} sizes)", self.sizes.len());
        if let Some(i) = self.sizes.iter().position(|&s| s == 0) {
            bail!("layer size {i} is 0; every layer needs at least one unit");
        }
        let total: usize = self.sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
        ensure!(total <= 50_000_000, "an MLP with {total} parameters is too large for the browser");
        let h = self.hidden();
        for (name, len) in [("batch_norm", self.batch_norm.len()), ("dropout", self.dropout.len())] {
            ensure!(len <= 1 || len == h, "{name} lists {len} values but the network has {h} hidden layers (give 0, 1 or {h})");
        }
        for &p in self.dropout.iter().chain([&self.input_dropout]) {
            dropout::check_p(p)?;
        }
        self.init.validate()?;
        BatchNormState::new(1, self.bn_eps, Some(self.bn_momentum))?;
        super::batch_norm::check_noise(self.bn_noise)?;
        Ok(())
    }
}

/// Where one layer's parameters live in the flat vector: the one source of the layout, for
/// the CPU network, the GPU's copy of it and the tests.
#[derive(Clone, Debug, PartialEq)]
pub struct Slices {
    pub fan_in: usize,
    pub fan_out: usize,
    /// W (fan_out × fan_in, row-major) and b.
    pub w: Range<usize>,
    pub b: Range<usize>,
    /// (γ, β) when the layer has batch-norm.
    pub bn: Option<(Range<usize>, Range<usize>)>,
    /// The layer's dropout probability (0 for none; always 0 for the output layer).
    pub dropout: f32,
}

impl MlpSpec {
    /// Every layer's slices of the flat parameter vector, in PyTorch's `parameters()` order:
    /// W1, b1, [γ1, β1], W2, b2, … .
    pub fn layout(&self) -> Vec<Slices> {
        let mut at = 0;
        let mut take = |n: usize| {
            at += n;
            at - n..at
        };
        let n_layers = self.sizes.len().saturating_sub(1);
        (0..n_layers)
            .map(|l| {
                let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
                let last = l + 1 == n_layers;
                let (w, b) = (take(fan_in * fan_out), take(fan_out));
                let bn = (!last && MlpSpec::per_layer(&self.batch_norm, l, false)).then(|| (take(fan_out), take(fan_out)));
                let dropout = if last { 0.0 } else { MlpSpec::per_layer(&self.dropout, l, 0.0) };
                Slices { fan_in, fan_out, w, b, bn, dropout }
            })
            .collect()
    }
}

/// Where one layer's pieces live in the flat vector, plus its running state.
#[derive(Clone, Debug)]
struct Layer {
    fan_in: usize,
    fan_out: usize,
    w: Range<usize>,
    b: Range<usize>,
    /// (γ, β, running statistics) when the layer has batch-norm.
    bn: Option<(Range<usize>, Range<usize>, BatchNormState)>,
    /// Identity for the output layer.
    activation: Activation,
    dropout: f32,
}

/// What forward keeps for backward.
#[derive(Clone, Debug, Default)]
struct Cache {
    input: Vec<f32>,
    /// Activation output (before dropout).
    activated: Vec<f32>,
    mask: Vec<f32>,
    /// The noisy batch-norm's scale per unit (empty: no noise).
    noise_scale: Vec<f32>,
}

/// One hidden layer seen from inside, for a batch (each batch × width): see [`Mlp::inside`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inside {
    /// The Linear's output z = x·Wᵀ + b (what batch-norm normalizes).
    pub linear: Vec<f32>,
    /// What the activation receives: z, or batch-norm's output (noise included) where the
    /// layer has one.
    pub input: Vec<f32>,
    /// The activation's output (before dropout).
    pub output: Vec<f32>,
}

/// The network.
#[derive(Clone, Debug)]
pub struct Mlp {
    spec: MlpSpec,
    seed: u64,
    params: Vec<f32>,
    grads: Vec<f32>,
    layers: Vec<Layer>,
    caches: Vec<Cache>,
    /// Batch size of the cached forward (0: none).
    cached_batch: usize,
    /// Training forward passes so far: the `step` of the dropout masks (`nn::dropout`).
    dropout_step: u32,
    /// Buffers a step is done with, kept for the next (see [`Mlp::buffer`]).
    spare: Vec<Vec<f32>>,
}

/// The most spare buffers an [`Mlp`] keeps: a step takes and gives back a few per layer.
const MAX_SPARE: usize = 16;

impl Mlp {
    /// Build and initialize from the seed's `"init"` stream.
    pub fn new(spec: MlpSpec, seed: u64) -> Result<Mlp> {
        spec.validate()?;
        let slices = spec.layout();
        let at = slices.last().map_or(0, |s| s.bn.as_ref().map_or(s.b.end, |(_, beta)| beta.end));
        let n_layers = slices.len();
        let mut layers = Vec::new();
        for (l, s) in slices.into_iter().enumerate() {
            let bn = match s.bn {
                Some((g, b)) => Some((g, b, BatchNormState::new(s.fan_out, spec.bn_eps, Some(spec.bn_momentum))?)),
                None => None,
            };
            let activation = if l + 1 == n_layers { Activation::Identity } else { spec.activation };
            layers.push(Layer { fan_in: s.fan_in, fan_out: s.fan_out, w: s.w, b: s.b, bn, activation, dropout: s.dropout });
        }
        let mut mlp = Mlp {
            caches: vec![Cache::default(); layers.len()],
            params: vec![0.0; at],
            grads: vec![0.0; at],
            layers,
            cached_batch: 0,
            dropout_step: 0,
            spare: Vec::new(),
            seed,
            spec,
        };
        mlp.reinitialize(seed)?;
        Ok(mlp)
    }

    /// Draw fresh weights for `seed` with the spec's init (γ = 1, β = 0, running stats reset).
    pub fn reinitialize(&mut self, seed: u64) -> Result<()> {
        let mut rng = Rng::stream(seed, "init");
        for layer in &mut self.layers {
            let w = self.spec.init.weight(layer.fan_in, layer.fan_out, &mut rng)?;
            let b = self.spec.init.bias(layer.fan_in, layer.fan_out, &mut rng)?;
            self.params[layer.w.clone()].copy_from_slice(&w);
            self.params[layer.b.clone()].copy_from_slice(&b);
            if let Some((g, be, state)) = &mut layer.bn {
                self.params[g.clone()].iter_mut().for_each(|v| *v = 1.0);
                self.params[be.clone()].iter_mut().for_each(|v| *v = 0.0);
                state.reset_running_stats();
            }
        }
        self.seed = seed;
        self.dropout_step = 0;
        self.grads.iter_mut().for_each(|g| *g = 0.0);
        self.cached_batch = 0;
        Ok(())
    }

    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }
    /// Where each layer's parameters live in [`Mlp::parameters`] (and the gradients).
    pub fn layout(&self) -> Vec<Slices> {
        self.layers
            .iter()
            .map(|l| Slices {
                fan_in: l.fan_in,
                fan_out: l.fan_out,
                w: l.w.clone(),
                b: l.b.clone(),
                bn: l.bn.as_ref().map(|(g, b, _)| (g.clone(), b.clone())),
                dropout: l.dropout,
            })
            .collect()
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }
    pub fn inputs(&self) -> usize {
        self.spec.sizes[0]
    }
    pub fn classes(&self) -> usize {
        *self.spec.sizes.last().expect("validated")
    }
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// All parameters, flat, in PyTorch order.
    pub fn parameters(&self) -> &[f32] {
        &self.params
    }
    /// Mutable access for optimizers (same layout as [`Mlp::gradients`]).
    pub fn parameters_mut(&mut self) -> &mut [f32] {
        &mut self.params
    }
    /// Parameters and gradients at once, for an optimizer step.
    pub fn params_and_grads(&mut self) -> (&mut [f32], &[f32]) {
        (&mut self.params, &self.grads)
    }
    pub fn gradients(&self) -> &[f32] {
        &self.grads
    }

    pub fn set_parameters(&mut self, p: &[f32]) -> Result<()> {
        ensure!(p.len() == self.params.len(), "this network has {} parameters but {} values were given", self.params.len(), p.len());
        if let Some(i) = p.iter().position(|v| !v.is_finite()) {
            bail!("parameter {i} is {} ; parameters must be finite numbers", p[i]);
        }
        self.params.copy_from_slice(p);
        Ok(())
    }

    /// Training forward passes so far (the step the next dropout masks are drawn for).
    pub fn dropout_step(&self) -> u32 {
        self.dropout_step
    }
    /// Change the dropout probabilities (a student moving p while the run trains): `hidden` as
    /// [`MlpSpec::dropout`] (empty for none, one for every hidden layer, or one per hidden
    /// layer), `input` as [`MlpSpec::input_dropout`]. The weights, the mask counter and the
    /// cached forward stay; the next training forward draws its masks with the new p. Checked
    /// as a new spec would be, and nothing changes on an error.
    pub fn set_dropout(&mut self, hidden: &[f32], input: f32) -> Result<()> {
        let spec = MlpSpec { dropout: hidden.to_vec(), input_dropout: input, ..self.spec.clone() };
        spec.validate()?;
        for (layer, s) in self.layers.iter_mut().zip(spec.layout()) {
            layer.dropout = s.dropout;
        }
        self.spec = spec;
        Ok(())
    }
    /// Continue the dropout masks from step `t` (e.g. where a GPU run left off).
    pub fn set_dropout_step(&mut self, t: u32) {
        self.dropout_step = t;
    }

    /// Weight matrix `l` (fan_out × fan_in).
    pub fn weight(&self, l: usize) -> &[f32] {
        &self.params[self.layers[l].w.clone()]
    }
    /// Gradient of weight matrix `l`.
    pub fn weight_grad(&self, l: usize) -> &[f32] {
        &self.grads[self.layers[l].w.clone()]
    }
    /// (fan_in, fan_out) of layer `l`.
    pub fn layer_shape(&self, l: usize) -> (usize, usize) {
        (self.layers[l].fan_in, self.layers[l].fan_out)
    }
    /// The activation output of hidden layer `l` from the last forward (before dropout).
    pub fn activations(&self, l: usize) -> &[f32] {
        self.activated(l)
    }
    /// Layer `l`'s activation output: kept in its own cache where dropout changed what the
    /// next layer read, else it *is* the next layer's input (one buffer, not a copy).
    fn activated(&self, l: usize) -> &[f32] {
        match &self.caches[l].activated {
            a if a.is_empty() && l + 1 < self.caches.len() => &self.caches[l + 1].input,
            a => a,
        }
    }
    /// Running (mean, var) of layer `l`'s batch-norm, if it has one.
    pub fn running_stats(&self, l: usize) -> Option<(&[f32], &[f32])> {
        self.layers[l].bn.as_ref().map(|(_, _, s)| (&s.running_mean[..], &s.running_var[..]))
    }
    /// Replace layer `l`'s running (mean, var), e.g. with those a GPU session kept.
    pub fn set_running_stats(&mut self, l: usize, mean: &[f32], var: &[f32]) -> Result<()> {
        let Some((_, _, s)) = self.layers.get_mut(l).and_then(|layer| layer.bn.as_mut()) else {
            bail!("layer {l} has no batch-norm");
        };
        ensure!(mean.len() == s.features && var.len() == s.features, "layer {l} has {} batch-norm features", s.features);
        s.running_mean.copy_from_slice(mean);
        s.running_var.copy_from_slice(var);
        Ok(())
    }
    /// (γ, β) of layer `l`'s batch-norm, if it has one.
    pub fn bn_affine(&self, l: usize) -> Option<(&[f32], &[f32])> {
        self.layers[l].bn.as_ref().map(|(g, b, _)| (&self.params[g.clone()], &self.params[b.clone()]))
    }
    /// Ranges of the weight matrices (what L1/L2 penalize).
    pub fn weight_ranges(&self) -> Vec<Range<usize>> {
        self.layers.iter().map(|l| l.w.clone()).collect()
    }

    /// After an optimizer step with learning rate `eta`: L1's proximal step on every weight
    /// matrix when `penalty` asks for it (see `nn::penalty`); nothing otherwise.
    pub fn proximal_step(&mut self, penalty: &Penalty, eta: f32) {
        if let Some(t) = penalty.prox_threshold(eta) {
            for r in self.weight_ranges() {
                super::penalty::soft_threshold(&mut self.params[r], t);
            }
        }
    }

    /// A buffer for a step's values, from the spare ones when there is one (its old values are
    /// left in it: every taker overwrites them all), so a run of equal steps allocates its
    /// layer outputs and gradients once.
    fn buffer(&mut self) -> Vec<f32> {
        self.spare.pop().unwrap_or_default()
    }

    /// Keep `v`'s allocation for a later [`Mlp::buffer`].
    fn give_back(&mut self, v: Vec<f32>) {
        keep(&mut self.spare, v);
    }

    /// Logits (batch × classes) for `x` (batch × inputs). `training` turns on batch statistics
    /// (and their running update) and dropout.
    pub fn forward(&mut self, x: &[f32], batch: usize, training: bool) -> Result<Vec<f32>> {
        Ok(self.forward_rows(Rows::dense(x), batch, training, true)?.0)
    }

    /// [`Mlp::forward`] of `x`, which may be rows gathered from the training set. Unless
    /// `keep_input` (or input dropout changes it), the first layer reads `x` where it lies and
    /// does not cache it: the caller then hands the same `x` to the backward pass. Returns the
    /// logits and whether the first layer's input was left uncached.
    fn forward_rows(&mut self, x: Rows, batch: usize, training: bool, keep_input: bool) -> Result<(Vec<f32>, bool)> {
        match x.as_dense() {
            Some(x) => check_batch("MLP input", x, batch, self.inputs())?,
            None => {
                ensure!(batch > 0 && x.fits(batch, self.inputs()), "MLP input: expected {batch} rows of the training set")
            }
        }
        // the last forward's layer inputs are overwritten now: their buffers serve this one
        for l in 0..self.caches.len() {
            let old = std::mem::take(&mut self.caches[l].input);
            self.give_back(old);
        }
        // input dropout: the first layer caches (and its weight gradient sees) the dropped input
        let mut h = self.buffer();
        h.clear();
        dropout::check_p(self.spec.input_dropout)?;
        let drop_input = training && self.spec.input_dropout > 0.0;
        let mut outside = None;
        if drop_input || keep_input {
            x.copy_into(self.inputs(), &mut h);
            if drop_input {
                dropout::apply(&mut h, self.spec.input_dropout, dropout::key(self.seed, INPUT_LAYER), self.dropout_step)?;
            }
        } else {
            outside = Some(x);
        }
        let n_layers = self.layers.len();
        for l in 0..n_layers {
            let mut z = self.buffer();
            let mut out = if training && self.layers[l].dropout > 0.0 { self.buffer() } else { Vec::new() };
            let (layer, cache, p, spare) = (&mut self.layers[l], &mut self.caches[l], &self.params, &mut self.spare);
            // without batch-norm between them, ReLU is applied as the product writes z
            let fused = layer.bn.is_none() && layer.activation == Activation::Relu;
            let input = outside.filter(|_| l == 0).unwrap_or(Rows::dense(&h));
            linear::forward_into(input, batch, &p[layer.w.clone()], &p[layer.b.clone()], layer.fan_in, layer.fan_out, fused, &mut z);
            cache.noise_scale.clear();
            if let Some((g, b, state)) = &mut layer.bn {
                let mut y = spare.pop().unwrap_or_default();
                state.forward_into(&z, batch, &p[g.clone()], &p[b.clone()], training, &mut y)?;
                keep(spare, std::mem::replace(&mut z, y));
                if training && self.spec.bn_noise > 0.0 {
                    cache.noise_scale = add_noise(&mut z, layer.fan_out, self.seed, l, self.dropout_step, self.spec.bn_noise);
                }
            }
            if !fused {
                layer.activation.forward(&mut z);
            }
            cache.input = h;
            if training && layer.dropout > 0.0 {
                let key = dropout::key(self.seed, l as u32);
                dropout::forward_into(&z, layer.dropout, training, key, self.dropout_step, &mut out, &mut cache.mask)?;
                keep(spare, std::mem::replace(&mut cache.activated, z));
                h = out;
            } else {
                // nothing dropped: the activation's output goes on as the next layer's input
                // (which is where backward finds it); the logits are kept, they are returned
                cache.mask.clear();
                cache.activated.clear();
                if l + 1 == n_layers {
                    cache.activated.extend_from_slice(&z);
                }
                h = z;
            }
        }
        self.cached_batch = batch;
        if training {
            self.dropout_step = self.dropout_step.wrapping_add(1);
        }
        Ok((h, outside.is_some()))
    }

    /// Back-propagate ∂L/∂logits through the last forward, *adding* into the gradients.
    pub fn backward(&mut self, dlogits: &[f32]) -> Result<()> {
        let kept = self.caches.first().is_some_and(|c| c.input.len() == self.cached_batch * self.inputs());
        ensure!(kept, "backward needs a forward pass first");
        self.backward_into(dlogits, true, None, None)
    }

    /// The parameters of layer `l` in the flat vector: W, b and (with batch-norm) γ, β, which
    /// lie side by side.
    fn layer_range(&self, l: usize) -> Range<usize> {
        let layer = &self.layers[l];
        layer.w.start..layer.bn.as_ref().map_or(layer.b.end, |(_, beta, _)| beta.end)
    }

    /// Back-propagate, adding into the gradients when `accumulate` (else writing them), and
    /// with `update`, applying that step to each layer's parameters as soon as its gradients
    /// are in and its W has been used for the layer below's gradient. `x` is the first layer's
    /// input when the forward pass did not cache it.
    fn backward_into(&mut self, dlogits: &[f32], accumulate: bool, mut update: Option<&mut dyn PartialStep>, x: Option<Rows>) -> Result<()> {
        let batch = self.cached_batch;
        ensure!(batch > 0, "backward needs a forward pass first");
        check_batch("MLP output gradient", dlogits, batch, self.classes())?;
        let mut d = self.buffer();
        d.clear();
        d.extend_from_slice(dlogits);
        // whether d already went back through layer l's ReLU (in the product above's write-back)
        let mut through_activation = false;
        for l in (0..self.layers.len()).rev() {
            if !through_activation {
                dropout::backward(&mut d, &self.caches[l].mask);
                self.layers[l].activation.backward(self.activated(l), &mut d);
            }
            let (layer, cache) = (&mut self.layers[l], &self.caches[l]);
            if let Some((g, b, state)) = &mut layer.bn {
                if !cache.noise_scale.is_empty() {
                    // y' = s·y + b: the gradient reaching batch-norm's output is s·dy'
                    for row in d.chunks_exact_mut(layer.fan_out) {
                        row.iter_mut().zip(&cache.noise_scale).for_each(|(v, s)| *v *= s);
                    }
                }
                let gamma = &self.params[g.clone()];
                let (dg, db) = split_two(&mut self.grads, g.clone(), b.clone());
                if !accumulate {
                    dg.fill(0.0);
                    db.fill(0.0);
                }
                let mut dx = self.spare.pop().unwrap_or_default();
                state.backward_into(&d, gamma, dg, db, &mut dx)?;
                keep(&mut self.spare, std::mem::replace(&mut d, dx));
            }
            // This layer's input is the layer below's ReLU output when nothing was dropped
            // there (`activated`): then the ReLU's backward goes into the dX product.
            through_activation = l > 0 && self.layers[l - 1].activation == Activation::Relu && self.caches[l - 1].mask.is_empty();
            let mut dx = if l > 0 { self.spare.pop().unwrap_or_default() } else { Vec::new() };
            let input = match (l > 0, through_activation) {
                (false, _) => linear::InputGrad::None,
                (true, false) => linear::InputGrad::Dx(&mut dx),
                (true, true) => linear::InputGrad::ThroughRelu(&mut dx),
            };
            let (layer, cache) = (&self.layers[l], &self.caches[l]);
            let (dw, db) = split_two(&mut self.grads, layer.w.clone(), layer.b.clone());
            let w = &self.params[layer.w.clone()];
            let x = x.filter(|_| l == 0).unwrap_or(Rows::dense(&cache.input));
            linear::backward_into(x, &d, batch, w, dw, db, layer.fan_in, layer.fan_out, input, accumulate);
            if let Some(step) = update.as_deref_mut() {
                let r = self.layer_range(l);
                step.update_part(&mut self.params[r.clone()], &self.grads[r.clone()], r.start);
            }
            self.give_back(std::mem::replace(&mut d, dx));
        }
        self.give_back(d);
        Ok(())
    }

    /// Every hidden layer's values for `x` (batch × inputs), without touching the network:
    /// batch-norm normalizes with this batch's own statistics when `batch_stats` (as in a
    /// training step; the noisy batch-norm adds the noise of the next training step) and with
    /// the running statistics otherwise (evaluation). Running statistics, caches and the
    /// dropout step stay as they were, and no dropout is applied.
    pub fn inside(&self, x: &[f32], batch: usize, batch_stats: bool) -> Result<Vec<Inside>> {
        check_batch("MLP input", x, batch, self.inputs())?;
        let hidden = self.layers.len() - 1;
        let mut out = Vec::with_capacity(hidden);
        let mut h = x.to_vec();
        for (l, layer) in self.layers[..hidden].iter().enumerate() {
            let p = &self.params;
            let z = linear::forward(&h, batch, &p[layer.w.clone()], &p[layer.b.clone()], layer.fan_in, layer.fan_out);
            let mut input = z.clone();
            if let Some((g, b, state)) = &layer.bn {
                // a copy of the statistics: the network's own are not updated
                input = state.clone().forward(&z, batch, &p[g.clone()], &p[b.clone()], batch_stats)?;
                if batch_stats && self.spec.bn_noise > 0.0 {
                    add_noise(&mut input, layer.fan_out, self.seed, l, self.dropout_step, self.spec.bn_noise);
                }
            }
            let mut output = input.clone();
            layer.activation.forward(&mut output);
            h = output.clone();
            out.push(Inside { linear: z, input, output });
        }
        Ok(out)
    }

    pub fn zero_grad(&mut self) {
        self.grads.iter_mut().for_each(|g| *g = 0.0);
    }

    /// Zero the gradients, run a training forward and backward of softmax cross-entropy plus
    /// the penalty, and return the loss (data term + penalty).
    pub fn loss_and_gradients(&mut self, x: &[f32], labels: &[u32], reduction: Reduction, penalty: Penalty) -> Result<f32> {
        let (loss, _) = self.train_batch(x, labels, reduction, penalty)?;
        Ok(loss)
    }

    /// Like [`Mlp::loss_and_gradients`], also returning how many rows were misclassified.
    pub fn train_batch(&mut self, x: &[f32], labels: &[u32], reduction: Reduction, penalty: Penalty) -> Result<(f32, usize)> {
        self.zero_grad();
        let logits = self.forward(x, labels.len(), true)?;
        let (mut loss, dlogits) = cross_entropy(&logits, labels, self.classes(), reduction)?;
        let wrong = argmax_rows(&logits, self.classes()).iter().zip(labels).filter(|(p, &y)| **p != y as usize).count();
        self.backward(&dlogits)?;
        if !penalty.is_zero() {
            for r in self.weight_ranges() {
                loss += penalty.apply(&self.params[r.clone()], &mut self.grads[r]);
            }
        }
        Ok((loss, wrong))
    }

    /// One whole training step without a penalty: forward, softmax cross-entropy, backward
    /// and the optimizer's update applied layer by layer as the backward pass reaches it
    /// (while that layer's gradient is still in the cache), with the numbers of
    /// [`Mlp::train_batch`] followed by `optimizer.step`. The update is skipped, as a
    /// divergence guard, when the loss per example is not finite or above `max_loss`.
    /// Returns (loss, misclassified rows, whether the parameters were updated); the
    /// gradients stay readable afterwards.
    ///
    /// `x` may be the mini-batch's rows of the training set ([`Rows::gathered`]): the first
    /// layer's products then read them from there into their panels, so the batch is not
    /// copied into a matrix first (nor into the first layer's cache).
    pub fn train_step<'x>(
        &mut self,
        x: impl Into<Rows<'x>>,
        labels: &[u32],
        reduction: Reduction,
        max_loss: f32,
        optimizer: &mut dyn PartialStep,
    ) -> Result<(f32, usize, bool)> {
        let x = x.into();
        let (logits, outside) = self.forward_rows(x, labels.len(), true, false)?;
        let mut dlogits = self.buffer();
        let loss = cross_entropy_into(&logits, labels, self.classes(), reduction, &mut dlogits)?;
        let wrong = count_wrong(&logits, labels, self.classes());
        let per_example = reduction.per_example(loss, labels.len());
        let update = per_example.is_finite() && per_example <= max_loss;
        if update {
            optimizer.begin_step(self.params.len())?;
        }
        self.backward_into(&dlogits, false, update.then_some(optimizer), outside.then_some(x))?;
        self.give_back(logits);
        self.give_back(dlogits);
        Ok((loss, wrong, update))
    }

    /// Mean cross-entropy and error rate over a whole set in evaluation mode, in chunks.
    pub fn evaluate(&mut self, x: &[f32], labels: &[u8]) -> Result<(f32, f32)> {
        let n = labels.len();
        ensure!(n > 0, "cannot evaluate on an empty set");
        let (mut loss, mut wrong) = (0f64, 0usize);
        let f = self.inputs();
        for start in (0..n).step_by(500) {
            let end = (start + 500).min(n);
            let (l, w) = self.evaluate_sum(&x[start * f..end * f], &labels[start..end])?;
            loss += l;
            wrong += w;
        }
        Ok(((loss / n as f64) as f32, wrong as f32 / n as f32))
    }

    /// Summed cross-entropy and the number of misclassified rows of one chunk, in evaluation
    /// mode (callers that must stay responsive walk a set a chunk at a time).
    pub fn evaluate_sum(&mut self, x: &[f32], labels: &[u8]) -> Result<(f64, usize)> {
        let lab: Vec<u32> = labels.iter().map(|&l| l as u32).collect();
        let logits = self.forward(x, lab.len(), false)?;
        self.cached_batch = 0; // evaluation caches must not feed a later backward
        let (l, _) = cross_entropy(&logits, &lab, self.classes(), Reduction::Sum)?;
        let wrong = argmax_rows(&logits, self.classes()).iter().zip(&lab).filter(|(p, &y)| **p != y as usize).count();
        Ok((l as f64, wrong))
    }

    /// Predicted classes in evaluation mode.
    pub fn predict(&mut self, x: &[f32], batch: usize) -> Result<Vec<usize>> {
        let logits = self.forward(x, batch, false)?;
        self.cached_batch = 0;
        Ok(argmax_rows(&logits, self.classes()))
    }
}

/// Add the noisy batch-norm's scale and shift of (`seed`, layer `l`, `step`) to `z`
/// (batch × features); returns the scales, which backward needs.
fn add_noise(z: &mut [f32], features: usize, seed: u64, l: usize, step: u32, strength: f32) -> Vec<f32> {
    // keys apart from dropout's (which uses the layer index itself)
    let key = crate::rng::dropout_key(seed, 0x8000_0000 | l as u32);
    let (scale, shift) = super::batch_norm::noise(key, step, features, strength);
    for row in z.chunks_exact_mut(features) {
        for ((v, s), b) in row.iter_mut().zip(&scale).zip(&shift) {
            *v = s * *v + b;
        }
    }
    scale
}

/// Two disjoint ranges of one slice, mutably.
/// Keep `v`'s allocation among the `spare` buffers ([`Mlp::give_back`], for where `self` is
/// borrowed in parts).
fn keep(spare: &mut Vec<Vec<f32>>, v: Vec<f32>) {
    if v.capacity() > 0 && spare.len() < MAX_SPARE {
        spare.push(v);
    }
}

fn split_two(v: &mut [f32], a: Range<usize>, b: Range<usize>) -> (&mut [f32], &mut [f32]) {
    debug_assert!(a.end <= b.start);
    let (left, right) = v.split_at_mut(b.start);
    (&mut left[a], &mut right[..b.end - b.start])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_batch_by_classes_for_any_batch() {
        let mut mlp = Mlp::new(MlpSpec::new(&[784, 32, 16, 10], Activation::Relu), 1).unwrap();
        for m in [1, 2, 7, 64] {
            let x = crate::data::synthetic::gaussian_noise(m, 784, 3);
            assert_eq!(mlp.forward(&x, m, false).unwrap().len(), m * 10, "batch {m}");
        }
    }

    #[test]
    fn parameter_layout_follows_pytorch() {
        let mut spec = MlpSpec::new(&[3, 4, 2], Activation::Tanh);
        spec.batch_norm = vec![true];
        let mlp = Mlp::new(spec, 0).unwrap();
        // W1 12, b1 4, γ 4, β 4, W2 8, b2 2
        assert_eq!(mlp.parameters().len(), 12 + 4 + 4 + 4 + 8 + 2);
        assert_eq!(&mlp.parameters()[16..20], &[1.0; 4]);
        assert_eq!(&mlp.parameters()[20..24], &[0.0; 4]);
    }

    #[test]
    fn bad_specs_are_refused() {
        let cases: Vec<(MlpSpec, &str, &str)> = vec![
            (MlpSpec::new(&[784], Activation::Relu), "at least an input size", "one size only"),
            (MlpSpec::new(&[784, 0, 10], Activation::Relu), "is 0", "empty hidden layer"),
            (MlpSpec { dropout: vec![1.0], ..MlpSpec::new(&[4, 3, 2], Activation::Relu) }, "[0, 1)", "p = 1"),
            (MlpSpec { batch_norm: vec![true, false], ..MlpSpec::new(&[4, 3, 2], Activation::Relu) }, "hidden layers", "list too long"),
        ];
        for (spec, expected, reason) in cases {
            let err = Mlp::new(spec, 0).unwrap_err();
            assert!(err.message().contains(expected), "{reason}: {err}");
        }
        let mut mlp = Mlp::new(MlpSpec::new(&[4, 2], Activation::Relu), 0).unwrap();
        assert!(mlp.set_parameters(&[0.0; 3]).unwrap_err().message().contains("has 10 parameters"));
        assert!(mlp.forward(&[0.0; 7], 2, false).is_err());
    }
}
