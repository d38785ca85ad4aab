//! Bayesian optimization: the ask/tell state machine, batches by the constant liar, replay,
//! and the section's lesson on the synthetic objective.

use descent::tune::bayes::{self, BayesOpt, BayesOptions};
use descent::tune::kernel::scaled_sq_dist;
use descent::tune::{grid, lhs, random, synthetic, Acquisition, Dimension, Space};

fn objective(unit: &[f64]) -> f64 {
    synthetic::value(unit[0], unit[1])
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The lesson of the section, on our code: with 16 trials on a function where one of two
/// hyperparameters matters, over 20 seeds, Bayesian optimization's median best beats random
/// search's, and random search's beats the grid's (the same 4 × 4 grid for every seed).
#[test]
fn bayes_beats_random_beats_grid_on_the_synthetic_objective() {
    let (space, trials, seeds) = (synthetic::space(), 16, 0..20u64);
    let best = |points: &[Vec<f64>]| points.iter().map(|p| objective(p)).fold(f64::INFINITY, f64::min);
    let grid_points = grid::design(&space, trials).unwrap();
    assert_eq!(grid_points.len(), trials);
    let grid_best = best(&grid_points);
    let random_best: Vec<f64> = seeds.clone().map(|seed| best(&random::design(&space, trials, seed).unwrap())).collect();
    let bayes_best: Vec<f64> = seeds
        .map(|seed| {
            let observed =
                bayes::minimize(space.clone(), BayesOptions { seed, ..BayesOptions::default() }, trials, 1, |p| objective(&p.unit)).unwrap();
            assert_eq!(observed.len(), trials);
            observed.iter().map(|o| o.y).fold(f64::INFINITY, f64::min)
        })
        .collect();
    let (b, r) = (median(bayes_best.clone()), median(random_best.clone()));
    eprintln!(
        "median best of {trials} trials over 20 seeds: Bayesian {b:.5}, random {r:.5}, grid {grid_best:.5} (minimum {})",
        synthetic::MINIMUM_VALUE
    );
    assert!(b < r, "Bayesian optimization's median best {b} is not below random search's {r}\n{bayes_best:?}");
    assert!(r < grid_best, "random search's median best {r} is not below the grid's {grid_best}");
    // Bergstra and Bengio's point: the grid tries 4 values of the important hyperparameter.
    let distinct = |points: &[Vec<f64>]| {
        let mut u: Vec<f64> = points.iter().map(|p| p[0]).collect();
        u.sort_by(f64::total_cmp);
        u.dedup();
        u.len()
    };
    assert_eq!((distinct(&grid_points), distinct(&random::design(&space, trials, 0).unwrap())), (4, 16));
}

#[test]
fn ask_and_tell_drive_the_loop() {
    let space = synthetic::space();
    let options = BayesOptions { seed: 11, ..BayesOptions::default() };
    let mut search = BayesOpt::new(space.clone(), options.clone()).unwrap();
    assert!(search.ask(0).unwrap_err().to_string().contains("Invalid batch size: 0"));
    // The start is the Latin hypercube of the seed, handed out in order across asks.
    let design = lhs::design(&space, options.initial, options.seed).unwrap();
    let first: Vec<Vec<f64>> = search.ask(3).unwrap().into_iter().chain(search.ask(2).unwrap()).map(|p| p.unit).collect();
    assert_eq!(first, design);
    assert_eq!(search.pending().len(), 5);
    assert!(search.model().is_none() && search.score(&[0.5, 0.5]).unwrap().is_none());
    // Results may come back in any order; each removes its pending trial.
    for p in first.iter().rev() {
        search.tell(p, objective(p)).unwrap();
    }
    assert!(search.pending().is_empty());
    let next = search.ask(1).unwrap();
    assert_eq!(search.model().unwrap().n_train(), 5, "the model sees every observation");
    assert_eq!(search.pending(), &[next[0].unit.clone()]);
    assert!(search.score(&next[0].unit).unwrap().unwrap() > 0.0, "the proposal has positive expected improvement");
    assert!(search.tell(&next[0].unit, f64::NAN).unwrap_err().to_string().contains("Invalid objective value: NaN"));
    search.tell(&next[0].unit, objective(&next[0].unit)).unwrap();
    let best = search.best().unwrap();
    assert_eq!(best.y, search.observations().iter().map(|o| o.y).fold(f64::INFINITY, f64::min));
}

/// A batch by the constant liar spreads out: each proposal is told a lie (the worst value so
/// far) before the next is chosen, so the next goes elsewhere. Without lies the four would be
/// one point of maximum expected improvement, kept apart only by the rule against repeating a
/// pending trial (k > 0.99 σ², about 0.11 length-scales for Matérn 5/2): so the median, over
/// seeds, of the closest pair's distance in length-scales says whether the lies work.
#[test]
fn a_batch_spreads_out_and_replays() {
    let run = |seed: u64| {
        let mut search = BayesOpt::new(synthetic::space(), BayesOptions { seed, ..BayesOptions::default() }).unwrap();
        for q in [5, 1, 1, 1] {
            for p in search.ask(q).unwrap() {
                search.tell(&p.unit, objective(&p.unit)).unwrap();
            }
        }
        let batch: Vec<Vec<f64>> = search.ask(4).unwrap().into_iter().map(|p| p.unit).collect();
        (batch, search.model().unwrap().params().clone())
    };
    let closest: Vec<f64> = (0..20)
        .map(|seed| {
            let (batch, params) = run(seed);
            let mut closest = f64::INFINITY;
            for i in 0..batch.len() {
                for j in 0..i {
                    closest = closest.min(scaled_sq_dist(&params.length_scales, &batch[i], &batch[j]).sqrt());
                }
            }
            assert!(closest > 0.1, "seed {seed}: two proposals are {closest} length-scales apart: {batch:?}");
            closest
        })
        .collect();
    let typical = median(closest.clone());
    assert!(typical > 0.15, "the closest pair of a batch is typically {typical} length-scales apart: {closest:?}");
    assert_eq!(run(3), run(3), "the same seed and the same tells replay exactly");
}

/// Discrete dimensions: proposals are snapped, so they are exactly the values trials run with.
#[test]
fn proposals_on_a_mixed_space_are_snapped() {
    let space = Space::new(vec![
        Dimension::log_uniform("lr", 1e-4, 1.0).unwrap(),
        Dimension::int_log_uniform("width", 8, 256).unwrap(),
        Dimension::choice("act", &["relu", "tanh"]).unwrap(),
    ])
    .unwrap();
    let observed = bayes::minimize(space.clone(), BayesOptions { initial: 4, candidates: 300, ..BayesOptions::default() }, 9, 2, |p| {
        let lr = p.values[0].as_f64().unwrap();
        (lr.log10() + 2.0).powi(2) + if p.values[2] == descent::tune::Value::Choice("tanh".into()) { 0.1 } else { 0.0 }
    })
    .unwrap();
    assert_eq!(observed.len(), 9);
    for o in &observed {
        assert_eq!(&space.snap(&o.unit).unwrap(), &o.unit);
    }
    assert!(BayesOpt::new(space, BayesOptions { candidates: 0, ..BayesOptions::default() })
        .unwrap_err()
        .to_string()
        .contains("Invalid number of candidates: 0"));
}

/// With a noisy objective the model stays unsure even at a lie, and without a guard a large
/// batch would propose a pending point again (with the lower confidence bound, 8 such pairs in
/// these 10 seeds): no two proposals may be correlated above 0.99.
#[test]
fn a_batch_never_repeats_a_pending_trial() {
    let mut noise = descent::Rng::stream(1, "test-noise");
    for acquisition in [Acquisition::ExpectedImprovement, Acquisition::ProbabilityOfImprovement, Acquisition::LowerConfidenceBound] {
        let mut repeats = 0;
        for seed in 0..10 {
            let mut search = BayesOpt::new(synthetic::space(), BayesOptions { seed, acquisition, ..BayesOptions::default() }).unwrap();
            for q in [5, 3] {
                for p in search.ask(q).unwrap() {
                    search.tell(&p.unit, objective(&p.unit) + noise.normal(0.0, 0.1) as f64).unwrap();
                }
            }
            let batch: Vec<Vec<f64>> = search.ask(8).unwrap().into_iter().map(|p| p.unit).collect();
            let gp = search.model().unwrap();
            let (kernel, ls) = (gp.kernel(), &gp.params().length_scales);
            for i in 0..batch.len() {
                for j in 0..i {
                    if kernel.correlation(scaled_sq_dist(ls, &batch[i], &batch[j])) > 0.99 {
                        repeats += 1;
                    }
                }
            }
        }
        assert_eq!(repeats, 0, "{acquisition:?}: pairs of proposals the model can hardly tell apart");
    }
}

/// Each model proposal is kept with what it was chosen on, so the page can show the model
/// that chose it: rebuilt, that model's expected improvement peaks at the proposal (within the
/// 2000 candidates' and the compass search's reach: at least 95 % of the best on a 60 × 60
/// grid), and with a batch the pending trials carry the lie (the worst observation).
#[test]
fn every_proposal_keeps_the_model_it_was_chosen_on() {
    let space = synthetic::space();
    let mut search = BayesOpt::new(space, BayesOptions { seed: 3, ..BayesOptions::default() }).unwrap();
    for _ in 0..9 {
        let p = search.ask(1).unwrap().remove(0);
        search.tell(&p.unit, objective(&p.unit)).unwrap();
    }
    assert_eq!(search.proposals().len(), 4, "5 design trials, then 4 from the model");
    assert!(search.proposal_model(4).unwrap_err().to_string().contains("proposal 4 does not exist: there are 4"));
    let xi = search.options().xi;
    for (i, p) in search.proposals().iter().enumerate() {
        assert_eq!(p.observed, 5 + i);
        assert!(p.pending.is_empty());
        let gp = search.proposal_model(i).unwrap();
        let ei = |u: &[f64]| {
            let (m, s) = gp.predict_point(u).unwrap();
            descent::tune::acquisition::expected_improvement(m, s, p.best, xi)
        };
        let grid_max = (0..60 * 60).map(|k| ei(&[(k % 60) as f64 / 59.0, (k / 60) as f64 / 59.0])).fold(0.0, f64::max);
        assert!(ei(&p.unit) >= 0.95 * grid_max, "proposal {i}: EI {} at the proposal, {grid_max} on the grid", ei(&p.unit));
        assert_eq!(p.best, search.observations()[..p.observed].iter().map(|o| o.y).fold(f64::INFINITY, f64::min));
    }
    // a batch of 3: the second and third proposals were made with the first (then the second)
    // pending, and the rebuilt model believes the lie there
    let batch = search.ask(3).unwrap();
    let last = &search.proposals()[search.proposals().len() - 1];
    assert_eq!(last.pending, vec![batch[0].unit.clone(), batch[1].unit.clone()]);
    let worst = search.observations().iter().map(|o| o.y).fold(f64::NEG_INFINITY, f64::max);
    let (m, _) = search.proposal_model(search.proposals().len() - 1).unwrap().predict_point(&batch[0].unit).unwrap();
    assert!((m - worst).abs() < 0.05 * worst, "the model at a pending trial believes the lie {worst}, got {m}");
}
