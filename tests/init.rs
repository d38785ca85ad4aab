//! Initializers: statistics against the formulas, determinism, refusals, gains, weights files.
//!
//! Expected moments are written out from the formulas here, independently of `src/init.rs`.
//! Sample sizes: fan_in = 400, fan_out = 300 → 120 000 weights, so a sample variance sits
//! within about 0.5 % of the truth (normal: sqrt(2/n) ≈ 0.4 %; uniform ≈ 0.26 %) and a
//! fraction within about 0.14 %: the 2 % / 0.01 tolerances below are 5+ standard errors.

use descent::init::{calculate_gain, initialize, scheme_names, Init, WeightsFile};
use descent::Rng;
use serde_json::json;

const FAN_IN: usize = 400;
const FAN_OUT: usize = 300;
const SQRT_2: f64 = std::f64::consts::SQRT_2;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// `U(center - r, center + r)`.
    Uniform {
        r: f64,
    },
    Normal,
}

/// (scheme, shape, mean, variance, reason), for FAN_IN → FAN_OUT.
fn random_schemes() -> Vec<(Init, Shape, f64, f64, &'static str)> {
    let (fi, fo) = (FAN_IN as f64, FAN_OUT as f64);
    let xavier_r = (6.0 / (fi + fo)).sqrt();
    let kaiming_r = SQRT_2 * (3.0 / fi).sqrt();
    #[rustfmt::skip]
    let rows = vec![
        (Init::Default, Shape::Uniform { r: 1.0 / fi.sqrt() }, 0.0, 1.0 / (3.0 * fi), "nn.Linear: U(±1/sqrt(fan_in))"),
        (Init::Uniform { a: 0.0, b: 1.0 }, Shape::Uniform { r: 0.5 }, 0.5, 1.0 / 12.0, "uniform_ defaults U(0, 1)"),
        (Init::Uniform { a: -2.0, b: 5.0 }, Shape::Uniform { r: 3.5 }, 1.5, 49.0 / 12.0, "off-center range: (b-a)²/12"),
        (Init::Normal { mean: 0.0, std: 1.0 }, Shape::Normal, 0.0, 1.0, "normal_ defaults N(0, 1)"),
        (Init::Normal { mean: -3.0, std: 0.1 }, Shape::Normal, -3.0, 0.01, "shifted, narrow normal"),
        (Init::XavierUniform { gain: 1.0 }, Shape::Uniform { r: xavier_r }, 0.0, 2.0 / (fi + fo), "Glorot: Var = 2/(in+out)"),
        (Init::XavierUniform { gain: 5.0 / 3.0 }, Shape::Uniform { r: 5.0 / 3.0 * xavier_r }, 0.0, 25.0 / 9.0 * 2.0 / (fi + fo), "gain scales the bound"),
        (Init::XavierNormal { gain: 1.0 }, Shape::Normal, 0.0, 2.0 / (fi + fo), "Glorot normal: same variance as uniform"),
        (Init::KaimingUniform { gain: SQRT_2 as f32 }, Shape::Uniform { r: kaiming_r }, 0.0, 2.0 / fi, "He: Var = 2/fan_in"),
        (Init::KaimingNormal { gain: SQRT_2 as f32 }, Shape::Normal, 0.0, 2.0 / fi, "He normal: std = sqrt(2/fan_in)"),
        (Init::KaimingNormal { gain: 1.0 }, Shape::Normal, 0.0, 1.0 / fi, "gain 1: LeCun normal"),
    ];
    rows
}

fn mean_var(w: &[f32]) -> (f64, f64) {
    let n = w.len() as f64;
    let mean = w.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = w.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

fn fraction_within(w: &[f32], center: f64, half_width: f64) -> f64 {
    w.iter().filter(|&&x| (x as f64 - center).abs() < half_width).count() as f64 / w.len() as f64
}

#[test]
fn moments_match_the_formulas() {
    for (init, _, mean, var, reason) in random_schemes() {
        let w = initialize(&init, FAN_IN, FAN_OUT, 42).unwrap();
        assert_eq!(w.len(), FAN_IN * FAN_OUT, "{reason}");
        let (m, v) = mean_var(&w);
        let std = var.sqrt();
        assert!((m - mean).abs() < 0.02 * std, "{reason}: mean {m}, expected {mean} (std {std})");
        assert!((v / var - 1.0).abs() < 0.02, "{reason}: variance {v}, expected {var}");
        // The closed forms `moments` reports (for the page's theory curve) are the same ones.
        let (tm, tv) = init.moments(FAN_IN, FAN_OUT).unwrap();
        assert!((tm - mean).abs() < 1e-12 && (tv / var - 1.0).abs() < 1e-6, "{reason}: moments {tm} {tv}");
    }
}

#[test]
fn uniform_schemes_fill_their_range_and_no_more() {
    for (init, shape, center, _, reason) in random_schemes() {
        let Shape::Uniform { r } = shape else {
            continue;
        };
        let w = initialize(&init, FAN_IN, FAN_OUT, 7).unwrap();
        let max_dev = w.iter().map(|&x| (x as f64 - center).abs()).fold(0.0, f64::max);
        // f32 rounding of the bound itself: allow one ulp-ish of slack, no more.
        assert!(max_dev <= r * (1.0 + 1e-6), "{reason}: |w - c| reached {max_dev} > bound {r}");
        assert!(max_dev > 0.99 * r, "{reason}: |w - c| only reached {max_dev} of bound {r}");
        // Flat, not bell-shaped: the middle half of the range holds half of the mass.
        let mid = fraction_within(&w, center, r / 2.0);
        assert!((mid - 0.5).abs() < 0.01, "{reason}: {mid} of the mass in the middle half");
    }
}

#[test]
fn normal_schemes_have_a_bell_shape() {
    for (init, shape, mean, var, reason) in random_schemes() {
        if shape != Shape::Normal {
            continue;
        }
        let w = initialize(&init, FAN_IN, FAN_OUT, 7).unwrap();
        let std = var.sqrt();
        // P(|z| < 1) = 0.6827, P(|z| < 2) = 0.9545 for a normal (0.577 and 1.0 for a uniform).
        let one = fraction_within(&w, mean, std);
        let two = fraction_within(&w, mean, 2.0 * std);
        assert!((one - 0.6827).abs() < 0.01, "{reason}: {one} within 1 std");
        assert!((two - 0.9545).abs() < 0.01, "{reason}: {two} within 2 std");
    }
}

#[test]
fn constant_schemes_are_exact() {
    // (scheme, value, reason)
    #[rustfmt::skip]
    let rows = [
        (Init::Zeros, 0.0f32, "zeros_"),
        (Init::Constant { value: 0.25 }, 0.25, "constant_"),
        (Init::Constant { value: -7.0 }, -7.0, "negative constant"),
        (Init::Uniform { a: 2.0, b: 2.0 }, 2.0, "a == b is allowed (PyTorch too) and is a constant"),
        (Init::Normal { mean: 1.5, std: 0.0 }, 1.5, "std 0 is allowed and is a constant"),
    ];
    for (init, value, reason) in rows {
        let w = initialize(&init, 3, 5, 1).unwrap();
        assert_eq!(w.len(), 15, "{reason}");
        assert!(w.iter().all(|&x| x == value), "{reason}: {w:?}");
    }
}

#[test]
fn default_bias_follows_nn_linear_and_others_are_zero() {
    let (fan_in, fan_out) = (100, 100_000);
    let r = 1.0 / (fan_in as f64).sqrt();
    let b = Init::Default.bias(fan_in, fan_out, &mut Rng::stream(3, "init")).unwrap();
    assert_eq!(b.len(), fan_out);
    let max = b.iter().map(|&x| (x as f64).abs()).fold(0.0, f64::max);
    assert!(max <= r && max > 0.99 * r, "bias max {max}, bound {r}");
    let (m, v) = mean_var(&b);
    assert!(m.abs() < 0.02 * r && (v / (r * r / 3.0) - 1.0).abs() < 0.02, "bias mean {m} var {v}");

    for (init, _, _, _, reason) in random_schemes().into_iter().filter(|row| row.0 != Init::Default) {
        let b = init.bias(FAN_IN, 10, &mut Rng::new(0)).unwrap();
        assert_eq!(b, vec![0.0; 10], "{reason}: bias should be zeros");
    }
}

#[test]
fn same_seed_same_bits_other_seed_other_values() {
    for (init, _, _, _, reason) in random_schemes() {
        let a = initialize(&init, 20, 30, 5).unwrap();
        let b = initialize(&init, 20, 30, 5).unwrap();
        let c = initialize(&init, 20, 30, 6).unwrap();
        let bits = |w: &[f32]| w.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "{reason}: same seed must replay");
        assert_ne!(a, c, "{reason}: another seed must differ");
        // `initialize` is exactly the "init" stream of the seed.
        let mut rng = Rng::stream(5, "init");
        assert_eq!(bits(&a), bits(&init.weight(20, 30, &mut rng).unwrap()), "{reason}");
    }
}

#[test]
fn fan_in_is_the_first_argument() {
    // Kaiming depends on fan_in only: swapping the fans changes the scale, proving which is which.
    let wide = initialize(&Init::KaimingUniform { gain: 1.0 }, 1000, 3, 0).unwrap();
    let tall = initialize(&Init::KaimingUniform { gain: 1.0 }, 3, 1000, 0).unwrap();
    assert_eq!((wide.len(), tall.len()), (3000, 3000));
    let max = |w: &[f32]| w.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(max(&wide) <= (3.0f32 / 1000.0).sqrt() && max(&tall) > 0.9, "fan_in must be the first argument");
}

#[test]
fn json_parsing_and_defaults() {
    let s2 = std::f32::consts::SQRT_2;
    // (json, expected, reason)
    #[rustfmt::skip]
    let rows = [
        (json!({"scheme": "default"}), Init::Default, "nn.Linear default"),
        (json!({"scheme": "zeros"}), Init::Zeros, "no options"),
        (json!({"scheme": "constant", "value": 3}), Init::Constant { value: 3.0 }, "integers are numbers"),
        (json!({"scheme": "uniform"}), Init::Uniform { a: 0.0, b: 1.0 }, "uniform_ defaults a=0, b=1"),
        (json!({"scheme": "uniform", "b": 2.5}), Init::Uniform { a: 0.0, b: 2.5 }, "one option given, one defaulted"),
        (json!({"scheme": "normal"}), Init::Normal { mean: 0.0, std: 1.0 }, "normal_ defaults mean=0, std=1"),
        (json!({"scheme": "xavier_uniform"}), Init::XavierUniform { gain: 1.0 }, "xavier gain defaults to 1"),
        (json!({"scheme": "xavier_normal", "gain": 2.0}), Init::XavierNormal { gain: 2.0 }, "explicit gain"),
        (json!({"scheme": "kaiming_uniform"}), Init::KaimingUniform { gain: s2 }, "kaiming gain defaults to sqrt(2)"),
        (json!({"scheme": "kaiming_normal"}), Init::KaimingNormal { gain: s2 }, "kaiming gain defaults to sqrt(2)"),
        (json!({"scheme": "glorot_uniform"}), Init::XavierUniform { gain: 1.0 }, "Keras alias"),
        (json!({"scheme": "glorot_normal"}), Init::XavierNormal { gain: 1.0 }, "Keras alias"),
        (json!({"scheme": "he_uniform"}), Init::KaimingUniform { gain: s2 }, "Keras alias"),
        (json!({"scheme": "he_normal", "gain": 1}), Init::KaimingNormal { gain: 1.0 }, "alias with an option"),
    ];
    for (v, expected, reason) in rows {
        let got = Init::from_json(&v).unwrap_or_else(|e| panic!("{reason}: {e}"));
        assert_eq!(got, expected, "{reason}");
        // Serializing writes the canonical name and every option, and reads back equal.
        let back = serde_json::to_value(&got).unwrap();
        assert_eq!(back["scheme"], got.name(), "{reason}");
        assert_eq!(Init::from_json(&back).unwrap(), got, "{reason}");
    }
    assert_eq!(Init::default(), Init::Default);
    assert_eq!(scheme_names().count(), 9);
}

#[test]
fn refusals_name_the_problem() {
    // (json, words the error must contain, reason)
    #[rustfmt::skip]
    let rows = [
        (json!({"scheme": "xavier"}), vec!["'xavier'", "xavier_uniform", "kaiming_normal"], "ambiguous name: list the valid ones"),
        (json!({"scheme": "lecun"}), vec!["Unknown init scheme 'lecun'", "he_normal"], "unknown scheme, aliases listed"),
        (json!({"gain": 1}), vec!["missing \"scheme\""], "no scheme at all"),
        (json!({"scheme": 3}), vec!["must be a string", "3"], "scheme of the wrong type"),
        (json!("xavier_uniform"), vec!["JSON object"], "a bare string is not an init"),
        (json!({"scheme": "xavier_uniform", "gian": 1}), vec!["'gian'", "gain (default 1)"], "typo in an option"),
        (json!({"scheme": "zeros", "value": 1}), vec!["'value'", "no options"], "option on a scheme without options"),
        (json!({"scheme": "kaiming_normal", "a": 0.2}), vec!["'a'", "gain"], "PyTorch's `a` is spelled as a gain here"),
        (json!({"scheme": "xavier_uniform", "gain": "1"}), vec!["'gain'", "must be a number", "\"1\""], "number as a string"),
        (json!({"scheme": "normal", "std": null}), vec!["'std'", "must be a number"], "null option"),
        (json!({"scheme": "constant"}), vec!["needs option 'value'"], "constant_ has no default value"),
        (json!({"scheme": "uniform", "a": 1, "b": 0}), vec!["a=1 > b=0"], "empty range, as PyTorch refuses"),
        (json!({"scheme": "normal", "std": -1}), vec!["std", "-1", ">= 0"], "negative std, as PyTorch refuses"),
        (json!({"scheme": "kaiming_uniform", "gain": -2}), vec!["gain", "-2"], "negative gain"),
        (json!({"scheme": "xavier_normal", "gain": 1e300}), vec!["gain", "inf", "finite"], "overflows f32"),
        (json!({"scheme": "uniform", "a": -3e38, "b": 3e38}), vec!["b - a", "overflows"], "range wider than f32"),
    ];
    for (v, words, reason) in rows {
        let err = Init::from_json(&v).expect_err(reason).to_string();
        for w in words {
            assert!(err.contains(w), "{reason}: error {err:?} should mention {w:?}");
        }
    }
}

#[test]
fn serde_applies_the_same_checks() {
    // Configs embed an `Init`, so plain serde must refuse what `from_json` refuses.
    #[derive(serde::Deserialize, Debug)]
    struct Layer {
        #[allow(dead_code)]
        init: Init,
    }
    // (json, word, reason)
    #[rustfmt::skip]
    let rows = [
        (r#"{"init":{"scheme":"zeros","value":1}}"#, "'value'", "extra field on a unit variant (derive would ignore it)"),
        (r#"{"init":{"scheme":"normal","std":-1}}"#, "std", "validation runs on deserialize"),
        (r#"{"init":{"scheme":"xavier"}}"#, "Unknown init scheme", "unknown scheme"),
    ];
    for (json, word, reason) in rows {
        let err = serde_json::from_str::<Layer>(json).expect_err(reason).to_string();
        assert!(err.contains(word), "{reason}: {err:?} should mention {word:?}");
    }
    let ok: Layer = serde_json::from_str(r#"{"init":{"scheme":"he_normal"}}"#).unwrap();
    assert_eq!(ok.init, Init::KaimingNormal { gain: std::f32::consts::SQRT_2 });
}

#[test]
fn refusals_when_drawing() {
    let mut rng = Rng::new(0);
    // (scheme, fan_in, fan_out, words, bias refused too, reason)
    #[rustfmt::skip]
    let rows = [
        (Init::Default, 0, 10, vec!["fan_in: 0"], true, "no inputs"),
        (Init::XavierUniform { gain: 1.0 }, 10, 0, vec!["fan_out: 0"], true, "no outputs"),
        (Init::Zeros, 0, 0, vec!["fan_in: 0"], true, "even zeros needs a real layer"),
        (Init::Constant { value: f32::NAN }, 2, 2, vec!["value", "NaN"], true, "NaN constant"),
        (Init::Normal { mean: 0.0, std: f32::NAN }, 2, 2, vec!["std", "NaN"], true, "NaN std"),
        (Init::Normal { mean: f32::INFINITY, std: 1.0 }, 2, 2, vec!["mean", "inf"], true, "infinite mean"),
        (Init::Uniform { a: f32::NAN, b: 1.0 }, 2, 2, vec!["a", "NaN"], true, "NaN bound (a > b alone would miss it)"),
        (Init::KaimingNormal { gain: f32::NAN }, 2, 2, vec!["gain", "NaN"], true, "NaN gain"),
        (Init::XavierNormal { gain: -1.0 }, 2, 2, vec!["gain", "-1"], true, "negative gain"),
        (Init::Default, usize::MAX, 2, vec!["too large"], false, "weight count overflows (a bias has no product)"),
    ];
    for (init, fan_in, fan_out, words, bias_too, reason) in rows {
        let err = init.weight(fan_in, fan_out, &mut rng).expect_err(reason).to_string();
        for w in &words {
            assert!(err.contains(w), "{reason}: weight error {err:?} should mention {w:?}");
        }
        if bias_too {
            let err = init.bias(fan_in, fan_out, &mut rng).expect_err(reason).to_string();
            for w in &words {
                assert!(err.contains(w), "{reason}: bias error {err:?} should mention {w:?}");
            }
        }
    }
}

#[test]
fn gains_match_pytorch() {
    // >>> from torch.nn.init import calculate_gain    (torch 2.x; tools/gen_init_notes.py)
    // >>> calculate_gain('tanh')              1.6666666666666667
    // >>> calculate_gain('relu')              1.4142135623730951
    // >>> calculate_gain('leaky_relu')        1.4141428569978354
    // >>> calculate_gain('leaky_relu', 0.2)   1.3867504905630728
    // >>> calculate_gain('leaky_relu', math.sqrt(5))  0.5773502691896257
    // >>> calculate_gain('selu')              0.75
    // (nonlinearity, param, gain, reason)
    #[rustfmt::skip]
    let rows = [
        ("linear", None, 1.0, "identity"),
        ("conv2d", None, 1.0, "convolutions are linear"),
        ("sigmoid", None, 1.0, "PyTorch uses 1 for sigmoid"),
        ("tanh", None, 1.666_666_7, "5/3"),
        ("relu", None, SQRT_2 as f32, "He: sqrt(2)"),
        ("relu", Some(3.0), SQRT_2 as f32, "param ignored, as in PyTorch"),
        ("leaky_relu", None, 1.414_142_9, "default slope 0.01"),
        ("leaky_relu", Some(0.2), 1.386_750_5, "sqrt(2/(1+0.04))"),
        ("leaky_relu", Some(5f32.sqrt()), 0.577_350_3, "a=sqrt(5): nn.Linear's weight gain 1/sqrt(3)"),
        ("leaky_relu", Some(0.0), SQRT_2 as f32, "slope 0 is ReLU"),
        ("selu", None, 0.75, "3/4"),
    ];
    for (name, param, gain, reason) in rows {
        let g = calculate_gain(name, param).unwrap();
        assert!((g - gain).abs() < 1e-6, "{reason}: calculate_gain({name}, {param:?}) = {g}, expected {gain}");
    }
    // (nonlinearity, param, word, reason)
    #[rustfmt::skip]
    let refusals = [
        ("gelu", None, "'gelu'", "not in PyTorch's table"),
        ("ReLU", None, "'ReLU'", "names are lower-case, as in PyTorch"),
        ("leaky_relu", Some(f32::NAN), "NaN", "slope must be a number"),
    ];
    for (name, param, word, reason) in refusals {
        let err = calculate_gain(name, param).expect_err(reason).to_string();
        assert!(err.contains(word), "{reason}: {err:?} should mention {word:?}");
    }
}

#[test]
fn default_is_kaiming_uniform_with_pytorch_linear_gain() {
    // nn.Linear: kaiming_uniform_(w, a=sqrt(5)) == U(±1/sqrt(fan_in)); same draws, same values.
    let gain = calculate_gain("leaky_relu", Some(5f32.sqrt())).unwrap();
    let a = initialize(&Init::Default, 50, 40, 9).unwrap();
    let b = initialize(&Init::KaimingUniform { gain }, 50, 40, 9).unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-6, "{x} vs {y}");
    }
}

#[test]
fn weights_file_round_trip_and_layout() {
    assert_eq!(WeightsFile::expected_len(&[784, 128, 10]), 784 * 128 + 128 + 128 * 10 + 10);
    assert_eq!(WeightsFile::expected_len(&[2, 3]), 9);
    let parameters: Vec<f32> = (0..WeightsFile::expected_len(&[3, 2, 1])).map(|i| i as f32 * 0.1 - 0.3).collect();
    let file = WeightsFile { sizes: vec![3, 2, 1], parameters };
    let json = file.to_json();
    let back = WeightsFile::parse(&json).unwrap();
    assert_eq!(back.sizes, file.sizes);
    let bits = |w: &[f32]| w.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back.parameters), bits(&file.parameters), "f32 must survive JSON exactly");
    // Layer by layer: weight (out, in) then bias (out).
    let layers = back.layers();
    assert_eq!(layers.len(), 2);
    assert_eq!((layers[0].0.len(), layers[0].1.len(), layers[1].0.len(), layers[1].1.len()), (6, 2, 2, 1));
    assert_eq!(layers[0].1, &back.parameters[6..8]);
}

#[test]
fn weights_file_refusals() {
    // (json, words, reason)
    #[rustfmt::skip]
    let rows = [
        (r#"{"sizes":[2,3],"parameters":[1,2,3]}"#, vec!["expected 9", "got 3", "3×2+3"], "too few parameters"),
        (r#"{"sizes":[784,128,10],"parameters":[]}"#, vec!["expected 101770", "got 0"], "MNIST sizes, empty list"),
        (r#"{"sizes":[2],"parameters":[]}"#, vec!["at least 2"], "one size is not a network"),
        (r#"{"sizes":[2,0,1],"parameters":[]}"#, vec!["size 1 is 0"], "empty layer"),
        (r#"{"sizes":[1,1],"parameters":[1e300,0]}"#, vec!["parameter 0", "inf"], "overflows f32"),
        (r#"{"sizes":[1,1]}"#, vec!["parameters"], "missing field"),
        (r#"{"sizes":[1,1],"params":[1,1]}"#, vec!["params"], "typo in a field"),
        (r#"{"sizes":[-1,1],"parameters":[]}"#, vec!["Invalid weights file"], "negative size"),
        ("not json", vec!["Invalid weights file"], "not JSON"),
    ];
    for (json, words, reason) in rows {
        let err = WeightsFile::parse(json).expect_err(reason).to_string();
        for w in words {
            assert!(err.contains(w), "{reason}: error {err:?} should mention {w:?}");
        }
    }
}
