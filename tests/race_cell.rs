//! What the "Optimizer race" cell promises, checked natively with the page's own defaults: the
//! entrants, their optimizers, options and learning rates, the epochs, batch size and hidden
//! sizes are all read from index.html, and trained through the same `Trainer` the page uses.

use descent::data::{Mnist, Split};
use descent::nn::{Activation, Mlp, MlpSpec};
use descent::train::{Status, TrainConfig, Trainer};
use serde_json::Value;
use std::sync::Arc;

fn mnist() -> Mnist {
    let img = std::fs::read("data/mnist-images-idx3-ubyte.gz").unwrap();
    let lab = std::fs::read("data/mnist-labels-idx1-ubyte.gz").unwrap();
    Mnist::parse(&img, &lab).unwrap()
}

/// The value of attribute `name` in one HTML tag (quoted with " or ').
fn attr(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!(" {name}="))? + name.len() + 2;
    let quote = tag[at..].chars().next()?;
    let rest = &tag[at + 1..];
    Some(rest[..rest.find(quote)?].to_string())
}

/// The whole tag (from `<` to `>`) around position `at`.
fn tag_at(html: &str, at: usize) -> &str {
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

/// The `value` of the element with this id.
fn value_of(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("index.html has no #{id}"));
    attr(tag_at(html, at), "value").unwrap_or_else(|| panic!("#{id} has no value"))
}

struct Entrant {
    key: String,
    optimizer: String,
    options: Value,
}

struct Page {
    entrants: Vec<Entrant>,
    epochs: usize,
    batch: usize,
    hidden: Vec<usize>,
}

fn page() -> Page {
    let html = std::fs::read_to_string("index.html").unwrap();
    let mut entrants = Vec::new();
    for (at, _) in html.match_indices(" data-entrant=") {
        let tag = tag_at(&html, at);
        let key = attr(tag, "data-entrant").unwrap();
        let mut options: Value = serde_json::from_str(&attr(tag, "data-options").unwrap()).unwrap();
        let lr: f64 = value_of(&html, &format!("race-lr-{key}")).parse().unwrap();
        options["lr"] = lr.into();
        entrants.push(Entrant { key, optimizer: attr(tag, "data-optimizer").unwrap(), options });
    }
    let hidden = value_of(&html, "race-hidden").split(',').map(|s| s.trim().parse().unwrap()).collect();
    Page { entrants, epochs: value_of(&html, "race-epochs").parse().unwrap(), batch: value_of(&html, "race-batch").parse().unwrap(), hidden }
}

/// Train one entrant with the page's settings; the final validation accuracy.
fn race(p: &Page, e: &Entrant, split: &Split, seed: u64) -> f32 {
    let mut sizes = vec![784];
    sizes.extend(&p.hidden);
    sizes.push(10);
    let model = Mlp::new(MlpSpec::new(&sizes, Activation::Relu), seed).unwrap();
    let opt = descent::optim::build(&e.optimizer, &e.options).unwrap();
    let cfg = TrainConfig { batch_size: p.batch, epochs: p.epochs, seed, ..TrainConfig::default() };
    let mut t = Trainer::new(model, opt, Arc::new(split.train.clone()), Arc::new(split.validation.clone()), cfg).unwrap();
    while *t.step().unwrap() == Status::Running {}
    match t.status() {
        Status::Finished => 1.0 - t.history().epochs.last().unwrap().val_error,
        // rprop may blow up on mini-batches; it then counts as 0% here
        _ => 0.0,
    }
}

#[test]
fn the_page_lists_every_optimizer_with_a_learning_rate() {
    let p = page();
    let keys: Vec<&str> = p.entrants.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["sgd", "momentum", "nesterov", "rprop", "rmsprop", "adam", "adamw"]);
    for e in &p.entrants {
        assert!(descent::optim::build(&e.optimizer, &e.options).is_ok(), "{}: {}", e.key, e.options);
    }
    assert_eq!((p.epochs, p.batch), (2, 64), "the race's defaults");
}

#[test]
fn default_learning_rates_reach_85_percent_in_2_epochs_and_rprop_comes_last() {
    let p = page();
    let m = mnist();
    for seed in [1, 2, 3] {
        let split = Split::mnist_default(&m, seed).unwrap();
        let mut others = Vec::new();
        let mut rprop = None;
        for e in &p.entrants {
            let acc = race(&p, e, &split, seed);
            if e.key == "rprop" {
                rprop = Some(acc);
            } else {
                assert!(acc >= 0.85, "seed {seed}: {} reached only {:.1}% validation accuracy", e.key, 100.0 * acc);
                others.push((e.key.as_str(), acc));
            }
        }
        // Rprop steers by the signs of mini-batch gradients: the page says it is there to lose.
        let rprop = rprop.unwrap();
        for (key, acc) in others {
            assert!(rprop < acc, "seed {seed}: rprop ({rprop}) beat {key} ({acc})");
        }
    }
}
