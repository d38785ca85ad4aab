//! What the "Momentum" cell promises, checked natively with `lab::landscape::Landscape` (the
//! type the page runs) on index.html's defaults and on each of its presets, and the page's
//! input limits against the core's.

#[path = "common/page.rs"]
mod page;

use descent::lab::landscape::{self, Landscape, LandscapeSpec};
use descent::lab::Clock;
use serde_json::{json, Value};
use std::cell::Cell;

/// A clock the test moves by hand.
struct Manual(Cell<f64>);
impl Clock for Manual {
    fn now_ms(&self) -> f64 {
        self.0.get()
    }
}

/// The value of the `selected` option of a `<select>` (else its first option).
fn selected(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("index.html has no #{id}"));
    let body = &html[at..at + html[at..].find("</select>").unwrap()];
    let options: Vec<&str> = body.match_indices("<option").map(|(i, _)| page::tag_at(body, i + 1)).collect();
    let pick = options.iter().find(|t| t.contains(" selected")).or(options.first()).expect("a select has options");
    page::attr(pick, "value").unwrap()
}

/// The cell's controls as index.html starts them, by the names the page's presets use.
fn defaults(html: &str) -> Value {
    json!({
        "surface": selected(html, "momentum-surface"),
        "kappa": page::number_of::<f64>(html, "momentum-kappa"),
        "angle": page::number_of::<f64>(html, "momentum-angle"),
        "lr": page::number_of::<f64>(html, "momentum-lr"),
        "mu": page::number_of::<f64>(html, "momentum-mu"),
        "nesterov": page::checked(html, "momentum-nesterov"),
        "steps": page::number_of::<usize>(html, "momentum-steps"),
        "x": page::number_of::<f64>(html, "momentum-x"),
        "y": page::number_of::<f64>(html, "momentum-y"),
        "tol": selected(html, "momentum-tol").parse::<f64>().unwrap(),
    })
}

/// A preset button's settings laid over the defaults, as the page's preset does.
fn preset(html: &str, name: &str) -> Value {
    let at = html.find(&format!("data-name=\"{name}\"")).unwrap_or_else(|| panic!("index.html has no preset {name:?}"));
    let over: Value = serde_json::from_str(&page::attr(page::tag_at(html, at), "data-preset").unwrap()).unwrap();
    let mut v = defaults(html);
    v.as_object_mut().unwrap().extend(over.as_object().unwrap().clone());
    v
}

/// The spec the page builds from its controls (as www/cells/momentum.js writes it).
fn spec(v: &Value) -> LandscapeSpec {
    serde_json::from_value(json!({
        "surface": v["surface"], "kappa": v["kappa"], "angle": v["angle"], "lr": v["lr"], "momentum": v["mu"],
        "nesterov": v["nesterov"], "start": [v["x"], v["y"]], "steps": v["steps"], "tol": v["tol"],
    }))
    .unwrap()
}

/// Run the animation to its end; (reached, diverged at) per run key.
fn play(v: &Value) -> Vec<(&'static str, Option<usize>, Option<usize>)> {
    let mut l = Landscape::new(spec(v)).unwrap();
    let clock = Manual(Cell::new(0.0));
    l.run_for(12.0, &clock).unwrap();
    clock.0.set(1e9);
    assert!(!l.run_for(12.0, &clock).unwrap());
    let r = l.report();
    assert_eq!((r.status, r.shown), ("finished", r.steps));
    r.runs.iter().map(|t| (t.key, t.reached, t.diverged_at)).collect()
}

fn of(runs: &[(&'static str, Option<usize>, Option<usize>)], key: &str) -> (Option<usize>, Option<usize>) {
    let r = runs.iter().find(|r| r.0 == key).unwrap_or_else(|| panic!("no {key} run in {runs:?}"));
    (r.1, r.2)
}

#[test]
fn the_defaults_and_every_preset_show_what_the_page_says() {
    let html = page::html();
    type Claim = fn(&[(&'static str, Option<usize>, Option<usize>)]) -> bool;
    // (settings, claim, reason)
    let rows: [(Value, Claim, &str); 7] = [
        (
            defaults(&html),
            |r| matches!((of(r, "sgd").0, of(r, "momentum").0), (Some(s), Some(m)) if 2 * m < s),
            "κ = 50: both arrive, momentum in well under half plain SGD's steps",
        ),
        (
            preset(&html, "round"),
            |r| matches!((of(r, "sgd").0, of(r, "momentum").0), (Some(s), Some(m)) if s < 40 && m > s),
            "κ = 1: plain SGD is quick and momentum only overshoots",
        ),
        (
            preset(&html, "narrow"),
            |r| matches!((of(r, "sgd").0, of(r, "momentum").0), (Some(s), Some(m)) if 4 * m < s),
            "κ = 100: plain SGD's steps grow like κ, momentum's like √κ: under a quarter as many",
        ),
        (
            preset(&html, "too-big"),
            |r| of(r, "sgd").1.is_some() && of(r, "sgd").0.is_none() && of(r, "momentum").0.is_some(),
            "lr = 0.045 > 2/κ: plain SGD diverges, heavy-ball momentum (stable to 2(1 + μ)/κ) arrives",
        ),
        (
            preset(&html, "tilted"),
            |r| matches!((of(r, "sgd").0, of(r, "momentum").0), (Some(s), Some(m)) if 2 * m < s),
            "a tilted valley: SGD's momentum does not care about the axes, and still wins",
        ),
        (preset(&html, "nesterov"), |r| of(r, "nesterov").0.is_some(), "Nesterov arrives at lr 0.02"),
        (
            preset(&html, "rosenbrock"),
            |r| of(r, "sgd").0.is_none() && of(r, "momentum").0.is_some(),
            "Rosenbrock: plain SGD crawls, momentum gets there",
        ),
    ];
    for (v, claim, reason) in rows {
        let runs = play(&v);
        eprintln!("{reason}: {runs:?}");
        assert!(claim(&runs), "{reason}: {runs:?} with {v}");
    }
}

#[test]
fn the_surface_defaults_are_the_settings_the_page_loads() {
    let html = page::html();
    // Switching the surface loads its option's data-defaults; they must run as promised too.
    for (surface, reason) in [("quadratic", "the bowl's defaults are the page's"), ("rosenbrock", "Rosenbrock's are its preset's")] {
        let at = html.find(&format!("<option value=\"{surface}\"")).unwrap();
        let over: Value = serde_json::from_str(&page::attr(page::tag_at(&html, at + 1), "data-defaults").unwrap()).unwrap();
        let target = if surface == "quadratic" { defaults(&html) } else { preset(&html, "rosenbrock") };
        for (k, v) in over.as_object().unwrap() {
            assert_eq!(target[k].as_f64(), v.as_f64(), "{reason}: {k}");
        }
    }
}

#[test]
fn the_page_limits_are_the_cores() {
    let html = page::html();
    let attr =
        |id: &str, name: &str| -> f64 { page::attr(page::tag_of(&html, id), name).unwrap_or_else(|| panic!("#{id} has no {name}")).parse().unwrap() };
    // (input, attribute, the core's limit, reason)
    let rows = [
        ("momentum-steps", "max", landscape::MAX_STEPS as f64, "steps"),
        ("momentum-steps", "min", 1.0, "at least one step"),
        ("momentum-kappa", "max", landscape::MAX_KAPPA, "the slider ends at the largest κ"),
        ("momentum-kappa", "min", 1.0, "κ ≥ 1"),
        ("momentum-angle", "max", landscape::MAX_TILT, "tilt"),
        ("momentum-angle", "min", -landscape::MAX_TILT, "tilt the other way"),
        ("momentum-lr", "max", landscape::MAX_LR, "learning rate"),
        ("momentum-lr", "min", 0.0, "no negative learning rate"),
        ("momentum-mu", "max", landscape::MAX_MOMENTUM, "momentum below 1"),
        ("momentum-mu", "min", 0.0, "no negative momentum"),
        ("momentum-x", "max", landscape::MAX_START, "start x"),
        ("momentum-x", "min", -landscape::MAX_START, "start x"),
        ("momentum-y", "max", landscape::MAX_START, "start y"),
        ("momentum-y", "min", -landscape::MAX_START, "start y"),
    ];
    for (id, name, want, reason) in rows {
        assert_eq!(attr(id, name), want, "{reason}: #{id} {name}");
    }
    // …and the core holds them: the limit is accepted, one past it refused.
    let mut v = defaults(&html);
    v["steps"] = json!(landscape::MAX_STEPS);
    assert!(Landscape::new(spec(&v)).is_ok());
    v["steps"] = json!(landscape::MAX_STEPS + 1);
    assert!(Landscape::new(spec(&v)).is_err());
}
