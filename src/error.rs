//! One error type for the whole core. Messages are written for a student: they name the
//! offending value and, where there is one, the fix. `src/web/` turns them into JS `Error`s.

use std::fmt;

/// An error with a message meant to be shown to a person.
#[derive(Clone, Debug, PartialEq)]
pub struct Error(pub String);

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Return early with a formatted [`Error`].
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => { return Err($crate::Error::new(format!($($arg)*))) };
}

/// Return early with a formatted [`Error`] unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !($cond) {
            $crate::bail!($($arg)*);
        }
    };
}

/// Every value of `values` is a finite number; else an error naming the first that is not
/// (NaN or ±Infinity in an input would otherwise come out as quietly wrong numbers).
pub fn finite(values: &[f32], what: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::new(format!("{what}[{i}] is {}: every value must be a finite number", values[i]))),
    }
}

/// A number from JavaScript as a count (a batch size, a fan): a whole number from 0 to
/// 2^32 − 1, so that -1 is refused by name instead of wrapping to 4294967295.
pub fn count(v: f64, what: &str) -> Result<usize> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f64 {
        Ok(v as usize)
    } else {
        Err(Error::new(format!("invalid {what}: {v} (use a whole number ≥ 0)")))
    }
}

/// A number from JavaScript as a seed: a whole number from 0 to 2^53 (the integers a JS
/// number holds exactly).
pub fn seed(v: f64) -> Result<u64> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_992.0 {
        Ok(v as u64)
    } else {
        Err(Error::new(format!("invalid seed: {v} (use a whole number from 0 to 2^53)")))
    }
}

#[cfg(test)]
mod finite_tests {
    #[test]
    fn the_first_bad_value_is_named() {
        assert!(super::finite(&[0.0, 1.5, -2.0], "x").is_ok());
        let e = super::finite(&[0.0, f32::NAN, f32::INFINITY], "x").unwrap_err();
        assert_eq!(e.message(), "x[1] is NaN: every value must be a finite number");
        let e = super::finite(&[0.0, 1.0, f32::NEG_INFINITY], "grads").unwrap_err();
        assert_eq!(e.message(), "grads[2] is -inf: every value must be a finite number");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_from_js_are_checked_by_name() {
        // (value, accepted as a count, reason)
        let rows = [
            (0.0, true, "zero"),
            (3.0, true, "whole"),
            (-1.0, false, "negative"),
            (1.5, false, "fractional"),
            (f64::NAN, false, "NaN"),
            (4294967296.0, false, "past 2^32 − 1"),
        ];
        for (v, ok, reason) in rows {
            assert_eq!(super::count(v, "batch size").is_ok(), ok, "{reason}");
        }
        assert_eq!(super::count(-1.0, "batch size").unwrap_err().message(), "invalid batch size: -1 (use a whole number ≥ 0)");
        assert_eq!(super::seed(9_007_199_254_740_992.0), Ok(1 << 53));
        assert!(super::seed(-2.0).unwrap_err().message().contains("invalid seed: -2"));
    }
}
