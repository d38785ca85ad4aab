//! The optimizers against real PyTorch, and the behaviour every optimizer must share.
//!
//! - `matches_pytorch`: replays `tests/fixtures/optim.json` (written by
//!   `tools/gen_optim_fixtures.py`) through [`build`] with the same options.
//! - One list, [`OPTIMIZERS`], drives the generic tests: convergence on a quadratic and on
//!   Rosenbrock, no NaN, and reset.
//! - Table-driven validation and builder tests, and the Rprop mini-batch thought experiment.

use descent::landscape::{steps_to_tolerance, trajectory, Objective, Quadratic, Rosenbrock};
use descent::optim::{build, Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Rprop, RpropConfig, Sgd, SgdConfig, NAMES};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------
// Agreement with PyTorch
// ---------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct Fixture {
    generator: String,
    torch: String,
    initial: Vec<f32>,
    grads: Vec<Vec<f32>>,
    cases: Vec<FixtureCase>,
}

#[derive(Deserialize)]
struct FixtureCase {
    optimizer: String,
    options: Value,
    /// (step index, lr) pairs applied before that step.
    set_lr: Vec<(usize, f64)>,
    reason: String,
    /// Parameters after each step.
    after: Vec<Vec<f32>>,
    /// PyTorch's state tensors after the last step, by PyTorch's names.
    state: BTreeMap<String, Vec<f32>>,
    /// PyTorch's `state["step"]` after the last step (absent for SGD).
    step: Option<u64>,
}

/// Relative agreement of 1e-5, with an absolute floor of 1e-6 for values near zero.
fn close(got: f32, want: f32) -> bool {
    (got - want).abs() <= 1e-5 * want.abs() + 1e-6
}

fn assert_all_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(close(g, w), "{what}[{i}]: ours {g:e}, PyTorch {w:e} (diff {:e})", g - w);
    }
}

// The fixture comes from, for every case (see tools/gen_optim_fixtures.py):
//
//     p = torch.tensor(initial, dtype=torch.float32, requires_grad=True)
//     opt = torch.optim.Adam([p], foreach=False, **options)   # or SGD, Rprop, ...
//     for t, g in enumerate(grads):
//         if t in set_lr: opt.param_groups[0]["lr"] = set_lr[t]
//         p.grad = torch.tensor(g); opt.step(); after.append(p.detach().clone())
#[test]
fn matches_pytorch() {
    let fixture: Fixture = serde_json::from_str(include_str!("fixtures/optim.json")).expect("fixture parses");
    assert_eq!(fixture.generator, "tools/gen_optim_fixtures.py");
    assert!(fixture.torch.starts_with('2'), "fixture from torch {}", fixture.torch);
    for name in NAMES {
        assert!(fixture.cases.iter().any(|c| c.optimizer == *name), "no PyTorch fixture for {name}");
    }

    let (mut exact, mut total, mut worst) = (0usize, 0usize, 0f32);
    for case in &fixture.cases {
        let label = format!("{} {} ({})", case.optimizer, case.options, case.reason);
        let mut opt = build(&case.optimizer, &case.options).unwrap_or_else(|e| panic!("{label}: build failed: {e}"));
        let mut params = fixture.initial.clone();
        for (t, (grad, want)) in fixture.grads.iter().zip(&case.after).enumerate() {
            for &(_, lr) in case.set_lr.iter().filter(|(at, _)| *at == t) {
                opt.set_lr(lr as f32).unwrap();
            }
            opt.step(&mut params, grad).unwrap();
            assert_all_close(&params, want, &format!("{label}, step {}", t + 1));
            for (&g, &w) in params.iter().zip(want) {
                total += 1;
                exact += (g == w) as usize;
                let used = (g - w).abs() / (1e-5 * w.abs() + 1e-6); // share of the tolerance
                worst = worst.max(used);
            }
        }
        assert_eq!(case.after.len(), fixture.grads.len(), "{label}: steps");

        let ours: BTreeMap<String, Vec<f32>> = opt.state().into_iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect();
        let names = |m: &BTreeMap<String, Vec<f32>>| m.keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(&ours), names(&case.state), "{label}: state names");
        for (key, want) in &case.state {
            assert_all_close(&ours[key], want, &format!("{label}, state {key}"));
        }
        assert_eq!(opt.step_count(), case.step, "{label}: step counter");
    }
    // Not an assertion: how close "close" is (PyTorch fuses multiply-adds; we do not).
    println!(
        "{} cases vs torch {}: {exact}/{total} values bit-identical; the worst used {:.1}% of \
         the tolerance",
        fixture.cases.len(),
        fixture.torch,
        100.0 * worst
    );
}

// ---------------------------------------------------------------------------------------
// The one list of optimizers that drives the generic tests
// ---------------------------------------------------------------------------------------

/// An optimizer setting that must converge on both test objectives.
struct Setting {
    name: &'static str,
    options: &'static str,
    /// Steps allowed on Rosenbrock from (−1.2, 1).
    rosenbrock_steps: usize,
    /// Distance from (1, 1) the last point must be within.
    rosenbrock_tol: f64,
    why: &'static str,
}

/// Every optimizer, with settings tuned (honestly, by running them) to converge. The
/// quadratic is easy for all of them; Rosenbrock's curved valley is where they differ.
/// Plain SGD must keep lr below about 2/λ_max ≈ 2e-3 (the Hessian at (1, 1) has λ_max ≈
/// 1000), so it crawls along the valley floor.
const OPTIMIZERS: &[Setting] = &[
    Setting {
        name: "sgd",
        options: r#"{"lr": 1e-3}"#,
        rosenbrock_steps: 20_000,
        rosenbrock_tol: 1e-3,
        why: "plain SGD: stable lr, slow valley (≈ 17k steps to 1e-3)",
    },
    Setting {
        name: "sgd",
        options: r#"{"lr": 1e-3, "momentum": 0.9}"#,
        rosenbrock_steps: 5_000,
        rosenbrock_tol: 1e-3,
        why: "momentum: about 10× fewer steps than plain SGD",
    },
    Setting {
        name: "sgd",
        options: r#"{"lr": 1e-3, "momentum": 0.9, "nesterov": true}"#,
        rosenbrock_steps: 5_000,
        rosenbrock_tol: 1e-3,
        why: "Nesterov momentum",
    },
    Setting {
        name: "rprop",
        options: "{}",
        rosenbrock_steps: 8_000,
        rosenbrock_tol: 1e-3,
        why: "Rprop at its defaults (full-batch gradients, where it belongs)",
    },
    Setting {
        name: "rmsprop",
        options: r#"{"lr": 1e-3}"#,
        rosenbrock_steps: 20_000,
        // A constant-lr RMSprop does not settle: its steps stay about lr long, so it
        // hovers within a few lr of the minimum (≈ 7e-4 here) rather than converging.
        rosenbrock_tol: 1e-2,
        why: "RMSprop",
    },
    Setting {
        name: "rmsprop",
        options: r#"{"lr": 1e-3, "centered": true}"#,
        rosenbrock_steps: 20_000,
        rosenbrock_tol: 1e-2, // hovers, as plain RMSprop does
        why: "centred RMSprop",
    },
    Setting {
        name: "rmsprop",
        options: r#"{"lr": 1e-4, "momentum": 0.9}"#,
        rosenbrock_steps: 10_000,
        rosenbrock_tol: 1e-3,
        why: "RMSprop with momentum: smaller lr, same speed, settles",
    },
    Setting {
        name: "adam",
        options: r#"{"lr": 0.02}"#,
        rosenbrock_steps: 10_000,
        // Adam reaches 1e-3 by ≈ 3k steps but is kicked out now and then later on
        // (measured: up to 6e-2 away between steps 10k and 20k): once v has decayed, a
        // small gradient gets a full-size step. 1e-2 allows for that.
        rosenbrock_tol: 1e-2,
        why: "Adam",
    },
    Setting {
        name: "adam",
        options: r#"{"lr": 0.02, "amsgrad": true}"#,
        rosenbrock_steps: 10_000,
        rosenbrock_tol: 1e-3,
        why: "AMSGrad: the running maximum of v stops those kicks",
    },
    Setting {
        name: "adamw",
        // The decoupled decay pulls θ toward 0 on every step, so AdamW settles where that
        // pull balances the gradient's, off (1, 1): measured ≈ 1.4e-2 away with the
        // default λ = 1e-2, ≈ 1.5e-4 with λ = 1e-4. So use a light decay here.
        options: r#"{"lr": 0.02, "weight_decay": 1e-4}"#,
        rosenbrock_steps: 10_000,
        rosenbrock_tol: 1e-2,
        why: "AdamW with light decay",
    },
];

fn make(s: &Setting) -> Box<dyn Optimizer> {
    let options: Value = serde_json::from_str(s.options).unwrap();
    build(s.name, &options).unwrap_or_else(|e| panic!("{} {}: {e}", s.name, s.options))
}

fn distance(obj: &dyn Objective, p: (f32, f32)) -> f64 {
    let (mx, my) = obj.minimum();
    (p.0 as f64 - mx).hypot(p.1 as f64 - my)
}

const QUAD_START: (f32, f32) = (2.0, -1.5);
const ROSENBROCK_START: (f32, f32) = (-1.2, 1.0);

#[test]
fn the_list_covers_every_optimizer() {
    for name in NAMES {
        assert!(OPTIMIZERS.iter().any(|s| s.name == *name), "{name} missing from OPTIMIZERS");
    }
}

#[test]
fn every_optimizer_converges_on_a_tilted_quadratic() {
    // κ = 10, long axis turned 0.5 rad off the x axis: well conditioned, but not aligned
    // with the coordinates the per-weight methods scale.
    let quad = Quadratic::rotated(10.0, 0.5).unwrap();
    for s in OPTIMIZERS {
        let mut opt = make(s);
        let reached = steps_to_tolerance(&quad, opt.as_mut(), QUAD_START, 10_000, 1e-3);
        assert!(reached.is_some(), "{} {} ({}): never within 1e-3", s.name, s.options, s.why);
        let path = trajectory(&quad, opt.as_mut(), QUAD_START, 10_000);
        let d = distance(&quad, *path.last().unwrap());
        assert!(d < 1e-3, "{} {} ({}): ends {d:e} away", s.name, s.options, s.why);
    }
}

#[test]
fn every_optimizer_converges_on_rosenbrock() {
    let rosen = Rosenbrock::default();
    for s in OPTIMIZERS {
        let mut opt = make(s);
        let path = trajectory(&rosen, opt.as_mut(), ROSENBROCK_START, s.rosenbrock_steps);
        assert_eq!(path.len(), s.rosenbrock_steps + 1, "{} {}: diverged", s.name, s.options);
        let d = distance(&rosen, *path.last().unwrap());
        assert!(
            d < s.rosenbrock_tol,
            "{} {} ({}): ends at {:?}, {d:e} from (1, 1), tolerance {:e}",
            s.name,
            s.options,
            s.why,
            path.last().unwrap(),
            s.rosenbrock_tol
        );
    }
}

#[test]
fn no_optimizer_produces_nan() {
    let quad = Quadratic::new(100.0).unwrap();
    let rosen = Rosenbrock::default();
    for s in OPTIMIZERS {
        let mut opt = make(s);
        for obj in [&quad as &dyn Objective, &rosen] {
            let path = trajectory(obj, opt.as_mut(), (-1.5, 2.0), 3_000);
            assert_eq!(path.len(), 3_001, "{} {} on {}: left the finite numbers", s.name, s.options, obj.name());
        }
        // Zero and tiny gradients: the divisions by √v + ε must stay finite.
        opt.reset();
        let mut p = [1.0f32, -1.0, 0.0];
        for g in [[0.0, 0.0, 0.0], [1e-30, -1e-30, 0.0], [0.0, 0.0, 0.0], [1e-3, 0.0, -0.0]] {
            for _ in 0..20 {
                opt.step(&mut p, &g).unwrap();
            }
        }
        assert!(p.iter().all(|v| v.is_finite()), "{} {}: {p:?}", s.name, s.options);
        for (key, values) in opt.state() {
            assert!(values.iter().all(|v| v.is_finite()), "{} state {key}: {values:?}", s.name);
        }
    }
}

/// Steps `opt` 30 times from a fixed point with a fixed, varied gradient sequence.
fn run(opt: &mut dyn Optimizer) -> Vec<f32> {
    let mut p = vec![0.3f32, -0.7, 1.1];
    for t in 0..30usize {
        let x = t as f32;
        let g = [(x * 0.7).sin(), (x * 1.3).cos() - 0.2, if t.is_multiple_of(4) { 0.0 } else { 0.5 - p[2] }];
        opt.step(&mut p, &g).unwrap();
    }
    p
}

#[test]
fn reset_restores_first_step_behaviour() {
    for s in OPTIMIZERS {
        let label = format!("{} {}", s.name, s.options);
        let first = run(make(s).as_mut());
        assert_eq!(run(make(s).as_mut()), first, "{label}: two fresh runs differ");

        let mut opt = make(s);
        let _ = run(opt.as_mut());
        opt.reset();
        assert!(opt.state().is_empty(), "{label}: state survives reset");
        assert!(matches!(opt.step_count(), None | Some(0)), "{label}: step counter survives");
        assert_eq!(run(opt.as_mut()), first, "{label}: run after reset differs from fresh");

        // After reset the optimizer also accepts a model of another size.
        opt.reset();
        opt.step(&mut [1.0; 5], &[0.5; 5]).unwrap();
    }
}

#[test]
fn length_mismatches_are_errors_not_panics() {
    for name in NAMES {
        let mut opt = build(name, &Value::Null).unwrap();
        let err = opt.step(&mut [0.0; 3], &[0.0; 2]).unwrap_err();
        assert!(err.message().contains("3 parameters but 2 gradients"), "{name}: {err}");
        opt.step(&mut [0.0; 10], &[1.0; 10]).unwrap();
        let err = opt.step(&mut [0.0; 12], &[1.0; 12]).unwrap_err();
        assert_eq!(
            err.message(),
            "optimizer state holds 10 values but 12 parameters were given \
             (call reset() after changing the model)",
            "{name}"
        );
    }
}

#[test]
fn step_counters_follow_pytorch() {
    // PyTorch keeps state["step"] for Rprop, RMSprop, Adam and AdamW, not for SGD.
    for name in NAMES {
        // SGD with momentum, so that it has state to show.
        let options = if *name == "sgd" { json!({"momentum": 0.9}) } else { Value::Null };
        let mut opt = build(name, &options).unwrap();
        let expect = |n: u64| if *name == "sgd" { None } else { Some(n) };
        assert_eq!(opt.step_count(), expect(0), "{name}");
        for _ in 0..3 {
            opt.step(&mut [1.0, 2.0], &[0.1, -0.1]).unwrap();
        }
        assert_eq!(opt.step_count(), expect(3), "{name}");
        assert!(!opt.state().is_empty(), "{name}: state after a step");
    }
}

// ---------------------------------------------------------------------------------------
// Moving a run between optimizers: set_state / set_steps
// ---------------------------------------------------------------------------------------

/// Steps `t0 .. t0 + k` of the gradient sequence of [`run`], on `p`.
fn run_steps(opt: &mut dyn Optimizer, p: &mut [f32], t0: usize, k: usize) {
    for t in t0..t0 + k {
        let x = t as f32;
        let g = [(x * 0.7).sin(), (x * 1.3).cos() - 0.2, if t.is_multiple_of(4) { 0.0 } else { 0.5 - p[2] }];
        opt.step(p, &g).unwrap();
    }
}

/// Every configuration of the generic list, plus every option of every optimizer.
fn all_settings() -> Vec<(&'static str, Value, String)> {
    let mut rows: Vec<_> = OPTIMIZERS.iter().map(|s| (s.name, serde_json::from_str(s.options).unwrap(), s.why.to_string())).collect();
    rows.extend(full_option_rows().into_iter().map(|(n, o, why)| (n, o, why.to_string())));
    rows
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn state_bits(opt: &dyn Optimizer) -> Vec<(&'static str, Vec<u32>)> {
    opt.state().into_iter().map(|(k, v)| (k, bits(v))).collect()
}

/// Run `k` steps, copy state and count into a fresh optimizer, continue both: the two must
/// agree bit for bit. k = 0 copies nothing (both start fresh), k = 1 catches SGD's undamped
/// first buffer and Rprop's first step size, k = 7 is well into the run (sign flips, bias
/// corrections far from 1).
#[test]
fn copied_state_and_step_count_continue_bit_for_bit() {
    for (name, options, why) in all_settings() {
        for k in [0, 1, 7] {
            let what = format!("{name} {options} ({why}) after {k} steps");
            let mut a = build(name, &options).unwrap();
            let mut p = vec![0.3f32, -0.7, 1.1];
            run_steps(a.as_mut(), &mut p, 0, k);
            assert_eq!(a.steps(), k as u64, "{what}: steps()");
            let mut b = build(name, &options).unwrap();
            for (key, values) in a.state() {
                b.set_state(key, values).unwrap_or_else(|e| panic!("{what}: {e}"));
            }
            b.set_steps(a.steps());
            assert_eq!(state_bits(b.as_ref()), state_bits(a.as_ref()), "{what}: copied state");
            assert_eq!((b.steps(), b.step_count()), (a.steps(), a.step_count()), "{what}: step count");
            let mut q = p.clone();
            run_steps(a.as_mut(), &mut p, k, 20);
            run_steps(b.as_mut(), &mut q, k, 20);
            assert_eq!(bits(&q), bits(&p), "{what}: parameters after 20 more steps");
            assert_eq!(state_bits(b.as_ref()), state_bits(a.as_ref()), "{what}: state after 20 more steps");
        }
    }
}

/// The copy above is needed in full: leave out the count, or one tensor, and the
/// continuation differs (so the bit-for-bit test above can fail).
#[test]
fn a_partial_copy_continues_differently() {
    // (name, options, copy the count?, tensor left out, reason)
    #[rustfmt::skip]
    let rows: &[(&str, Value, bool, Option<&str>, &str)] = &[
        ("sgd", json!({"lr": 0.1, "momentum": 0.9, "dampening": 0.5}), false, None, "count 0: the buffer restarts from the gradient"),
        ("adam", json!({"lr": 0.1}), false, None, "count 0: bias corrections of step 1 again"),
        ("adam", json!({"lr": 0.1}), true, Some("exp_avg_sq"), "v restarts at 0"),
        ("rprop", json!({"lr": 0.1}), true, Some("step_size"), "step sizes back at lr"),
        ("rprop", json!({"lr": 0.1}), true, Some("prev"), "previous gradients forgotten"),
        ("rmsprop", json!({"lr": 0.1, "centered": true, "momentum": 0.5}), true, Some("grad_avg"), "mean gradient restarts at 0"),
        ("rmsprop", json!({"lr": 0.1, "centered": true, "momentum": 0.5}), true, Some("momentum_buffer"), "momentum restarts at 0"),
    ];
    for (name, options, count, skip, why) in rows {
        let mut a = build(name, options).unwrap();
        let mut p = vec![0.3f32, -0.7, 1.1];
        run_steps(a.as_mut(), &mut p, 0, 7);
        let mut b = build(name, options).unwrap();
        for (key, values) in a.state() {
            if Some(key) != *skip {
                b.set_state(key, values).unwrap();
            }
        }
        if *count {
            b.set_steps(a.steps());
        }
        let mut q = p.clone();
        run_steps(a.as_mut(), &mut p, 7, 5);
        run_steps(b.as_mut(), &mut q, 7, 5);
        assert_ne!(bits(&q), bits(&p), "{name} ({why}): the partial copy should continue differently");
    }
}

#[test]
fn set_state_refuses_unknown_keys_and_wrong_lengths() {
    // (name, options, steps taken first, key, values, message contains, reason)
    #[rustfmt::skip]
    let rows: &[(&str, Value, usize, &str, usize, &str, &str)] = &[
        ("sgd", json!({}), 0, "momentum_buffer", 3, "sgd keeps no state in this configuration", "no momentum, no buffer"),
        ("sgd", json!({"momentum": 0.9}), 0, "exp_avg", 3, "sgd has no state 'exp_avg' in this configuration; it keeps momentum_buffer", "another optimizer's name"),
        ("rmsprop", json!({}), 0, "grad_avg", 3, "it keeps square_avg", "grad_avg only when centred"),
        ("rmsprop", json!({"centered": true}), 2, "momentum_buffer", 3, "it keeps square_avg, grad_avg", "momentum_buffer only with momentum"),
        ("adam", json!({}), 0, "max_exp_avg_sq", 3, "it keeps exp_avg, exp_avg_sq", "max_exp_avg_sq only with amsgrad"),
        ("adamw", json!({}), 0, "step", 3, "adamw has no state 'step'", "the count goes through set_steps; AdamW named as such"),
        ("rprop", json!({}), 0, "step_size", 0, "rprop needs at least one value", "empty"),
        ("rprop", json!({}), 2, "prev", 4, "rprop state holds 3 values per tensor but 4 were given for 'prev'", "another model's size"),
        ("adam", json!({"amsgrad": true}), 1, "max_exp_avg_sq", 2, "holds 3 values per tensor but 2", "too short"),
    ];
    for (name, options, steps, key, len, want, why) in rows {
        let mut opt = build(name, options).unwrap();
        let mut p = vec![0.3f32, -0.7, 1.1];
        run_steps(opt.as_mut(), &mut p, 0, *steps);
        let before = state_bits(opt.as_ref());
        let err = opt.set_state(key, &vec![1.0; *len]).expect_err(why);
        assert!(err.message().contains(want), "{name} ({why}): {err}");
        assert_eq!(state_bits(opt.as_ref()), before, "{name} ({why}): a refused set_state changes nothing");
    }
}

#[test]
fn set_state_on_a_fresh_optimizer_sizes_the_rest_as_a_first_step_would() {
    // Rprop given only "prev" = 0 starts its step sizes at lr: the same first step as fresh.
    let options = json!({"lr": 0.05});
    let mut fresh = build("rprop", &options).unwrap();
    let mut loaded = build("rprop", &options).unwrap();
    loaded.set_state("prev", &[0.0; 3]).unwrap();
    assert_eq!(loaded.state()[0], ("step_size", &[0.05f32; 3][..]));
    let (mut p, mut q) = (vec![0.3f32, -0.7, 1.1], vec![0.3f32, -0.7, 1.1]);
    run_steps(fresh.as_mut(), &mut p, 0, 5);
    run_steps(loaded.as_mut(), &mut q, 0, 5);
    assert_eq!(bits(&q), bits(&p));
    // copy_state does the whole copy, and refuses another kind of optimizer.
    let mut other = build("rprop", &options).unwrap();
    descent::optim::copy_state(fresh.as_ref(), other.as_mut()).unwrap();
    assert_eq!(state_bits(other.as_ref()), state_bits(fresh.as_ref()));
    assert_eq!(other.steps(), 5);
    let err = descent::optim::copy_state(fresh.as_ref(), build("adam", &Value::Null).unwrap().as_mut()).unwrap_err();
    assert_eq!(err.message(), "cannot copy rprop state into adam");
}

// ---------------------------------------------------------------------------------------
// Validation and the builder
// ---------------------------------------------------------------------------------------

/// (optimizer, options, expected message part, reason)
#[rustfmt::skip]
fn invalid_option_rows() -> Vec<(&'static str, Value, &'static str, &'static str)> {
    vec![
        ("sgd", json!({"lr": -1}), "Invalid learning rate: -1", "negative lr"),
        ("sgd", json!({"momentum": -0.5}), "Invalid momentum value: -0.5", "negative momentum"),
        ("sgd", json!({"weight_decay": -1e-4}), "Invalid weight_decay value: -0.0001", "negative decay"),
        ("sgd", json!({"dampening": 1.5}), "Invalid dampening value: 1.5", "dampening above 1 (ours)"),
        ("sgd", json!({"nesterov": true}), "Nesterov momentum requires a momentum and zero dampening", "Nesterov without momentum"),
        ("sgd", json!({"nesterov": true, "momentum": 0.9, "dampening": 0.1}), "(got momentum 0.9, dampening 0.1)", "Nesterov with dampening"),
        ("rprop", json!({"lr": -0.01}), "Invalid learning rate: -0.01", "negative lr"),
        ("rprop", json!({"etas": [1.5, 1.2]}), "Invalid eta values: 1.5, 1.2 (need 0 < eta_minus < 1 < eta_plus)", "eta_minus above 1"),
        ("rprop", json!({"etas": [0.5, 1]}), "Invalid eta values: 0.5, 1 ", "eta_plus must exceed 1"),
        ("rprop", json!({"etas": [0, 1.2]}), "Invalid eta values: 0, 1.2", "eta_minus must be positive"),
        ("rprop", json!({"step_sizes": [1, 0.5]}), "Invalid step_sizes: 1, 0.5", "min above max (ours)"),
        ("rprop", json!({"step_sizes": [-1e-6, 50]}), "Invalid step_sizes: -1e-6, 50", "negative min (ours)"),
        ("rmsprop", json!({"lr": -1}), "Invalid learning rate: -1", "negative lr"),
        ("rmsprop", json!({"eps": -1e-8}), "Invalid epsilon value: -1e-8", "negative eps"),
        ("rmsprop", json!({"momentum": -0.9}), "Invalid momentum value: -0.9", "negative momentum"),
        ("rmsprop", json!({"weight_decay": -1}), "Invalid weight_decay value: -1", "negative decay"),
        ("rmsprop", json!({"alpha": 1.5}), "Invalid alpha value: 1.5", "alpha above 1 (ours)"),
        ("rmsprop", json!({"alpha": -0.1}), "Invalid alpha value: -0.1", "negative alpha"),
        ("adam", json!({"lr": -1e-3}), "Invalid learning rate: -0.001", "negative lr"),
        ("adam", json!({"betas": [1.5, 0.999]}), "Invalid beta parameter at index 0: 1.5", "beta1 above 1"),
        ("adam", json!({"betas": [0.9, 1.0]}), "Invalid beta parameter at index 1: 1 ", "beta2 = 1 never forgets"),
        ("adam", json!({"betas": [-0.1, 0.999]}), "Invalid beta parameter at index 0: -0.1", "negative beta1"),
        ("adam", json!({"eps": -1e-8}), "Invalid epsilon value: -1e-8", "negative eps"),
        ("adam", json!({"weight_decay": -0.1}), "Invalid weight_decay value: -0.1", "negative decay"),
        ("adamw", json!({"lr": -1}), "Invalid learning rate: -1", "negative lr"),
        ("adamw", json!({"betas": [0.9, 2]}), "Invalid beta parameter at index 1: 2", "beta2 above 1"),
        ("adamw", json!({"weight_decay": -0.01}), "Invalid weight_decay value: -0.01", "negative decay"),
    ]
}

#[test]
fn invalid_options_are_rejected_with_the_value_named() {
    for (name, options, want, reason) in invalid_option_rows() {
        match build(name, &options) {
            Ok(_) => panic!("{name} {options} ({reason}): accepted"),
            Err(e) => assert!(e.message().contains(want), "{name} {options} ({reason}): {e}"),
        }
    }
}

fn message<T>(result: descent::Result<T>) -> Option<String> {
    result.err().map(|e| e.message().to_string())
}

/// (result of a constructor, expected message part, reason). JSON cannot carry NaN or
/// infinity, so these go through the config structs.
#[rustfmt::skip]
fn non_finite_rows() -> Vec<(Option<String>, &'static str, &'static str)> {
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    vec![
        (message(Sgd::new(SgdConfig { lr: nan, ..Default::default() })), "Invalid learning rate: NaN", "NaN lr"),
        (message(Sgd::new(SgdConfig { momentum: inf, ..Default::default() })), "Invalid momentum value: inf", "infinite momentum"),
        (message(Rprop::new(RpropConfig { etas: (nan, 1.2), ..Default::default() })), "Invalid eta values: NaN, 1.2", "NaN eta"),
        (message(Rprop::new(RpropConfig { step_sizes: (1e-6, inf), ..Default::default() })), "Invalid step_sizes: 1e-6, inf", "infinite max step"),
        (message(RmsProp::new(RmsPropConfig { eps: inf, ..Default::default() })), "Invalid epsilon value: inf", "infinite eps"),
        (message(RmsProp::new(RmsPropConfig { alpha: nan, ..Default::default() })), "Invalid alpha value: NaN", "NaN alpha"),
        (message(Adam::new(AdamConfig { betas: (0.9, nan), ..Default::default() })), "Invalid beta parameter at index 1: NaN", "NaN beta2"),
        (message(Adam::new(AdamConfig { weight_decay: -inf, ..Default::default() })), "Invalid weight_decay value: -inf", "-inf decay"),
        (message(AdamW::new(AdamWConfig { eps: nan, ..Default::default() })), "Invalid epsilon value: NaN", "NaN eps"),
    ]
}

#[test]
fn non_finite_options_are_rejected() {
    for (err, want, reason) in non_finite_rows() {
        let err = err.unwrap_or_else(|| panic!("{reason}: accepted"));
        assert!(err.contains(want), "{reason}: {err}");
    }
}

#[test]
fn set_lr_validates_and_keeps_state() {
    for name in NAMES {
        let mut opt = build(name, &Value::Null).unwrap();
        opt.step(&mut [1.0, 2.0], &[0.5, 0.5]).unwrap();
        let before: Vec<Vec<f32>> = opt.state().iter().map(|(_, v)| v.to_vec()).collect();
        // (new lr, accepted, reason)
        let rows: &[(f32, bool, &str)] = &[
            (0.5, true, "a larger lr"),
            (0.0, true, "zero freezes the weights (allowed, as in PyTorch)"),
            (-0.1, false, "negative"),
            (f32::NAN, false, "NaN"),
            (f32::INFINITY, false, "infinite"),
        ];
        for &(lr, ok, reason) in rows {
            let result = opt.set_lr(lr);
            assert_eq!(result.is_ok(), ok, "{name} set_lr({lr}) ({reason}): {result:?}");
            if let Err(e) = result {
                assert!(e.message().starts_with("Invalid learning rate: "), "{name}: {e}");
            }
        }
        assert_eq!(opt.lr(), 0.0, "{name}: the last accepted lr is kept");
        let after: Vec<Vec<f32>> = opt.state().iter().map(|(_, v)| v.to_vec()).collect();
        assert_eq!(before, after, "{name}: set_lr must not touch the state");
    }
}

/// (optimizer, options, expected message part, reason)
#[rustfmt::skip]
fn builder_error_rows() -> Vec<(&'static str, Value, &'static str, &'static str)> {
    vec![
        ("adagrad", Value::Null, "unknown optimizer 'adagrad'; expected one of sgd, rprop, rmsprop, adam, adamw", "not one of ours"),
        ("Adam", Value::Null, "unknown optimizer 'Adam'", "names are lower case, as in the URL"),
        ("sgd", json!({"betas": [0.9, 0.999]}), "unknown option 'betas' for sgd; expected one of lr, momentum, dampening, weight_decay, nesterov, maximize", "Adam's option on SGD"),
        ("rprop", json!({"momentum": 0.9}), "unknown option 'momentum' for rprop; expected one of lr, etas, step_sizes, maximize", "Rprop has no momentum"),
        ("rmsprop", json!({"beta": 0.9}), "unknown option 'beta' for rmsprop; expected one of lr, alpha, eps, weight_decay, momentum, centered, maximize", "typo"),
        ("adam", json!({"momentum": 0.9}), "unknown option 'momentum' for adam; expected one of lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay, bias_correction", "SGD's option on Adam"),
        ("adamw", json!({"decoupled_weight_decay": false}), "unknown option 'decoupled_weight_decay' for adamw", "AdamW is always decoupled, as in PyTorch"),
        ("adam", json!({"lr": "fast"}), "option 'lr' for adam must be a number, got \"fast\"", "string for a number"),
        ("adam", json!({"betas": 0.9}), "option 'betas' for adam must be a list of two numbers, got 0.9", "scalar for a pair"),
        ("adam", json!({"betas": [0.9, 0.99, 0.999]}), "must be a list of two numbers", "three betas"),
        ("rprop", json!({"etas": [0.5, "x"]}), "option 'etas' for rprop must hold two numbers", "non-number in a pair"),
        ("sgd", json!({"nesterov": 1}), "option 'nesterov' for sgd must be true or false, got 1", "number for a flag"),
        ("sgd", json!({"lr": null}), "option 'lr' for sgd must be a number, got null", "null is not a default"),
        ("sgd", json!([0.1]), "options for sgd must be a JSON object, got [0.1]", "a list instead of an object"),
    ]
}

#[test]
fn builder_reports_unknown_names_options_and_types() {
    for (name, options, want, reason) in builder_error_rows() {
        match build(name, &options) {
            Ok(_) => panic!("{name} {options} ({reason}): accepted"),
            Err(e) => assert!(e.message().contains(want), "{name} {options} ({reason}): {e}"),
        }
    }
}

/// (optimizer, options, reason): each must build and report lr 0.1.
#[rustfmt::skip]
fn full_option_rows() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        ("sgd", json!({"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 1e-4, "nesterov": true, "maximize": false}), "all SGD options"),
        ("rprop", json!({"lr": 0.1, "etas": [0.5, 1.2], "step_sizes": [1e-6, 50], "maximize": true}), "integers are numbers too"),
        ("rmsprop", json!({"lr": 0.1, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1, "momentum": 0.5, "centered": true, "maximize": true}), "all RMSprop options"),
        ("adam", json!({"lr": 0.1, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1, "amsgrad": true, "maximize": true, "decoupled_weight_decay": true, "bias_correction": false}), "all Adam options"),
        ("adamw", json!({"lr": 0.1, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1, "amsgrad": true, "maximize": true, "bias_correction": false}), "all AdamW options"),
    ]
}

#[test]
fn builder_passes_every_option_through() {
    for (name, options, reason) in full_option_rows() {
        let opt = build(name, &options).unwrap_or_else(|e| panic!("{name} ({reason}): {e}"));
        assert_eq!(opt.lr(), 0.1, "{name} ({reason})");
        assert_eq!(opt.name(), name);
    }
}

// ---------------------------------------------------------------------------------------
// Rprop on mini-batches: the recitation's thought experiment
// ---------------------------------------------------------------------------------------

/// One weight; an epoch is ten mini-batches whose gradients are +0.1 nine times, then −0.9.
/// They sum to zero: the full-batch gradient is 0 and the weight is already optimal. SGD
/// agrees (each epoch's steps cancel). Rprop sees only signs: nine pushes one way with a
/// growing step, then one flip that merely halves the step without moving back. So the
/// weight drifts, and faster every epoch (the step grows by 1.2⁸/2 ≈ 2.1 per epoch).
#[test]
fn rprop_drifts_on_minibatches_whose_gradients_cancel() {
    let epoch: Vec<f32> = [0.1f32; 9].into_iter().chain([-0.9]).collect();
    let full_batch: f32 = epoch.iter().sum();
    assert!(full_batch.abs() < 1e-6, "the mini-batch gradients cancel: {full_batch}");

    let mut rprop = build("rprop", &Value::Null).unwrap();
    let mut sgd = build("sgd", &json!({"lr": 0.01})).unwrap();
    let (mut w_rprop, mut w_sgd) = ([0.0f32], [0.0f32]);
    let mut after_epoch = Vec::new();
    for _ in 0..5 {
        for &g in &epoch {
            rprop.step(&mut w_rprop, &[g]).unwrap();
            sgd.step(&mut w_sgd, &[g]).unwrap();
        }
        after_epoch.push(w_rprop[0]);
    }
    // Epoch 1 alone: 0.01·(1 + 1.2 + … + 1.2⁸) = 0.01·(1.2⁹ − 1)/0.2 ≈ 0.208.
    assert!((after_epoch[0] + 0.208).abs() < 1e-3, "epoch 1 ends at {}", after_epoch[0]);
    for pair in after_epoch.windows(2) {
        assert!(pair[1] < pair[0], "Rprop moves the same way every epoch: {after_epoch:?}");
    }
    assert!(w_rprop[0] < -5.0, "Rprop drifted only to {} after 5 epochs", w_rprop[0]);
    assert!(w_sgd[0].abs() < 1e-5, "SGD comes back to the start: {}", w_sgd[0]);

    // Full batch, Rprop does the right thing: a zero gradient never moves the weight.
    // (The exact sum is 0; the f32 sum above may be off by an ulp, whose sign Rprop
    // would follow, so feed the exact value.)
    let mut full = build("rprop", &Value::Null).unwrap();
    let mut w = [0.0f32];
    for _ in 0..50 {
        full.step(&mut w, &[0.0]).unwrap();
    }
    assert_eq!(w, [0.0]);
}

/// Moving `weight_decay` mid-run is PyTorch's `param_groups[0]["weight_decay"] = λ`: the state is
/// kept, and the next step is the step of an optimizer built with λ holding that same state.
#[test]
fn weight_decay_moved_mid_run_is_an_edited_param_group() {
    let grads = |t: usize| -> Vec<f32> { (0..7).map(|i| ((i * 5 + t * 3) as f32 * 0.61).sin()).collect() };
    for (name, options) in [
        ("sgd", json!({"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01})),
        ("rmsprop", json!({"lr": 0.01, "weight_decay": 0.01})),
        ("adam", json!({"lr": 0.01, "weight_decay": 0.01})),
        ("adamw", json!({"lr": 0.01, "weight_decay": 0.01})),
    ] {
        let mut moved = build(name, &options).unwrap();
        let mut params: Vec<f32> = (0..7).map(|i| 0.3 * i as f32 - 1.0).collect();
        for t in 0..3 {
            moved.step(&mut params, &grads(t)).unwrap();
        }
        let mut fresh_options = options.clone();
        fresh_options["weight_decay"] = json!(0.5);
        let mut fresh = build(name, &fresh_options).unwrap();
        descent::optim::copy_state(moved.as_ref(), fresh.as_mut()).unwrap();
        moved.set_weight_decay(0.5).unwrap();
        let (mut a, mut b) = (params.clone(), params.clone());
        for t in 3..5 {
            moved.step(&mut a, &grads(t)).unwrap();
            fresh.step(&mut b, &grads(t)).unwrap();
        }
        assert_eq!(a, b, "{name}: moved to 0.5 = built with 0.5 from the same state");
        // and it did change something: the unmoved optimizer goes elsewhere
        let mut kept = build(name, &options).unwrap();
        let mut c: Vec<f32> = (0..7).map(|i| 0.3 * i as f32 - 1.0).collect();
        for t in 0..5 {
            kept.step(&mut c, &grads(t)).unwrap();
        }
        assert_ne!(a, c, "{name}: weight_decay 0.5 moves the weights differently from 0.01");
        for bad in [-1.0, f32::NAN, f32::INFINITY] {
            let msg = moved.set_weight_decay(bad).unwrap_err().message().to_string();
            assert!(msg.contains("weight_decay"), "{name}: {msg}");
        }
    }
    let mut rprop = build("rprop", &Value::Null).unwrap();
    assert!(rprop.set_weight_decay(0.1).unwrap_err().message().contains("rprop has no weight_decay"));
}
