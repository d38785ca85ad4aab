//! The one source of randomness in Descent.
//!
//! Every experiment takes a `u64` seed. From it we derive independent *streams* by name
//! (`"init"`, `"shuffle"`, `"noise"`, …), so that, for example, changing the batch size never
//! changes the initial weights: each stream is a ChaCha8 generator keyed by
//! `splitmix64(seed ^ fnv1a(name))`. ChaCha8 gives the same sequence on every platform
//! (native, wasm32), which is what makes a run replay exactly after a reload or in Node.
//!
//! Dropout is the one exception: its masks are a counter-based hash of the same seed
//! ([`dropout_key`], [`uniform01`] below, used by `nn::dropout`), because the GPU
//! (`gpu/rng.wgsl`, the same functions in WGSL) must draw the very same masks without a
//! generator's state. They replay from the seed just as well.
//!
//! We do not try to reproduce PyTorch's Mersenne-Twister/Philox streams: reference tests
//! feed both sides the same explicit numbers instead.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// A seeded, portable random generator.
#[derive(Clone, Debug)]
pub struct Rng {
    inner: ChaCha8Rng,
}

/// SplitMix64 finalizer: spreads nearby seeds (0, 1, 2, …) over the whole key space.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over the stream name, so streams are keyed by readable labels.
fn fnv1a(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

impl Rng {
    /// A generator for `seed` (the "root" stream).
    pub fn new(seed: u64) -> Self {
        Self::stream(seed, "root")
    }

    /// The independent stream `name` of `seed`.
    pub fn stream(seed: u64, name: &str) -> Self {
        Rng { inner: ChaCha8Rng::seed_from_u64(splitmix64(seed ^ fnv1a(name))) }
    }

    /// A fresh seed from the operating system (or `crypto.getRandomValues` in the browser),
    /// for the "new seed" button. Falls back to 0 if no entropy source answers.
    pub fn entropy_seed() -> u64 {
        let mut buf = [0u8; 8];
        match getrandom::fill(&mut buf) {
            // Keep seeds within 2^53 so they survive a round trip through a JS number / URL.
            Ok(()) => u64::from_le_bytes(buf) & ((1u64 << 53) - 1),
            Err(_) => 0,
        }
    }

    /// Uniform on `[low, high)`.
    pub fn uniform(&mut self, low: f32, high: f32) -> f32 {
        let u: f32 = self.inner.random(); // [0, 1)
        let v = low + (high - low) * u;
        // Rounding can land exactly on `high`; keep the interval half-open.
        if v >= high && high > low {
            low.max(high - (high - low) * f32::EPSILON)
        } else {
            v
        }
    }

    /// Normal with the given mean and standard deviation.
    pub fn normal(&mut self, mean: f32, std: f32) -> f32 {
        let z: f64 = StandardNormal.sample(&mut self.inner);
        mean + std * z as f32
    }

    /// Bernoulli(p): true with probability `p`.
    pub fn bernoulli(&mut self, p: f32) -> bool {
        let u: f32 = self.inner.random();
        u < p
    }

    /// A uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        self.inner.random_range(0..n)
    }

    /// Fisher–Yates shuffle in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// A random permutation of `0..n`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }

    /// A raw 64-bit value (used to seed child generators, e.g. one per epoch).
    pub fn next_u64(&mut self) -> u64 {
        self.inner.random()
    }
}

/// The "lowbias32" integer hash (C. Wellons: two multiply–xorshift rounds, every input bit
/// affecting every output bit) that the counter-based draws chain over their counter words.
pub fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// The key of layer `layer` of a model seeded with `seed`: mixed once, so each draw costs
/// only two hashes.
pub fn dropout_key(seed: u64, layer: u32) -> u32 {
    mix32(mix32(mix32(seed as u32 ^ 0x9e37_79b9) ^ (seed >> 32) as u32) ^ layer)
}

/// A uniform number in [0, 1) for (key, step, index), a pure function of the three: 24 bits
/// of the hash, so the value is exact in f32 and the CPU and the GPU compare it alike.
pub fn uniform01(key: u32, step: u32, index: u32) -> f32 {
    let h = mix32(mix32(key ^ step) ^ index);
    (h >> 8) as f32 * (1.0 / 16_777_216.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::stream(7, "init");
        let mut b = Rng::stream(7, "init");
        for _ in 0..100 {
            assert_eq!(a.normal(0.0, 1.0).to_bits(), b.normal(0.0, 1.0).to_bits());
        }
    }

    #[test]
    fn streams_and_seeds_differ() {
        let x = Rng::stream(7, "init").next_u64();
        assert_ne!(x, Rng::stream(7, "shuffle").next_u64());
        assert_ne!(x, Rng::stream(8, "init").next_u64());
    }

    #[test]
    fn uniform_stays_in_range_and_permutation_is_complete() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let v = r.uniform(-0.5, 0.25);
            assert!((-0.5..0.25).contains(&v));
        }
        let mut p = r.permutation(1000);
        p.sort_unstable();
        assert_eq!(p, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn entropy_seed_fits_a_js_number() {
        assert!(Rng::entropy_seed() < (1u64 << 53));
    }
}
