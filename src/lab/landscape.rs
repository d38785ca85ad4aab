//! The "Momentum" cell: plain SGD, heavy-ball momentum and (if asked) Nesterov momentum
//! from one start on a 2-D surface ([`crate::landscape`]), each on the exact gradient.
//!
//! Every path is worked out when the experiment is built (a step is a handful of flops);
//! `run_for` then reveals it, so the student watches the paths grow over about
//! [`ANIMATION_MS`] whatever the number of steps or the frame rate. Built with `animate:
//! false` it shows step 0 and stays there (the cell's Reset).
//!
//! A run has *arrived* at the step from which it stays within `tol` of the minimum to the end
//! (one that only swings through the minimum has not), and has *diverged* once it is ten
//! times farther away than it started or has left the finite numbers. The read-out names
//! either only once the animation has shown that step.
//!
//! Charts: "map", the surface's contour map with the paths so far (a two-pass `contour`
//! chart); "distance", each run's distance to the minimum on a log scale against fixed axes
//! with the tolerance drawn across (a two-pass `convergence` chart).

use super::{Clock, Progress, STOPPED_BY_STUDENT};
use crate::landscape::{steps_to_tolerance, trajectory, Surface};
use crate::optim::Num;
use crate::plot::contour::{Path, View};
use crate::plot::{surface, tick, Body, Chart, Series};
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};

/// The most steps a run may take (each is a handful of flops; this bounds memory).
pub const MAX_STEPS: usize = 20_000;
/// The largest condition number of the quadratic (the page's slider ends here).
pub const MAX_KAPPA: f64 = 100.0;
/// The quadratic's long axis may turn this many degrees either way.
pub const MAX_TILT: f64 = 90.0;
/// The largest learning rate.
pub const MAX_LR: f64 = 100.0;
/// The largest momentum μ (at 1 the velocity never decays and no run settles).
pub const MAX_MOMENTUM: f64 = 0.999;
/// The start may lie this far from the origin on either axis.
pub const MAX_START: f64 = 1000.0;
/// How long revealing a whole run takes (about 150 frames of a 60 Hz screen).
pub const ANIMATION_MS: f64 = 2500.0;
/// The time the first call reveals, so a run shows its first step at once.
const FIRST_FRAME_MS: f64 = 1000.0 / 60.0;

/// The cell's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LandscapeSpec {
    /// "quadratic" or "rosenbrock".
    pub surface: String,
    /// The quadratic's condition number κ (default 10; Rosenbrock ignores it).
    #[serde(default = "ten")]
    pub kappa: f64,
    /// The quadratic's tilt in degrees (default 0).
    #[serde(default)]
    pub angle: f64,
    /// SGD's `lr`, shared by every run.
    pub lr: f64,
    /// μ of the momentum runs (default 0).
    #[serde(default)]
    pub momentum: f64,
    /// Add a Nesterov run (default false).
    #[serde(default)]
    pub nesterov: bool,
    pub start: (f64, f64),
    pub steps: usize,
    /// How close to the minimum counts as arrived (default 1e-3).
    #[serde(default = "milli")]
    pub tol: f64,
    /// Reveal the paths as `run_for` is called (default true); false shows step 0 only.
    #[serde(default = "yes")]
    pub animate: bool,
}
fn ten() -> f64 {
    10.0
}
fn milli() -> f64 {
    1e-3
}
fn yes() -> bool {
    true
}

/// The box of data space each surface shows (widened to the canvas's aspect when drawn).
pub fn view_box(surface: &str) -> Result<View> {
    Ok(match surface {
        "quadratic" => View { x: (-5.0, 5.0), y: (-3.0, 3.0) },
        "rosenbrock" => View { x: (-2.0, 2.0), y: (-1.0, 3.0) },
        other => bail!("unknown surface '{other}': use quadratic or rosenbrock"),
    })
}

/// The point under canvas pixel (`px`, `py`) of a map of `surface` on a canvas of `size`
/// pixels at device-pixel ratio `scale`, if the pixel lies on the plot (a click's start).
pub fn point_at(surface: &str, size: (u32, u32), scale: f64, (px, py): (f64, f64)) -> Result<Option<(f64, f64)>> {
    Ok(surface::frame_on(view_box(surface)?, size, scale).point_at(px, py))
}

/// One optimizer's run from the common start.
struct Track {
    key: &'static str,
    name: String,
    color: usize,
    points: Vec<(f64, f64)>,
    distance: Vec<f64>,
    reached: Option<usize>,
    diverged_at: Option<usize>,
}

/// One run's part of the read-out, as of the step shown.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackReport {
    /// "sgd", "momentum" or "nesterov".
    pub key: &'static str,
    pub name: String,
    pub color: usize,
    /// The step from which the run stays within the tolerance, once shown.
    pub reached: Option<usize>,
    /// The step at which the run blew up, once shown.
    pub diverged_at: Option<usize>,
    /// The distance to the minimum after the last step.
    pub final_distance: f64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LandscapeReport {
    pub status: &'static str,
    pub progress: Progress,
    /// Steps shown of `steps`.
    pub shown: usize,
    pub steps: usize,
    pub tol: f64,
    pub runs: Vec<TrackReport>,
}

/// Optimizer paths on a 2-D surface, revealed over time.
pub struct Landscape {
    spec: LandscapeSpec,
    surface: Surface,
    title: String,
    view: View,
    tracks: Vec<Track>,
    shown: usize,
    started_ms: Option<f64>,
    stopped: bool,
}

impl Landscape {
    pub fn new(spec: LandscapeSpec) -> Result<Landscape> {
        ensure!((1..=MAX_STEPS).contains(&spec.steps), "steps: {} is out of range (1 to {MAX_STEPS})", spec.steps);
        ensure!(spec.tol.is_finite() && spec.tol > 0.0, "tolerance: {} must be a positive number", Num(spec.tol));
        let (x, y) = spec.start;
        let on_map = |v: f64| v.is_finite() && v.abs() <= MAX_START;
        ensure!(on_map(x) && on_map(y), "start ({}, {}) is out of range: use −{MAX_START} to {MAX_START} for x and y", Num(x), Num(y));
        ensure!((0.0..=MAX_LR).contains(&spec.lr), "learning rate: {} is out of range (0 to {MAX_LR})", Num(spec.lr));
        ensure!((0.0..=MAX_MOMENTUM).contains(&spec.momentum), "momentum: {} is out of range (0 to {MAX_MOMENTUM})", Num(spec.momentum));
        let view = view_box(&spec.surface)?;
        let (surface, title) = if spec.surface == "quadratic" {
            ensure!((1.0..=MAX_KAPPA).contains(&spec.kappa), "condition number: {} is out of range (1 to {MAX_KAPPA})", Num(spec.kappa));
            ensure!(spec.angle.abs() <= MAX_TILT, "tilt: {}° is out of range (−{MAX_TILT} to {MAX_TILT})", Num(spec.angle));
            let tilt = if spec.angle != 0.0 { format!(", long axis at {}°", tick(spec.angle)) } else { String::new() };
            (Surface::Quadratic { kappa: spec.kappa, degrees: spec.angle }, format!("½(u² + κ·v²) with κ = {}{tilt}", tick(spec.kappa)))
        } else {
            (Surface::Rosenbrock { a: 1.0, b: 100.0 }, "Rosenbrock: (1 − x)² + 100·(y − x²)²".to_string())
        };
        let objective = surface.objective()?;
        let (lr, mu) = (spec.lr, spec.momentum);
        let mut runs = vec![
            ("sgd", "SGD, no momentum".to_string(), 0, serde_json::json!({ "lr": lr })),
            ("momentum", format!("momentum {mu}"), 1, serde_json::json!({ "lr": lr, "momentum": mu })),
        ];
        if spec.nesterov {
            // PyTorch's Nesterov needs μ > 0; at μ = 0 the run is plain SGD
            runs.push(("nesterov", format!("Nesterov {mu}"), 2, serde_json::json!({ "lr": lr, "momentum": mu, "nesterov": mu > 0.0 })));
        }
        let start = (x as f32, y as f32);
        let (mx, my) = objective.minimum();
        let dist = |(x, y): (f64, f64)| (x - mx).hypot(y - my);
        let mut tracks = Vec::with_capacity(runs.len());
        for (key, name, color, options) in runs {
            let mut opt = crate::optim::build("sgd", &options).map_err(|e| crate::Error::new(format!("{name}: {}", e.message())))?;
            let points: Vec<(f64, f64)> =
                trajectory(objective.as_ref(), opt.as_mut(), start, spec.steps).into_iter().map(|(x, y)| (x as f64, y as f64)).collect();
            let distance: Vec<f64> = points.iter().map(|&p| dist(p)).collect();
            // Arrived: within the tolerance from this step to the end of the run. Merely
            // passing within it (what `steps_to_tolerance` counts) would credit a momentum
            // run that swings through the minimum on its way to overshooting.
            let first = steps_to_tolerance(objective.as_ref(), opt.as_mut(), start, spec.steps, spec.tol);
            // NaN counts as "not within": a diverged path never settles
            let settled = distance.iter().rposition(|&d| d.is_nan() || d > spec.tol).map_or(0, |i| i + 1);
            let reached = first.filter(|_| settled < distance.len()).map(|f| f.max(settled));
            let far = 10.0 * distance[0].max(spec.tol);
            let diverged_at = distance.iter().position(|&d| d > far).or((points.len() < spec.steps + 1).then_some(points.len()));
            tracks.push(Track { key, name, color, points, distance, reached, diverged_at });
        }
        Ok(Landscape { spec, surface, title, view, tracks, shown: 0, started_ms: None, stopped: false })
    }

    pub fn spec(&self) -> &LandscapeSpec {
        &self.spec
    }

    /// Steps shown so far.
    pub fn shown(&self) -> usize {
        self.shown
    }

    /// Reveal the steps due by now; true while some are left. (The work was done when the
    /// experiment was built, so the budget is not needed.)
    pub fn run_for(&mut self, _budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        if !self.spec.animate || self.stopped || self.shown >= self.spec.steps {
            return Ok(false);
        }
        let now = clock.now_ms();
        let t0 = *self.started_ms.get_or_insert(now - FIRST_FRAME_MS);
        let due = (self.spec.steps as f64 * (now - t0) / ANIMATION_MS).ceil();
        self.shown = (due.max(0.0) as usize).clamp(self.shown, self.spec.steps);
        Ok(self.shown < self.spec.steps)
    }

    /// The student's Stop: the paths stay as far as they were shown.
    pub fn stop(&mut self) {
        if self.spec.animate && self.shown < self.spec.steps {
            self.stopped = true;
        }
    }

    pub fn report(&self) -> LandscapeReport {
        let shown = self.shown;
        let status = if self.stopped {
            STOPPED_BY_STUDENT
        } else if !self.spec.animate && shown == 0 {
            "idle"
        } else if shown < self.spec.steps {
            "running"
        } else {
            "finished"
        };
        let runs = self
            .tracks
            .iter()
            .map(|t| TrackReport {
                key: t.key,
                name: t.name.clone(),
                color: t.color,
                reached: t.reached.filter(|&s| s <= shown),
                diverged_at: t.diverged_at.filter(|&s| s <= shown),
                final_distance: *t.distance.last().unwrap_or(&f64::NAN),
            })
            .collect();
        LandscapeReport {
            status,
            progress: Progress { done: shown, total: self.spec.steps },
            shown,
            steps: self.spec.steps,
            tol: self.spec.tol,
            runs,
        }
    }

    /// "map": the contour map with the paths so far (a diverged run up to the step that took
    /// it far away, not as a blot of ever longer jumps across the map); "distance": each
    /// run's distance to the minimum so far, on fixed log axes from two decades under the
    /// tolerance to a decade over the start.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let upto = self.shown + 1;
        match name {
            "map" => {
                let paths = self
                    .tracks
                    .iter()
                    .map(|t| {
                        let end = t.diverged_at.map_or(t.points.len(), |d| (d + 1).min(t.points.len())).min(upto);
                        Path { name: t.name.clone(), points: t.points[..end].to_vec(), color: t.color }
                    })
                    .collect();
                let body = Body::Contour { surface: self.surface, view: self.view, paths, decades: 5.0, per_decade: 3 };
                Ok(Chart { title: self.title.clone(), x_label: "x".into(), y_label: "y".into(), body })
            }
            "distance" => {
                let tol = self.spec.tol;
                let start = self.tracks.first().map_or(1.0, |t| t.distance[0]).max(tol);
                let series = self
                    .tracks
                    .iter()
                    .map(|t| {
                        let points = t.distance.iter().take(upto).enumerate().map(|(k, &d)| (k as f64, d.max(1e-300))).collect();
                        Series::new(t.name.clone(), points, t.color)
                    })
                    .collect();
                let body = Body::Convergence {
                    series,
                    x_max: Some(self.spec.steps as f64),
                    y_range: Some((10f64.powf(tol.log10().floor() - 2.0), 10f64.powf(start.log10().ceil() + 1.0))),
                    hline: Some((tol, format!("tolerance {}", tol_text(tol)))),
                };
                Ok(Chart { title: "distance to the minimum".into(), x_label: "step".into(), y_label: "distance (log scale)".into(), body })
            }
            _ => bail!("the momentum cell has no chart {name:?} (it has \"map\" and \"distance\")"),
        }
    }
}

/// A tolerance as the plot labels it: "1e-3" for a power of ten.
fn tol_text(tol: f64) -> String {
    let e = tol.log10();
    if (e - e.round()).abs() < 1e-9 {
        format!("1e{}", e.round())
    } else {
        format!("{tol}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A clock the test moves by hand.
    struct Manual(Cell<f64>);
    impl Clock for Manual {
        fn now_ms(&self) -> f64 {
            self.0.get()
        }
    }

    fn spec() -> LandscapeSpec {
        serde_json::from_value(serde_json::json!({
            "surface": "quadratic", "kappa": 50, "lr": 0.035, "momentum": 0.8, "start": [-4, 1.5], "steps": 300
        }))
        .unwrap()
    }

    #[test]
    fn the_paths_are_revealed_over_the_animation_and_stop_when_asked() {
        let clock = Manual(Cell::new(1000.0));
        let mut l = Landscape::new(spec()).unwrap();
        assert_eq!(l.report().status, "running", "built, not yet shown");
        assert!(l.run_for(12.0, &clock).unwrap());
        assert!((1..=3).contains(&l.shown()), "the first call shows about a frame's worth: {}", l.shown());
        clock.0.set(1000.0 + ANIMATION_MS / 2.0);
        l.run_for(12.0, &clock).unwrap();
        assert!((149..=152).contains(&l.shown()), "half the time, half the steps: {}", l.shown());
        clock.0.set(500.0);
        l.run_for(12.0, &clock).unwrap();
        assert!(l.shown() >= 149, "a clock that steps back never hides steps");
        l.stop();
        clock.0.set(1e9);
        assert!(!l.run_for(12.0, &clock).unwrap());
        assert_eq!((l.report().status, l.report().progress.done < 300), ("stopped", true));

        let mut all = Landscape::new(spec()).unwrap();
        all.run_for(12.0, &clock).unwrap();
        clock.0.set(2e9);
        assert!(!all.run_for(12.0, &clock).unwrap());
        assert_eq!((all.report().status, all.shown()), ("finished", 300));
        all.stop();
        assert_eq!(all.report().status, "finished", "Stop after the end changes nothing");

        let mut reset = Landscape::new(LandscapeSpec { animate: false, ..spec() }).unwrap();
        assert!(!reset.run_for(12.0, &clock).unwrap());
        assert_eq!((reset.report().status, reset.shown()), ("idle", 0), "a Reset shows the start and waits");
    }

    #[test]
    fn the_read_out_names_a_step_only_once_it_is_shown() {
        let clock = Manual(Cell::new(0.0));
        let mut l = Landscape::new(spec()).unwrap();
        let reached = |l: &Landscape| l.report().runs.iter().map(|r| r.reached).collect::<Vec<_>>();
        assert_eq!(reached(&l), [None, None], "nothing shown yet");
        l.run_for(12.0, &clock).unwrap();
        clock.0.set(1e9);
        l.run_for(12.0, &clock).unwrap();
        let at = reached(&l);
        assert!(at.iter().all(|s| s.is_some()), "at the end both have arrived: {at:?}");
        let map = l.chart("map").unwrap();
        let Body::Contour { paths, .. } = &map.body else { panic!() };
        assert_eq!(paths.iter().map(|p| p.points.len()).collect::<Vec<_>>(), [301, 301], "the start and 300 steps");
        let distance = l.chart("distance").unwrap();
        assert_eq!(distance.series()[0].points.len(), 301);
        assert!(matches!(&distance.body, Body::Convergence { hline: Some((_, label)), .. } if label == "tolerance 1e-3"));
        assert!(l.chart("loss").unwrap_err().message().contains("\"map\" and \"distance\""));
    }

    #[test]
    fn bad_settings_are_named() {
        // (change to the defaults, part of the message, reason)
        let rows = [
            (serde_json::json!({ "steps": 0 }), "steps: 0", "no steps"),
            (serde_json::json!({ "steps": MAX_STEPS + 1 }), "steps: 20001 is out of range (1 to 20000)", "too many steps"),
            (serde_json::json!({ "lr": -1 }), "learning rate: -1", "a negative learning rate"),
            (serde_json::json!({ "momentum": 1.5 }), "momentum: 1.5", "momentum above 1"),
            (serde_json::json!({ "kappa": 0.5 }), "condition number: 0.5", "κ below 1"),
            (serde_json::json!({ "kappa": 1000 }), "condition number: 1000", "κ beyond the slider"),
            (serde_json::json!({ "angle": 120 }), "tilt: 120°", "tilted past the vertical"),
            (serde_json::json!({ "start": [5000, 0] }), "start (5000, 0)", "a start off the map"),
            (serde_json::json!({ "tol": 0 }), "tolerance: 0", "a zero tolerance"),
            (serde_json::json!({ "surface": "himmelblau" }), "unknown surface 'himmelblau'", "an unknown surface"),
        ];
        for (change, want, reason) in rows {
            let mut v = serde_json::to_value(spec()).unwrap();
            v.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
            let err = Landscape::new(serde_json::from_value(v).unwrap()).err().unwrap_or_else(|| panic!("{reason}: accepted"));
            assert!(err.message().contains(want), "{reason}: {}", err.message());
        }
        let rosenbrock = serde_json::json!({ "surface": "rosenbrock", "kappa": 1000, "angle": 500, "lr": 0.001, "start": [-1.2, 1], "steps": 10 });
        assert!(Landscape::new(serde_json::from_value(rosenbrock).unwrap()).is_ok(), "Rosenbrock has no κ or tilt to check");
    }

    #[test]
    fn a_click_lands_on_the_point_under_it() {
        // (surface, canvas size, ratio, pixel, expected point, reason)
        type Row = (&'static str, (u32, u32), f64, (f64, f64), Option<(f64, f64)>, &'static str);
        let rows: [Row; 3] = [
            ("quadratic", (800, 600), 1.0, (0.0, 0.0), None, "the canvas corner is outside the plot"),
            ("quadratic", (800, 600), 1.0, (54.0 + 0.5 * 738.0, 30.0 + 0.5 * 526.0), Some((0.0, 0.0)), "the plot's centre is the bowl's"),
            ("rosenbrock", (1600, 1200), 2.0, (108.0 + 0.5 * 1476.0, 60.0 + 0.5 * 1052.0), Some((0.0, 1.0)), "HiDPI: the centre of Rosenbrock's box"),
        ];
        for (surface, size, scale, px, want, reason) in rows {
            let got = point_at(surface, size, scale, px).unwrap();
            match (got, want) {
                (Some(g), Some(w)) => assert!((g.0 - w.0).abs() < 1e-9 && (g.1 - w.1).abs() < 1e-9, "{reason}: {g:?}"),
                (g, w) => assert_eq!(g, w, "{reason}"),
            }
        }
    }
}
