//! Gzip bombs (issue #17): a small file that inflates to far more than its IDX header
//! declares is refused after inflating no more than the header's size, and without
//! allocating the rest. The allocator of this test binary counts the bytes live at any
//! moment, so "without allocating" is measured, not assumed: with the cap removed (inflate
//! everything, then check) the peak is the whole 300 MB and these tests fail.
//!
//! The bombs are built by streaming zeros through a `GzEncoder` (300 MB of zeros compress to
//! about 291 KB, the file of the issue). One test only, so that no other test's allocations
//! run at the same time and are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Instant;

use descent::data::mnist::{parse_images, parse_labels};
use descent::data::Mnist;
use flate2::{write::GzEncoder, Compression};

/// The system allocator, counting the bytes live now and the most live since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, SeqCst) + bytes;
    PEAK.fetch_max(live, SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), SeqCst);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            LIVE.fetch_sub(layout.size(), SeqCst);
            grew(new_size);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`; returns what it returned, the most bytes it had allocated at once, and the time.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize, f64) {
    let before = LIVE.load(SeqCst);
    PEAK.store(before, SeqCst);
    let t = Instant::now();
    let out = f();
    (out, PEAK.load(SeqCst) - before, t.elapsed().as_secs_f64())
}

/// `header` followed by `zeros` zero bytes, gzipped as a stream (never all in memory).
fn bomb(header: &[u32], zeros: usize) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    for w in header {
        e.write_all(&w.to_be_bytes()).unwrap();
    }
    let chunk = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(chunk.len());
        e.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    e.finish().unwrap()
}

const MB: usize = 1 << 20;

/// A parse to run, giving its error message (`None` if it accepted).
type Refusal<'a> = Box<dyn Fn() -> Option<String> + 'a>;

#[test]
fn gzip_bombs_are_refused_without_inflating_or_allocating_them() {
    let images = bomb(&[0x0803, 100, 28, 28], 300_000_000);
    let labels = bomb(&[0x0801, 100], 300_000_000);
    let declared_only = bomb(&[0x0803, 4096, 256, 256], 0);
    assert!(images.len() < 400_000, "the bomb is {} bytes", images.len());
    // (what, the parse, the words of its refusal, the most it may allocate at once)
    #[rustfmt::skip]
    let rows: Vec<(&str, Refusal, &str, usize)> = vec![
        ("100 images, then 300 MB of zeros", Box::new(|| parse_images(&images).err().map(|e| e.0)),
            "holds more than the 78416 bytes its header promises (100 images of 28×28)", 4 * MB),
        ("100 labels, then 300 MB of zeros", Box::new(|| parse_labels(&labels).err().map(|e| e.0)),
            "holds more than the 108 bytes its header promises (100 labels)", 4 * MB),
        ("the pair", Box::new(|| Mnist::parse(&images, &labels).err().map(|e| e.0)), "holds more than the 78416 bytes", 4 * MB),
        // The most a header may declare (2^28 pixels, 1 GiB as f32) in a gzip file of a few dozen bytes:
        // the buffer is not reserved up front from the header's word alone.
        ("2^28 pixels declared, none given (gzip)", Box::new(|| parse_images(&declared_only).err().map(|e| e.0)),
            "(268435472 bytes) but the gzip data inflates to only 16 bytes", MB),
        ("2^28 pixels declared, none given (raw)",
            Box::new(|| parse_images(&[0x0803u32, 4096, 256, 256].map(u32::to_be_bytes).concat()).err().map(|e| e.0)),
            "(268435472 bytes) but the file has 16 bytes", MB),
    ];
    for (what, parse, expected, limit) in rows {
        let (err, peak, seconds) = measured(parse);
        let err = err.unwrap_or_else(|| panic!("{what}: accepted"));
        assert!(err.contains(expected), "{what}: {err}");
        assert!(peak < limit, "{what}: allocated {peak} bytes at once (at most {limit} expected)");
        println!("{what}: refused in {seconds:.3} s, {} KB allocated at most: {err}", peak / 1024);
    }
}
