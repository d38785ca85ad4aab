//! What the "Optimizer race" cell promises, checked natively on the type the page runs
//! (`lab::Race`) with the page's own defaults: the entrants, their optimizers, options and
//! learning rates, the epochs, batch size and hidden sizes are all read from index.html.

#[path = "common/page.rs"]
mod page;

use descent::data::Split;
use descent::lab::race::{EntrantSpec, RaceReport};
use descent::lab::{Cpu, Data, Race, RaceSpec, SystemClock};
use serde_json::Value;
use std::sync::Arc;

/// The race the page starts, every entrant ticked (key, spec).
fn page_race(seed: u64) -> (Vec<String>, RaceSpec) {
    let html = page::html();
    let mut keys = Vec::new();
    let mut runs = Vec::new();
    for (at, _) in html.match_indices(" data-entrant=") {
        let tag = page::tag_at(&html, at);
        let key = page::attr(tag, "data-entrant").unwrap();
        let mut options: Value = serde_json::from_str(&page::attr(tag, "data-options").unwrap()).unwrap();
        options["lr"] = page::number_of::<f64>(&html, &format!("race-lr-{key}")).into();
        runs.push(EntrantSpec {
            name: page::attr(tag, "data-label").unwrap(),
            optimizer: page::attr(tag, "data-optimizer").unwrap(),
            options,
            color: page::attr(tag, "data-color").unwrap().parse().unwrap(),
        });
        keys.push(key);
    }
    let spec = RaceSpec {
        seed,
        hidden: page::sizes_of(&html, "race-hidden"),
        batch_size: page::number_of(&html, "race-batch"),
        epochs: page::number_of(&html, "race-epochs"),
        checks_per_epoch: 5,
        runs,
    };
    (keys, spec)
}

fn run(spec: RaceSpec, split: &Split) -> RaceReport {
    let data = Data { train: Arc::new(split.train.clone()), validation: Arc::new(split.validation.clone()) };
    let mut race = Race::new(&data, spec, &Cpu).unwrap();
    let clock = SystemClock::default();
    while race.run_for(50.0, &clock).unwrap() {}
    race.report()
}

#[test]
fn the_page_lists_every_optimizer_with_a_learning_rate() {
    let (keys, spec) = page_race(1);
    assert_eq!(keys, ["sgd", "momentum", "nesterov", "rprop", "rmsprop", "adam", "adamw"]);
    for e in &spec.runs {
        assert!(descent::optim::build(&e.optimizer, &e.options).is_ok(), "{}: {}", e.name, e.options);
    }
    assert_eq!((spec.epochs, spec.batch_size), (2, 64), "the race's defaults");
    let html = page::html();
    let ticked: Vec<&str> = keys.iter().map(String::as_str).filter(|k| page::checked(&html, &format!("race-use-{k}"))).collect();
    assert_eq!(ticked, ["sgd", "momentum", "rprop", "rmsprop", "adam"], "ticked by default");
}

#[test]
fn default_learning_rates_reach_85_percent_in_2_epochs_and_rprop_comes_last() {
    let m = page::mnist();
    for seed in [1, 2, 3] {
        let split = Split::mnist_default(&m, seed).unwrap();
        let (keys, spec) = page_race(seed);
        let r = run(spec, &split);
        assert_eq!(r.status, "finished", "seed {seed}");
        assert_eq!(r.checks_per_epoch, 5);
        let rprop = keys.iter().position(|k| k == "rprop").unwrap();
        // Rprop must run to the end: a diverged run would come last without having raced.
        let rp = &r.entrants[rprop];
        assert_eq!(rp.status, "finished", "seed {seed}: rprop diverged ({:?}); the page says it wanders, not that it blows up", rp.message);
        let rp_err = rp.val_error.unwrap();
        for (e, key) in r.entrants.iter().zip(&keys) {
            assert_eq!(e.steps, r.total_steps, "seed {seed}: {key} ran every step");
            let err = e.val_error.unwrap();
            if key != "rprop" {
                assert!(err <= 0.15, "seed {seed}: {key} reached only {:.1}% validation accuracy", 100.0 * (1.0 - err));
                // Rprop steers by the signs of mini-batch gradients: the page says it is there to lose.
                assert!(rp_err > err, "seed {seed}: rprop ({rp_err}) beat {key} ({err})");
            }
        }
        assert_ne!(r.best.val_error, Some(rprop), "seed {seed}: rprop wins no column");
        assert_ne!(r.best.loss, Some(rprop));
    }
}
