//! Search spaces and the designs on them: grid, random, Latin hypercube.

use descent::tune::{grid, lhs, random, Dimension, Kind, Space, Value};

fn space() -> Space {
    Space::new(vec![
        Dimension::log_uniform("lr", 1e-4, 1.0).unwrap(),
        Dimension::uniform("p", 0.0, 0.5).unwrap(),
        Dimension::int_log_uniform("width", 16, 512).unwrap(),
        Dimension::int_uniform("layers", 1, 3).unwrap(),
        Dimension::choice("act", &["relu", "tanh"]).unwrap(),
    ])
    .unwrap()
}

#[test]
fn unit_maps_of_each_kind() {
    let s = space();
    // (unit point, values, reason)
    let rows = [
        (vec![0.0; 5], vec![Value::Float(1e-4), Value::Float(0.0), Value::Int(16), Value::Int(1), Value::Choice("relu".into())], "the low corner"),
        (
            vec![1.0; 5],
            vec![Value::Float(1.0), Value::Float(0.5), Value::Int(512), Value::Int(3), Value::Choice("tanh".into())],
            "the high corner, last bins closed",
        ),
        (
            vec![0.5; 5],
            vec![Value::Float(1e-2), Value::Float(0.25), Value::Int(89), Value::Int(2), Value::Choice("tanh".into())],
            "the middle: 1e-2 is halfway in log, √(15.5·512.5) ≈ 89.1 for the width",
        ),
    ];
    for (unit, want, reason) in rows {
        let got = s.from_unit(&unit).unwrap();
        for (g, w) in got.iter().zip(&want) {
            match (g, w) {
                (Value::Float(a), Value::Float(b)) => assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-12), "{reason}: {a} vs {b}"),
                _ => assert_eq!(g, w, "{reason}"),
            }
        }
    }
    // Round trips: values → unit → values exactly; a snapped point is a fixed point of snap.
    for u in [0.0, 0.13, 0.5, 0.77, 1.0] {
        let unit = vec![u; 5];
        let values = s.from_unit(&unit).unwrap();
        let back = s.to_unit(&values).unwrap();
        assert_eq!(s.from_unit(&back).unwrap(), values, "u = {u}");
        assert_eq!(s.snap(&back).unwrap(), back, "u = {u}");
        assert!((back[0] - u).abs() < 1e-12 && (back[1] - u).abs() < 1e-12, "continuous axes are not moved");
    }
    // Every integer of an intLogUniform axis is reachable, and small ones own more of the axis.
    let width = Dimension::int_log_uniform("w", 1, 8).unwrap();
    let hits: Vec<i64> = (0..1000)
        .map(|i| match width.from_unit(i as f64 / 999.0).unwrap() {
            Value::Int(k) => k,
            v => panic!("{v:?}"),
        })
        .collect();
    for k in 1..=8 {
        assert!(hits.contains(&k), "{k} unreachable");
    }
    assert!(hits.iter().filter(|&&k| k == 1).count() > hits.iter().filter(|&&k| k == 8).count());
}

#[test]
fn json_is_camel_case_and_checked() {
    let s: Space = serde_json::from_str(r#"[{ "name": "lr", "kind": "logUniform", "low": 1e-4, "high": 1 }, { "name": "width", "kind": "intLogUniform", "low": 16, "high": 512 }, { "name": "act", "kind": "choice", "options": ["relu", "tanh"] }]"#).unwrap();
    assert_eq!(s.dims()[0].kind(), &Kind::LogUniform { low: 1e-4, high: 1.0 });
    assert_eq!(s.dims()[1].kind(), &Kind::IntLogUniform { low: 16, high: 512 });
    let again: Space = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(again, s);
    // (JSON, part of the message, reason)
    let rows = [
        (
            r#"[{ "name": "lr", "kind": "logUniform", "low": 0, "high": 1 }]"#,
            "Invalid dimension \"lr\": a log-uniform range needs low > 0, got low 0",
            "log of 0",
        ),
        (
            r#"[{ "name": "p", "kind": "uniform", "low": 0.5, "high": 0.5 }]"#,
            "Invalid dimension \"p\": need finite bounds with low < high",
            "empty range",
        ),
        (r#"[{ "name": "w", "kind": "intLogUniform", "low": 0, "high": 8 }]"#, "needs low >= 1, got low 0", "integer log from 0"),
        (r#"[{ "name": "w", "kind": "intUniform", "low": 4, "high": 2 }]"#, "need low < high, got low 4 and high 2", "reversed"),
        (r#"[{ "name": "a", "kind": "choice", "options": ["x"] }]"#, "a choice needs at least two options, got 1", "a choice of one"),
        (r#"[{ "name": "a", "kind": "choice", "options": ["x", "x"] }]"#, "the option \"x\" appears twice", "repeated option"),
        (
            r#"[{ "name": "a", "kind": "uniform", "low": 0, "high": 1 }, { "name": "a", "kind": "uniform", "low": 0, "high": 1 }]"#,
            "the name \"a\" appears twice",
            "repeated name",
        ),
        (r#"[]"#, "it has no dimensions", "empty space"),
    ];
    for (json, want, reason) in rows {
        let err = serde_json::from_str::<Space>(json).unwrap_err().to_string();
        assert!(err.contains(want), "{reason}: {err}");
    }
    let s = space();
    let rows = [
        (s.from_unit(&[0.5; 4]).unwrap_err().to_string(), "4 coordinates for a space of 5 dimensions"),
        (s.from_unit(&[0.5, 0.5, 1.5, 0.5, 0.5]).unwrap_err().to_string(), "Invalid unit coordinate for \"width\": 1.5"),
        (
            s.to_unit(&[Value::Float(2.0), Value::Float(0.1), Value::Int(16), Value::Int(1), Value::Choice("relu".into())]).unwrap_err().to_string(),
            "Invalid value for \"lr\": 2",
        ),
        (
            s.to_unit(&[Value::Float(0.1), Value::Float(0.1), Value::Float(16.5), Value::Int(1), Value::Choice("relu".into())])
                .unwrap_err()
                .to_string(),
            "Invalid value for \"width\": 16.5",
        ),
        (
            s.to_unit(&[Value::Float(0.1), Value::Float(0.1), Value::Int(16), Value::Int(1), Value::Choice("gelu".into())]).unwrap_err().to_string(),
            "\"gelu\" is not one of",
        ),
    ];
    for (got, want) in rows {
        assert!(got.contains(want), "{got}");
    }
}

#[test]
fn grid_is_a_product_in_the_stated_order() {
    let two = Space::new(vec![Dimension::uniform("a", 0.0, 1.0).unwrap(), Dimension::uniform("b", 0.0, 1.0).unwrap()]).unwrap();
    let points = grid::design(&two, 16).unwrap();
    let levels = [0.125, 0.375, 0.625, 0.875];
    assert_eq!(points.len(), 16);
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p, &vec![levels[i / 4], levels[i % 4]], "point {i}: the first dimension slowest");
    }
    let mixed = Space::new(vec![
        Dimension::choice("act", &["relu", "tanh"]).unwrap(),
        Dimension::uniform("b", 0.0, 1.0).unwrap(),
        Dimension::int_uniform("k", 1, 3).unwrap(),
    ])
    .unwrap();
    // (space, budget, levels per axis, reason)
    let rows = [
        (&two, 16, vec![4, 4], "a square grid"),
        (&two, 20, vec![5, 4], "the spare budget goes to the first axis"),
        (&two, 3, vec![3, 1], "fewer trials than a 2 × 2 grid: the first axis takes them"),
        (&two, 1, vec![1, 1], "a single trial at the centre"),
        (&mixed, 18, vec![2, 3, 3], "a choice of two and an integer of three cap their axes"),
        (&mixed, 27, vec![2, 4, 3], "the capped axes leave more for the continuous one"),
    ];
    for (space, budget, want, reason) in rows {
        let got = grid::per_axis(space, budget).unwrap();
        assert_eq!(got, want, "{reason}");
        assert!(got.iter().product::<usize>() <= budget, "{reason}: over budget");
    }
    assert_eq!(grid::points(&two, &[1, 1]).unwrap(), vec![vec![0.5, 0.5]]);
    let choice_axis = grid::levels(&mixed.dims()[0], 2).unwrap();
    assert_eq!(mixed.dims()[0].from_unit(choice_axis[1]).unwrap(), Value::Choice("tanh".into()));
    assert!(grid::per_axis(&two, 0).unwrap_err().to_string().contains("Invalid grid budget: 0"));
}

#[test]
fn random_and_latin_hypercube_are_seeded() {
    let s = space();
    for design in [random::design, lhs::design] {
        let a = design(&s, 12, 7).unwrap();
        assert_eq!(a, design(&s, 12, 7).unwrap(), "the same seed replays");
        assert_ne!(a, design(&s, 12, 8).unwrap(), "another seed differs");
        for p in &a {
            assert_eq!(&s.snap(p).unwrap(), p, "points are snapped");
        }
    }
    // A Latin hypercube puts exactly one point in each of n strata of each continuous axis.
    let two = Space::new(vec![Dimension::uniform("a", 0.0, 1.0).unwrap(), Dimension::log_uniform("b", 1e-3, 1.0).unwrap()]).unwrap();
    for seed in 0..5 {
        let n = 10;
        let points = lhs::design(&two, n, seed).unwrap();
        for axis in 0..2 {
            let mut strata: Vec<usize> = points.iter().map(|p| ((p[axis] * n as f64) as usize).min(n - 1)).collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..n).collect::<Vec<_>>(), "seed {seed}, axis {axis}");
        }
    }
}
