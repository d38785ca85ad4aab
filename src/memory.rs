//! The page's memory budget: what every live run holds, booked when it is built and released
//! when it is dropped, so a new run can be refused with a message before it would take the tab
//! past what a browser gives one page ([`MAX_PAGE_BYTES`]).
//!
//! Each object already has its own caps (`limits`: widths, depth, parameters, epochs); this is
//! the sum over everything alive at once — every cell's experiment, every session a student
//! built in the console and did not `free()`. A wasm module's memory grows and never shrinks,
//! so its size says how much was ever taken, not what is in use now; and counting every
//! allocation (a wrapping global allocator) grew the module by a tenth. So the runs, which
//! hold nearly all of the memory, book an estimate of theirs instead.

use crate::limits::MAX_PAGE_BYTES;
use crate::{ensure, Result};
use std::sync::atomic::{AtomicUsize, Ordering};

static BOOKED: AtomicUsize = AtomicUsize::new(0);

/// Bytes booked by the runs alive now.
pub fn booked() -> usize {
    BOOKED.load(Ordering::Relaxed)
}

/// A run's share of the budget, released when it is dropped.
#[derive(Debug)]
pub struct Booking(usize);

impl Booking {
    /// Book `bytes` for `what`, or refuse when it would take the page past [`MAX_PAGE_BYTES`].
    pub fn take(bytes: usize, what: &str) -> Result<Booking> {
        let held = booked();
        let mb = |b: usize| (b as f64 / 1e6).round();
        ensure!(
            held.saturating_add(bytes) <= MAX_PAGE_BYTES,
            "{what} needs about {} MB, and the page already holds {} MB: more than the {} MB one page may use. \
             Re-run other cells with smaller settings (each replaced experiment is freed), free() what the console built, or reload",
            mb(bytes),
            mb(held),
            mb(MAX_PAGE_BYTES)
        );
        BOOKED.fetch_add(bytes, Ordering::Relaxed);
        Ok(Booking(bytes))
    }
}

impl Drop for Booking {
    fn drop(&mut self) {
        BOOKED.fetch_sub(self.0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_booking_counts_until_dropped_and_one_past_the_budget_is_refused() {
        // other tests book and release on other threads meanwhile: only a large booking is told apart
        let before = booked();
        let b = Booking::take(200_000_000, "a big run").unwrap();
        assert!(booked() >= before + 150_000_000, "booked");
        drop(b);
        assert!(booked() < before + 100_000_000, "released when dropped");
        let err = Booking::take(MAX_PAGE_BYTES + 1, "this run").unwrap_err().to_string();
        assert!(
            err.starts_with("this run needs about 1500 MB, and the page already holds ") && err.contains("more than the 1500 MB one page may use"),
            "{err}"
        );
    }
}
