//! The page's inputs carry their limits as attributes (`www/cell.js` reads them once); the core
//! checks its own (`lab::run`). They must agree: an input that allows what the core refuses
//! turns a slider's end into an error message, and one that refuses what the core allows
//! hides a setting. Checked here for every cell's epochs, and for the defaults themselves.

#[path = "common/page.rs"]
mod page;

use descent::lab::run::{MAX_EPOCHS, MAX_WIDTH};

/// Every `<input>` tag whose id ends with `suffix`.
fn inputs<'a>(html: &'a str, suffix: &str) -> Vec<(String, &'a str)> {
    html.match_indices("<input")
        .map(|(at, _)| page::tag_at(html, at + 1))
        .filter_map(|tag| page::attr(tag, "id").filter(|id| id.ends_with(suffix)).map(|id| (id, tag)))
        .collect()
}

#[test]
fn every_epochs_input_stays_within_the_cores_limit() {
    let html = page::html();
    let found = inputs(&html, "epochs");
    assert!(found.len() >= 6, "the training cells' epochs inputs: {:?}", found.iter().map(|f| &f.0).collect::<Vec<_>>());
    for (id, tag) in found {
        let max: usize = page::attr(tag, "max").unwrap_or_else(|| panic!("#{id} has no max")).parse().unwrap();
        let min: usize = page::attr(tag, "min").unwrap_or_else(|| panic!("#{id} has no min")).parse().unwrap();
        let value: usize = page::attr(tag, "value").unwrap().parse().unwrap();
        assert!(min >= 1 && max <= MAX_EPOCHS, "#{id}: {min}..{max} must lie within 1..{MAX_EPOCHS}");
        assert!((min..=max).contains(&value), "#{id}: the default {value} is outside its own limits {min}..{max}");
    }
}

#[test]
fn default_hidden_sizes_are_trainable() {
    let html = page::html();
    for (id, tag) in inputs(&html, "hidden") {
        let Some(value) = page::attr(tag, "value") else { continue };
        for part in value.split(',') {
            let w: usize = part.trim().parse().unwrap_or_else(|_| panic!("#{id}: {value:?}"));
            assert!((1..=MAX_WIDTH).contains(&w), "#{id}: a default width {w} the core refuses");
        }
        if let Some(max) = page::attr(tag, "max") {
            assert!(max.parse::<usize>().unwrap() <= MAX_WIDTH, "#{id}: max {max} above the core's {MAX_WIDTH}");
        }
    }
}

#[test]
fn the_cross_validation_inputs_stay_within_the_labs_limits() {
    use descent::lab::cross_val::{MAX_FOLDS, MAX_HOLDOUTS};
    let html = page::html();
    let limit = |id: &str, attr: &str| -> usize {
        let (_, tag) = inputs(&html, id).into_iter().find(|(i, _)| i == id).unwrap_or_else(|| panic!("no #{id}"));
        page::attr(tag, attr).unwrap_or_else(|| panic!("#{id} has no {attr}")).parse().unwrap()
    };
    assert_eq!((limit("cross-val-k", "min"), limit("cross-val-k", "max")), (2, MAX_FOLDS));
    assert_eq!(limit("cross-val-holdouts", "max"), MAX_HOLDOUTS);
    assert!(limit("cross-val-n", "min") >= 5 * MAX_FOLDS, "the fewest digits must allow the most folds (5 a fold)");
}

#[test]
fn the_tuning_inputs_stay_within_the_labs_limits() {
    use descent::lab::tuning::{MAX_BUDGET, MAX_SEEDS};
    let html = page::html();
    let limit = |id: &str, attr: &str| -> f64 {
        let (_, tag) = inputs(&html, id).into_iter().find(|(i, _)| i == id).unwrap_or_else(|| panic!("no #{id}"));
        page::attr(tag, attr).unwrap_or_else(|| panic!("#{id} has no {attr}")).parse().unwrap()
    };
    assert_eq!((limit("hyper-budget", "min"), limit("hyper-budget", "max")), (2.0, MAX_BUDGET as f64));
    assert_eq!((limit("hyper-seeds", "min"), limit("hyper-seeds", "max")), (1.0, MAX_SEEDS as f64));
    assert_eq!((limit("hyper-xi", "min"), limit("hyper-xi", "max")), (0.0, 1.0), "the lab's ξ range");
    assert_eq!((limit("hyper-kappa", "min"), limit("hyper-kappa", "max")), (0.0, 10.0), "the lab's κ range");
    assert_eq!((limit("hyper-n", "min"), limit("hyper-validation", "min")), (10.0, 10.0));
}

#[test]
fn the_batch_norm_inputs_stay_within_the_labs_limits() {
    use descent::lab::batch_norm::{MAX_EPOCHS, MAX_LAYERS, MAX_TRACE_EVERY};
    let html = page::html();
    let limit = |id: &str, attr: &str| -> f64 {
        let (_, tag) = inputs(&html, id).into_iter().find(|(i, _)| i == id).unwrap_or_else(|| panic!("no #{id}"));
        page::attr(tag, attr).unwrap_or_else(|| panic!("#{id} has no {attr}")).parse().unwrap()
    };
    // (input, min, max, reason)
    let rows = [
        ("batch-norm-epochs", 1.0, MAX_EPOCHS as f64, "the cell's epochs"),
        ("batch-norm-layer", 1.0, MAX_LAYERS as f64, "a hidden layer of the deepest network it takes"),
        ("batch-norm-unit", 1.0, MAX_WIDTH as f64, "a unit of the widest layer"),
        ("batch-norm-every", 1.0, MAX_TRACE_EVERY as f64, "steps between looks"),
        ("batch-norm-batch", 2.0, 7000.0, "batch-norm needs 2 digits a batch; the page's training split"),
        ("batch-norm-momentum", 0.001, 1.0, "momentum above 0, at most 1"),
        ("batch-norm-noise", 0.01, 3.0, "noise above 0 (the checkbox turns it off), at most 3"),
    ];
    for (id, min, max, reason) in rows {
        assert_eq!((limit(id, "min"), limit(id, "max")), (min, max), "#{id}: {reason}");
    }
}

#[test]
fn the_lambda_sliders_stay_within_the_labs_limit_in_every_convention() {
    use descent::lab::regularization::{Conventions, MAX_LAMBDA};
    let html = page::html();
    for id in ["l1-l2-l1", "l1-l2-l2"] {
        let (_, tag) = inputs(&html, id).into_iter().find(|(i, _)| i == id).unwrap_or_else(|| panic!("no #{id}"));
        let attr = |a: &str| -> f64 { page::attr(tag, a).unwrap_or_else(|| panic!("#{id} has no {a}")).parse().unwrap() };
        let (min, max, value) = (attr("min"), attr("max"), attr("value"));
        assert!((min..=max).contains(&value), "#{id}: the default {value} is outside {min}..{max}");
        // the slider is log₁₀ λ; Keras's convention doubles it into ours
        for conv in ["pytorch", "keras", "playground"] {
            let ours = Conventions::to_ours(10f64.powf(max), conv).unwrap();
            assert!(ours <= MAX_LAMBDA as f64, "#{id}: its top end is λ = {ours} in ours from {conv}, above the lab's {MAX_LAMBDA}");
        }
    }
}
