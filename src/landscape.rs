//! 2-D objectives for watching optimizers move: a quadratic bowl whose condition number
//! (and tilt) you choose, and Rosenbrock's banana valley.
//!
//! # The objectives
//!
//! - [`Quadratic`]: f(x, y) = ½·(u² + κ·v²), where (u, v) are (x, y) expressed in axes
//!   turned by an angle θ:  u = x·cos θ + y·sin θ,  v = −x·sin θ + y·cos θ.
//!   The Hessian has eigenvalues 1 and κ, so κ is the condition number: gradient descent
//!   needs lr < 2/κ to stay stable along v, and then crawls along u at a rate of about
//!   1 − lr per step. With θ = 0 the valley lies along the x axis; any other θ tilts it, and
//!   per-weight methods (Rprop, RMSprop, Adam) lose the advantage they have on an
//!   axis-aligned valley. Minimum 0 at (0, 0).
//! - [`Rosenbrock`]: f(x, y) = (a − x)² + b·(y − x²)², with a = 1, b = 100 by default
//!   (Rosenbrock, "An automatic method for finding the greatest or least value of a
//!   function", The Computer Journal, 1960). The valley floor y = x² is easy to reach and
//!   slow to follow. Minimum 0 at (a, a²).
//!
//! # Running an optimizer
//!
//! [`trajectory`] and [`steps_to_tolerance`] feed an [`Optimizer`] the exact gradient at
//! its current point, as a two-weight model: parameters `[x, y]` in `f32`, the gradient
//! worked out in `f64` and rounded to `f32`. Both reset the optimizer first, so every run
//! starts fresh.
//!
//! A [`Surface`] names an objective as plain data (`{ "kind": "quadratic", "kappa": 50 }`),
//! so a spec or a chart can carry it and build the objective where it is needed.

use crate::optim::{Num, Optimizer};
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};

/// A smooth function of two variables with a known minimum.
pub trait Objective {
    /// A short name for plots and URLs ("quadratic", "rosenbrock").
    fn name(&self) -> &'static str;
    /// f(x, y).
    fn value(&self, x: f64, y: f64) -> f64;
    /// (∂f/∂x, ∂f/∂y).
    fn grad(&self, x: f64, y: f64) -> (f64, f64);
    /// Where the global minimum is.
    fn minimum(&self) -> (f64, f64);
}

/// f(x, y) = ½·(u² + κ·v²) in axes turned by θ; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quadratic {
    kappa: f64,
    angle: f64,
}

impl Quadratic {
    /// An axis-aligned bowl, ½·(x² + κ·y²), with condition number `kappa` >= 1.
    pub fn new(kappa: f64) -> Result<Quadratic> {
        Quadratic::rotated(kappa, 0.0)
    }

    /// A bowl with condition number `kappa` >= 1 whose long axis is turned by `angle`
    /// radians from the x axis.
    pub fn rotated(kappa: f64, angle: f64) -> Result<Quadratic> {
        ensure!(kappa.is_finite() && kappa >= 1.0, "Invalid condition number: {} (need a finite kappa >= 1)", Num(kappa));
        ensure!(angle.is_finite(), "Invalid angle: {} (need a finite number of radians)", Num(angle));
        Ok(Quadratic { kappa, angle })
    }

    /// The condition number κ.
    pub fn kappa(&self) -> f64 {
        self.kappa
    }

    /// The tilt θ in radians.
    pub fn angle(&self) -> f64 {
        self.angle
    }

    /// (u, v): the point in the bowl's own axes.
    fn to_axes(self, x: f64, y: f64) -> (f64, f64) {
        let (s, c) = self.angle.sin_cos();
        (x * c + y * s, -x * s + y * c)
    }
}

impl Objective for Quadratic {
    fn name(&self) -> &'static str {
        "quadratic"
    }

    fn value(&self, x: f64, y: f64) -> f64 {
        let (u, v) = self.to_axes(x, y);
        0.5 * (u * u + self.kappa * v * v)
    }

    fn grad(&self, x: f64, y: f64) -> (f64, f64) {
        // ∇f = Rᵀ·(u, κ·v): turn the gradient in the bowl's axes back to (x, y).
        let (u, v) = self.to_axes(x, y);
        let (s, c) = self.angle.sin_cos();
        let (du, dv) = (u, self.kappa * v);
        (du * c - dv * s, du * s + dv * c)
    }

    fn minimum(&self) -> (f64, f64) {
        (0.0, 0.0)
    }
}

/// f(x, y) = (a − x)² + b·(y − x²)²; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rosenbrock {
    a: f64,
    b: f64,
}

impl Default for Rosenbrock {
    /// The classic a = 1, b = 100.
    fn default() -> Self {
        Rosenbrock { a: 1.0, b: 100.0 }
    }
}

impl Rosenbrock {
    /// Rosenbrock's function with minimum at (a, a²); `b` > 0 sets how steep the valley
    /// walls are.
    pub fn new(a: f64, b: f64) -> Result<Rosenbrock> {
        ensure!(a.is_finite(), "Invalid Rosenbrock a: {} (need a finite number)", Num(a));
        ensure!(b.is_finite() && b > 0.0, "Invalid Rosenbrock b: {} (need a finite b > 0)", Num(b));
        Ok(Rosenbrock { a, b })
    }
}

impl Objective for Rosenbrock {
    fn name(&self) -> &'static str {
        "rosenbrock"
    }

    fn value(&self, x: f64, y: f64) -> f64 {
        let (dx, dy) = (self.a - x, y - x * x);
        dx * dx + self.b * dy * dy
    }

    fn grad(&self, x: f64, y: f64) -> (f64, f64) {
        let (dx, dy) = (self.a - x, y - x * x);
        // ∂f/∂x = −2(a − x) − 4b·x·(y − x²),  ∂f/∂y = 2b·(y − x²)
        (-2.0 * dx - 4.0 * self.b * x * dy, 2.0 * self.b * dy)
    }

    fn minimum(&self) -> (f64, f64) {
        (self.a, self.a * self.a)
    }
}

/// An objective as plain data: which surface and its shape.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum Surface {
    /// [`Quadratic`] with condition number `kappa`, its long axis turned by `degrees`.
    Quadratic {
        kappa: f64,
        #[serde(default)]
        degrees: f64,
    },
    /// [`Rosenbrock`] with its `a` and `b` (default 1 and 100).
    Rosenbrock {
        #[serde(default = "rosenbrock_a")]
        a: f64,
        #[serde(default = "rosenbrock_b")]
        b: f64,
    },
}

fn rosenbrock_a() -> f64 {
    1.0
}
fn rosenbrock_b() -> f64 {
    100.0
}

impl Surface {
    /// The objective this names, with its own checks of the shape.
    pub fn objective(&self) -> Result<Box<dyn Objective>> {
        Ok(match *self {
            Surface::Quadratic { kappa, degrees } => Box::new(Quadratic::rotated(kappa, degrees.to_radians())?),
            Surface::Rosenbrock { a, b } => Box::new(Rosenbrock::new(a, b)?),
        })
    }
}

/// One optimizer step on a two-weight model at `p`; false if the step failed or left the
/// finite numbers.
fn advance(obj: &dyn Objective, opt: &mut dyn Optimizer, p: &mut [f32; 2]) -> bool {
    let (gx, gy) = obj.grad(p[0] as f64, p[1] as f64);
    opt.step(p, &[gx as f32, gy as f32]).is_ok() && p.iter().all(|v| v.is_finite())
}

/// The points visited by `opt` on `obj` from `start`: the start, then one point per step,
/// `steps + 1` in all. The optimizer is reset first. A run that diverges ends early, at the
/// last finite point, so a short trajectory means the optimizer blew up.
pub fn trajectory(obj: &dyn Objective, opt: &mut dyn Optimizer, start: (f32, f32), steps: usize) -> Vec<(f32, f32)> {
    opt.reset();
    let mut p = [start.0, start.1];
    let mut points = Vec::with_capacity(steps + 1);
    points.push(start);
    for _ in 0..steps {
        if !advance(obj, opt, &mut p) {
            break;
        }
        points.push((p[0], p[1]));
    }
    points
}

/// How many steps `opt` needs, from `start`, to first come within distance `tol` of the
/// minimum of `obj` (Euclidean distance in (x, y)); `Some(0)` if the start already is, and
/// `None` if it does not happen within `max_steps` or the run diverges. The optimizer is
/// reset first.
pub fn steps_to_tolerance(obj: &dyn Objective, opt: &mut dyn Optimizer, start: (f32, f32), max_steps: usize, tol: f64) -> Option<usize> {
    opt.reset();
    let (mx, my) = obj.minimum();
    let close = |p: &[f32; 2]| (p[0] as f64 - mx).hypot(p[1] as f64 - my) <= tol;
    let mut p = [start.0, start.1];
    if close(&p) {
        return Some(0);
    }
    for k in 1..=max_steps {
        if !advance(obj, opt, &mut p) {
            return None;
        }
        if close(&p) {
            return Some(k);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Sgd, SgdConfig};
    use std::f64::consts::FRAC_PI_4;

    fn finite_difference(obj: &dyn Objective, x: f64, y: f64) -> (f64, f64) {
        let h = 1e-6;
        ((obj.value(x + h, y) - obj.value(x - h, y)) / (2.0 * h), (obj.value(x, y + h) - obj.value(x, y - h)) / (2.0 * h))
    }

    #[test]
    fn gradients_match_finite_differences() {
        let quad = Quadratic::new(10.0).unwrap();
        let tilted = Quadratic::rotated(25.0, 0.3).unwrap();
        let rosen = Rosenbrock::default();
        let other = Rosenbrock::new(-0.5, 3.0).unwrap();
        // (objective, x, y, reason)
        let rows: &[(&dyn Objective, f64, f64, &str)] = &[
            (&quad, 1.5, -0.7, "axis-aligned bowl"),
            (&tilted, 1.5, -0.7, "tilted bowl: the rotation must be undone correctly"),
            (&tilted, -2.0, 0.1, "tilted bowl, other quadrant"),
            (&rosen, -1.2, 1.0, "Rosenbrock's classic start"),
            (&rosen, 0.5, 0.25, "on the valley floor: only the (a − x) term pulls"),
            (&rosen, 1.3, -0.4, "far below the valley: the steep wall"),
            (&other, 0.7, 2.0, "non-default a and b"),
        ];
        for &(obj, x, y, reason) in rows {
            let (gx, gy) = obj.grad(x, y);
            let (fx, fy) = finite_difference(obj, x, y);
            let scale = 1.0 + gx.abs().max(gy.abs());
            assert!(
                (gx - fx).abs() < 1e-6 * scale && (gy - fy).abs() < 1e-6 * scale,
                "{reason}: analytic ({gx}, {gy}) vs finite difference ({fx}, {fy})"
            );
        }
    }

    #[test]
    fn minimum_is_a_zero_gradient_and_the_lowest_value() {
        let objectives: [&dyn Objective; 3] =
            [&Quadratic::rotated(50.0, FRAC_PI_4).unwrap(), &Rosenbrock::default(), &Rosenbrock::new(2.0, 5.0).unwrap()];
        for obj in objectives {
            let (mx, my) = obj.minimum();
            assert_eq!(obj.grad(mx, my), (0.0, 0.0), "{}", obj.name());
            assert_eq!(obj.value(mx, my), 0.0, "{}", obj.name());
            for (dx, dy) in [(1e-3, 0.0), (0.0, -1e-3), (0.5, 0.5)] {
                assert!(obj.value(mx + dx, my + dy) > 0.0, "{}", obj.name());
            }
        }
    }

    #[test]
    fn kappa_is_the_curvature_ratio_along_the_turned_axes() {
        let q = Quadratic::rotated(40.0, 0.6).unwrap();
        let (s, c) = 0.6f64.sin_cos();
        let along_u = q.value(c, s); // unit step along u
        let along_v = q.value(-s, c); // unit step along v
        assert!((along_u - 0.5).abs() < 1e-12 && (along_v - 20.0).abs() < 1e-12);
    }

    #[test]
    fn invalid_shapes_are_rejected() {
        // (result, expected message start, reason)
        let rows = [
            (Quadratic::new(0.5).err(), "Invalid condition number: 0.5", "kappa below 1"),
            (Quadratic::new(f64::NAN).err(), "Invalid condition number: NaN", "NaN kappa"),
            (Quadratic::rotated(2.0, f64::INFINITY).err(), "Invalid angle: inf", "angle"),
            (Rosenbrock::new(1.0, 0.0).err(), "Invalid Rosenbrock b: 0", "flat valley"),
            (Rosenbrock::new(f64::NAN, 1.0).err(), "Invalid Rosenbrock a: NaN", "NaN a"),
        ];
        for (err, want, reason) in rows {
            let err = err.unwrap_or_else(|| panic!("{reason}: accepted"));
            assert!(err.message().starts_with(want), "{reason}: {err}");
        }
    }

    #[test]
    fn a_surface_names_its_objective() {
        // (JSON, a point, the value there, reason)
        let rows = [
            (r#"{ "kind": "quadratic", "kappa": 4 }"#, (1.0, 1.0), 2.5, "½(1 + 4·1) with no tilt"),
            (r#"{ "kind": "quadratic", "kappa": 4, "degrees": 90 }"#, (1.0, 0.0), 2.0, "turned a quarter: x lies across the valley"),
            (r#"{ "kind": "rosenbrock" }"#, (1.0, 1.0), 0.0, "the classic a = 1, b = 100 has its minimum at (1, 1)"),
            (r#"{ "kind": "rosenbrock", "a": 0, "b": 1 }"#, (0.0, 1.0), 1.0, "b·(y − x²)² with a = 0, b = 1"),
        ];
        for (json, (x, y), want, reason) in rows {
            let s: Surface = serde_json::from_str(json).unwrap();
            let v = s.objective().unwrap().value(x, y);
            assert!((v - want).abs() < 1e-12, "{reason}: {v}");
        }
        let bad: Surface = serde_json::from_str(r#"{ "kind": "quadratic", "kappa": 0.5 }"#).unwrap();
        assert!(bad.objective().err().unwrap().message().contains("0.5"), "the objective's own checks apply");
        assert!(serde_json::from_str::<Surface>(r#"{ "kind": "himmelblau" }"#).is_err());
    }

    #[test]
    fn trajectory_starts_at_start_and_has_one_point_per_step() {
        let obj = Quadratic::new(4.0).unwrap();
        let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
        let path = trajectory(&obj, &mut opt, (1.0, 1.0), 5);
        assert_eq!(path.len(), 6);
        assert_eq!(path[0], (1.0, 1.0));
        // SGD on ½(x² + 4y²): x ← 0.9x, y ← 0.6y.
        assert!((path[1].0 - 0.9).abs() < 1e-6 && (path[1].1 - 0.6).abs() < 1e-6);
        // Running again gives the same path: the optimizer is reset first.
        assert_eq!(trajectory(&obj, &mut opt, (1.0, 1.0), 5), path);
    }

    #[test]
    fn diverging_trajectory_ends_early() {
        // lr = 1 on κ = 4: y ← (1 − 4)·y triples in size every step until f32 overflows.
        let obj = Quadratic::new(4.0).unwrap();
        let mut opt = Sgd::new(SgdConfig { lr: 1.0, ..Default::default() }).unwrap();
        let path = trajectory(&obj, &mut opt, (1.0, 1.0), 1000);
        assert!(path.len() < 200, "{} points", path.len());
        assert!(path.iter().all(|(x, y)| x.is_finite() && y.is_finite()));
    }

    #[test]
    fn steps_to_tolerance_counts_steps() {
        let obj = Quadratic::new(1.0).unwrap();
        let exact = SgdConfig { lr: 1.0, ..Default::default() };
        let mut opt = Sgd::new(exact).unwrap();
        // (start, max steps, expected, reason)
        type Row = ((f32, f32), usize, Option<usize>, &'static str);
        let rows: &[Row] = &[
            ((0.0, 0.0), 10, Some(0), "already at the minimum"),
            ((3.0, -4.0), 10, Some(1), "lr 1 on ½|p|² jumps straight to the minimum"),
            ((3.0, -4.0), 0, None, "no steps allowed"),
        ];
        for &(start, max_steps, want, reason) in rows {
            assert_eq!(steps_to_tolerance(&obj, &mut opt, start, max_steps, 1e-9), want, "{reason}");
        }
        let mut slow = Sgd::new(SgdConfig { lr: 0.5, ..Default::default() }).unwrap();
        // Distance halves every step: 5 → below 1e-3 after 13 steps (5/2¹³ ≈ 6.1e-4).
        assert_eq!(steps_to_tolerance(&obj, &mut slow, (3.0, -4.0), 100, 1e-3), Some(13));
    }
}
