//! The weights-file parser (`WeightsFile::parse`) on random JSON-ish text, mutated valid
//! files and extreme sizes; and `layers`, `expected_len`, `checked_len` on any sizes.

use descent::init::WeightsFile;
use descent::{Result, Rng};

use crate::{below_either, no_panic};

/// `WeightsFile::parse` never panics, and its `Ok` is a file every other method can use.
fn check_weights(json: &str, case: &str) -> Result<WeightsFile> {
    let got = no_panic(|| format!("{case}: WeightsFile::parse of {json:?}"), || WeightsFile::parse(json));
    if let Ok(file) = &got {
        let sizes = &file.sizes;
        assert!(sizes.len() >= 2 && sizes.iter().all(|&s| s > 0), "{case}: sizes {sizes:?} accepted");
        assert_eq!(Some(file.parameters.len()), WeightsFile::checked_len(sizes), "{case}");
        assert!(file.parameters.iter().all(|p| p.is_finite()), "{case}: a non-finite parameter accepted");
        let layers = file.layers();
        assert_eq!(layers.len(), sizes.len() - 1, "{case}");
        for (w, (weight, bias)) in sizes.windows(2).zip(&layers) {
            assert_eq!((weight.len(), bias.len()), (w[0] * w[1], w[1]), "{case}: layer {w:?}");
        }
        assert_eq!(&WeightsFile::parse(&file.to_json()).unwrap(), file, "{case}: to_json does not read back");
    }
    got
}

/// Number-like tokens a careless or hostile file may hold.
const NUMBERS: [&str; 26] = [
    "0",
    "1",
    "2",
    "3",
    "-1",
    "-0",
    "0.5",
    "1.5e3",
    "1e2",
    "784",
    "65536",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "1e39",
    "-1e39",
    "3.4028235e38",
    "1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    "null",
    "true",
    "\"7\"",
    "1e-50",
];

#[test]
fn random_json_is_parsed_or_refused_never_a_panic() {
    let mut rng = Rng::new(5);
    let tokens = ["{", "}", "[", "]", ":", ",", "\"sizes\"", "\"parameters\"", "\"extra\"", " "];
    let mut accepted = 0;
    for case in 0..5000 {
        let mut json = String::new();
        if rng.below(2) == 0 {
            // Structured: the right keys, mostly small sizes and, mostly, as many parameters
            // as they need, each token now and then a hostile one, so that some files are valid.
            let sizes: Vec<&str> = (0..rng.below(5)).map(|_| NUMBERS[below_either(&mut rng, 4, NUMBERS.len(), 4)]).collect();
            let need = sizes.iter().map(|s| s.parse().ok()).collect::<Option<Vec<usize>>>().and_then(|v| WeightsFile::checked_len(&v));
            let p = match need {
                Some(n) if n <= 64 && rng.below(4) != 0 => n,
                _ => rng.below(12),
            };
            let parameters: Vec<&str> = (0..p).map(|_| NUMBERS[below_either(&mut rng, 4, NUMBERS.len(), 16)]).collect();
            json = format!("{{\"sizes\":[{}],\"parameters\":[{}]}}", sizes.join(","), parameters.join(","));
        } else {
            for _ in 0..rng.below(30) {
                json.push_str(if rng.below(3) == 0 { NUMBERS[rng.below(NUMBERS.len())] } else { tokens[rng.below(tokens.len())] });
            }
        }
        accepted += check_weights(&json, &format!("json case {case}")).is_ok() as usize;
    }
    assert!(accepted > 10, "only {accepted} random files accepted: the generator misses the valid ones");
}

#[test]
fn mutated_weights_files_are_parsed_or_refused_never_a_panic() {
    let mut rng = Rng::new(6);
    let parameters = (0..WeightsFile::expected_len(&[3, 2, 1])).map(|i| i as f32 * 0.37 - 1.0).collect();
    let valid = WeightsFile { sizes: vec![3, 2, 1], parameters }.to_json();
    check_weights(&valid, "the valid file").unwrap();
    let alphabet: Vec<char> = "0123456789-.eE,[]{}:\" naNI∞".chars().collect();
    for case in 0..4000 {
        let mut chars: Vec<char> = valid.chars().collect();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(chars.len() + 1);
            let c = alphabet[rng.below(alphabet.len())];
            match rng.below(3) {
                0 if at < chars.len() => chars[at] = c,
                1 if at < chars.len() => drop(chars.remove(at)),
                _ => chars.insert(at, c),
            }
        }
        let json: String = chars.into_iter().collect();
        check_weights(&json, &format!("mutant {case}")).ok();
    }
}

/// Sizes whose parameter count does not fit, or fits only on 64 bits: refused, by name.
#[test]
fn huge_sizes_are_refused_by_name() {
    let max = usize::MAX;
    #[rustfmt::skip]
    let rows: [(String, &str, &str); 7] = [
        // (2^32 − 1)² + (2^32 − 1) fits in 64 bits (and is wrong); on wasm32 it does not fit at all
        ("[4294967295,4294967295]".into(), if cfg!(target_pointer_width = "64") { "expected 18446744069414584320" } else { "more than" }, "u32::MAX twice"),
        (format!("[{max},{max}]"), "more than", "usize::MAX twice"),
        (format!("[{max},1]"), "more than", "usize::MAX·1 + 1"),
        (format!("[1,{max}]"), "more than", "1·usize::MAX + usize::MAX"),
        ("[4294967296,4294967296]".into(), if cfg!(target_pointer_width = "64") { "more than" } else { "invalid value" }, "2^32 twice"),
        (format!("[2,{},2]", max / 3), "more than", "two layers that overflow only summed"),
        ("[-1,2]".into(), "invalid value", "a negative size"),
    ];
    for (sizes, expected, reason) in rows {
        let err = check_weights(&format!("{{\"sizes\":{sizes},\"parameters\":[]}}"), reason).expect_err(reason);
        assert!(err.message().contains(expected), "{reason}: {err}");
    }
    assert!(WeightsFile::parse(r#"{"sizes":[1,1],"parameters":[1e39,0]}"#).unwrap_err().message().contains("inf"));
    assert!(WeightsFile::parse(r#"{"sizes":[1,1],"parameters":[NaN,0]}"#).is_err());
}

/// `layers`, `expected_len` and `checked_len` take any sizes (the fields are public): no
/// panic, and `checked_len` agrees with u128 arithmetic.
#[test]
fn any_sizes_give_a_count_and_layers_without_a_panic() {
    let mut rng = Rng::new(7);
    let extremes = [0, 1, 2, 3, 10, 1 << 16, u32::MAX as usize, 1 << 32, usize::MAX / 2, usize::MAX - 1, usize::MAX];
    for case in 0..3000 {
        let sizes: Vec<usize> =
            (0..rng.below(5)).map(|_| if rng.below(2) == 0 { extremes[rng.below(extremes.len())] } else { rng.below(6) }).collect();
        // Σ out·in + out in u128 (each term < 2^128; the sum saturates, past usize::MAX anyway)
        let exact = sizes.windows(2).map(|w| w[0] as u128 * w[1] as u128 + w[1] as u128).fold(0u128, u128::saturating_add);
        let checked = no_panic(|| format!("checked_len({sizes:?})"), || WeightsFile::checked_len(&sizes));
        assert_eq!(checked.map(|n| n as u128), (exact <= usize::MAX as u128).then_some(exact), "case {case}: {sizes:?}");
        let expected = WeightsFile::expected_len(&sizes);
        assert_eq!(expected as u128, exact.min(usize::MAX as u128), "case {case}: expected_len saturates");
        let file = WeightsFile { sizes: sizes.clone(), parameters: vec![0.5; rng.below(40)] };
        let layers = no_panic(|| format!("layers of {sizes:?}"), || file.layers());
        assert_eq!(layers.len(), sizes.len().saturating_sub(1), "case {case}");
        let used: usize = layers.iter().map(|(w, b)| w.len() + b.len()).sum();
        assert!(used <= file.parameters.len(), "case {case}: layers of {sizes:?} use {used} parameters");
        if file.validate().is_ok() {
            assert_eq!(used, file.parameters.len(), "case {case}: a valid file's layers use every parameter");
        }
    }
}
