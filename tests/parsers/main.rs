//! Property tests of the parsers that read a student's files (issue #17): the IDX parser
//! (`Mnist::parse`, `parse_images`, `parse_labels`) and the weights-file parser
//! (`WeightsFile::parse`).
//!
//! For thousands of random, truncated and mutated inputs each parser returns `Ok` or an
//! `Err`, never panics, and what it returns as `Ok` is self-consistent. For raw IDX bytes
//! there is more: the result must equal an independent reading of the bytes (`oracle_*`
//! in `idx.rs`, a dozen plain lines in u128 arithmetic), so a parser that accepts what it should
//! refuse, or refuses what it should accept, fails here too. Gzip inputs must give what the
//! oracle says of their inflated bytes. Everything is seeded; a failure names its case.
//!
//! One binary, two modules: `idx` (the MNIST files) and `weights` (the weights file).
//! No proptest (it is not in the offline registry): the inputs come from `descent::Rng`.
//! The gzip-bomb tests, which count allocations, are in `tests/gzip_bomb.rs`, alone in their
//! binary so that no other test's allocations are counted.

mod idx;
mod weights;

use descent::Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a panic into a failure that names the input.
pub fn no_panic<T>(case: impl Fn() -> String, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => panic!("the parser panicked on {}", case()),
    }
}

/// A number below `small`, or once in `odds` below `large`.
pub fn below_either(rng: &mut Rng, small: usize, large: usize, odds: usize) -> usize {
    let n = if rng.below(odds) == 0 { large } else { small };
    rng.below(n)
}
