//! Element-wise non-linearities, as `torch.nn.{ReLU, LeakyReLU, Tanh, Sigmoid}`.
//!
//! | name       | forward f(x)                 | derivative f'(x) used in backward |
//! |------------|------------------------------|-----------------------------------|
//! | relu       | max(0, x)                    | 1 if x > 0 else 0                 |
//! | leaky_relu | x if x > 0 else s·x (s=0.01) | 1 if x > 0 else s                 |
//! | tanh       | tanh(x)                      | 1 − y²  (y = tanh x)              |
//! | sigmoid    | 1 / (1 + e^−x)               | y·(1 − y)                         |
//!
//! At x = 0 ReLU's derivative is taken as 0, as PyTorch does.

use crate::{bail, Result};
use serde::{Deserialize, Serialize};

/// An element-wise activation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
    /// No non-linearity (used to show that stacked linear layers collapse into one).
    Identity,
}

/// PyTorch's default negative slope for LeakyReLU.
pub const LEAKY_SLOPE: f32 = 0.01;

impl Activation {
    /// Parse a name as the JS API spells it.
    pub fn parse(name: &str) -> Result<Activation> {
        Ok(match name {
            "relu" => Activation::Relu,
            "leaky_relu" | "leakyrelu" => Activation::LeakyRelu,
            "tanh" => Activation::Tanh,
            "sigmoid" => Activation::Sigmoid,
            "identity" | "linear" => Activation::Identity,
            other => bail!("unknown activation \"{other}\"; expected \"relu\", \"leaky_relu\", \"tanh\", \"sigmoid\" or \"identity\""),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Identity => "identity",
        }
    }

    /// The gain `torch.nn.init.calculate_gain` gives this non-linearity.
    pub fn gain(self) -> f32 {
        match self {
            Activation::Relu => std::f32::consts::SQRT_2,
            Activation::LeakyRelu => (2.0 / (1.0 + LEAKY_SLOPE * LEAKY_SLOPE)).sqrt(),
            Activation::Tanh => 5.0 / 3.0,
            Activation::Sigmoid | Activation::Identity => 1.0,
        }
    }

    /// Apply in place.
    pub fn forward(self, x: &mut [f32]) {
        match self {
            // NaN kept, as PyTorch's relu (see `backend::relu_value`)
            Activation::Relu => crate::backend::relu(x),
            Activation::LeakyRelu => x.iter_mut().for_each(|v| *v = if *v < 0.0 { *v * LEAKY_SLOPE } else { *v }),
            Activation::Tanh => x.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Sigmoid => x.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Identity => {}
        }
    }

    /// Multiply `dy` in place by f'(x), given the forward *output* `y` (every derivative above
    /// can be written from y: for (leaky) ReLU, y > 0 exactly when x > 0).
    pub fn backward(self, y: &[f32], dy: &mut [f32]) {
        match self {
            // selects, as in forward (a NaN output passes its gradient on, as before)
            Activation::Relu => crate::backend::relu_grad(y, dy),
            Activation::LeakyRelu => dy.iter_mut().zip(y).for_each(|(d, &y)| *d = if y <= 0.0 { *d * LEAKY_SLOPE } else { *d }),
            Activation::Tanh => dy.iter_mut().zip(y).for_each(|(d, &y)| *d *= 1.0 - y * y),
            Activation::Sigmoid => dy.iter_mut().zip(y).for_each(|(d, &y)| *d *= y * (1.0 - y)),
            Activation::Identity => {}
        }
    }
}

/// The logistic function, computed without overflow for large |x|.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        for act in [Activation::Relu, Activation::LeakyRelu, Activation::Tanh, Activation::Sigmoid, Activation::Identity] {
            for &x0 in &[-2.0f32, -0.3, 0.4, 1.7] {
                let h = 1e-3f64;
                let f = |x: f64| {
                    let mut v = [x as f32];
                    act.forward(&mut v);
                    v[0] as f64
                };
                let numeric = (f(x0 as f64 + h) - f(x0 as f64 - h)) / (2.0 * h);
                let mut y = [x0];
                act.forward(&mut y);
                let mut d = [1.0];
                act.backward(&y, &mut d);
                assert!((d[0] as f64 - numeric).abs() < 2e-3, "{act:?} at {x0}: {} vs {numeric}", d[0]);
            }
        }
    }

    #[test]
    fn relu_propagates_nan_like_pytorch() {
        // torch.relu(torch.tensor([float('nan'), -1.0, 2.0])) -> tensor([nan, 0., 2.])
        let mut x = [f32::NAN, -1.0, 2.0];
        Activation::Relu.forward(&mut x);
        assert!(x[0].is_nan(), "relu(NaN) = {}", x[0]);
        assert_eq!(&x[1..], &[0.0, 2.0]);
        for act in [Activation::LeakyRelu, Activation::Tanh, Activation::Sigmoid, Activation::Identity] {
            let mut v = [f32::NAN];
            act.forward(&mut v);
            assert!(v[0].is_nan(), "{act:?}(NaN) = {}", v[0]);
        }
    }

    #[test]
    fn names_round_trip_and_unknown_is_refused() {
        for a in [Activation::Relu, Activation::LeakyRelu, Activation::Tanh, Activation::Sigmoid, Activation::Identity] {
            assert_eq!(Activation::parse(a.name()).unwrap(), a);
        }
        assert!(Activation::parse("softplus").unwrap_err().message().contains("unknown activation"));
    }
}
