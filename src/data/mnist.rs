//! MNIST in the IDX format (LeCun, Cortes & Burges).
//!
//! An IDX file is a big-endian header followed by raw bytes:
//!
//! ```text
//! images: u32 magic = 0x0000_0803, u32 count, u32 rows, u32 cols, count·rows·cols bytes
//! labels: u32 magic = 0x0000_0801, u32 count,                      count bytes
//! ```
//!
//! The third magic byte is the element type (0x08 = unsigned byte) and the fourth the number
//! of dimensions. Files may be gzip-compressed (they start with 0x1f 0x8b); we detect that.
//! Pixels are scaled to [0, 1] (byte / 255), as `torchvision.transforms.ToTensor` does.
//!
//! ## Reading a file we cannot trust
//!
//! The bytes come from a student's disk, so every size in them is checked before it is used,
//! and nothing is inflated or allocated beyond what the header declares (a 291 KB gzip file
//! can inflate to 300 MB, a 2 MB one to 2.2 GB):
//!
//! 1. The bytes become a stream: a gzip decoder when they start with 0x1f 0x8b, the bytes
//!    themselves otherwise. Every check below is the same for both.
//! 2. Only the header is read (16 bytes for images, 8 for labels: a gzip file inflates just
//!    that much). The magic is checked, then the sizes, in `u64` with `checked_mul`, so
//!    that nothing wraps on wasm32 where `usize` has 32 bits: at most [`MAX_ITEMS`] (2^24)
//!    items, at most [`MAX_IMAGE_PIXELS`] (256×256) pixels an image, and at most
//!    [`MAX_PIXELS`] (2^28) pixels in all, which is already 1 GiB once scaled to `f32`
//!    (MNIST's 60,000 training digits are 47 M pixels).
//! 3. The header now says exactly how long the file is: `16 + count·rows·cols` bytes, or
//!    `8 + count`. A raw file shorter than that is refused before anything is allocated. The
//!    body is read in chunks that never ask for more than the declared bytes, so a gzip bomb
//!    inflates no further than the header says the file goes, into a buffer reserved with
//!    `try_reserve` (a failed allocation is an error, not an abort). Fewer bytes than
//!    declared: "truncated file", with both numbers.
//! 4. Then one more byte is asked for. Trailing data is refused (a header whose count is too
//!    small describes another file than the one given), and asking is what brings a gzip
//!    decoder to the end of its stream, where it checks the CRC-32 and length of the footer.
//!    Only the first gzip member is read, as `gzip -d` of a single file would write it;
//!    bytes after that member are not looked at.

use crate::{bail, ensure, Error, Result};
use flate2::read::GzDecoder;
use std::io::{ErrorKind, Read};

/// Images as (count × rows·cols) floats in [0, 1], row-major, and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist {
    pub images: Vec<f32>,
    pub labels: Vec<u8>,
    pub rows: usize,
    pub cols: usize,
}

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
/// A guard against absurd headers: the most items (images or labels) a file may declare.
pub const MAX_ITEMS: u64 = 1 << 24;
/// The most pixels one image may have (256×256; MNIST's have 28×28 = 784).
pub const MAX_IMAGE_PIXELS: u64 = 1 << 16;
/// The most pixels an images file may declare in all: 2^28 bytes, 1 GiB once scaled to `f32`.
pub const MAX_PIXELS: u64 = 1 << 28;
/// Deflate's largest compression ratio, about 1032:1 (a 258-byte match in a couple of bits).
/// Only a first guess at how much a gzip file can hold, so that a small file declaring a big
/// body does not reserve it up front; the buffer still grows if a stream ever does better.
const DEFLATE_MAX_RATIO: usize = 1032;
/// How many bytes are read (inflated) at a time.
const CHUNK: usize = 1 << 16;

/// An IDX file being read: its bytes as a stream (inflated on the fly when they are gzip),
/// and how many bytes the stream has given so far.
struct IdxReader<'a> {
    what: &'static str,
    stream: Box<dyn Read + 'a>,
    gzip: bool,
    /// The length of the bytes given (compressed, for gzip).
    input_len: usize,
    /// Bytes the stream has given (inflated bytes, for gzip).
    read: u64,
    /// What the header has promised, for the messages (empty until the header is read).
    promised: String,
}

impl<'a> IdxReader<'a> {
    fn open(bytes: &'a [u8], what: &'static str) -> Self {
        let gzip = bytes.starts_with(&[0x1f, 0x8b]);
        let stream: Box<dyn Read + 'a> = if gzip { Box::new(GzDecoder::new(bytes)) } else { Box::new(bytes) };
        IdxReader { what, stream, gzip, input_len: bytes.len(), read: 0, promised: String::new() }
    }

    /// Fills as much of `buf` as the stream still holds; returns how many bytes that was.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.stream.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // A slice never fails to read; only the decoder does.
                Err(e) => {
                    bail!("{}: the gzip data is corrupt or cut short after {} inflated bytes{}: {e}", self.what, self.read + n as u64, self.promised)
                }
            }
        }
        self.read += n as u64;
        Ok(n)
    }

    /// The header's `N` big-endian words, the first of which must be `magic`.
    fn header<const N: usize>(&mut self, magic: u32) -> Result<[u32; N]> {
        let mut buf = [0u8; 16];
        let buf = &mut buf[..4 * N];
        let found = self.fill(buf)?;
        let word = |i: usize| u32::from_be_bytes([buf[4 * i], buf[4 * i + 1], buf[4 * i + 2], buf[4 * i + 3]]);
        if found >= 4 {
            check_magic(word(0), magic, self.what)?;
        }
        ensure!(found == 4 * N, "{}: truncated header ({found} bytes; an IDX header of this kind needs {})", self.what, 4 * N);
        Ok(std::array::from_fn(word))
    }

    /// The `len` bytes of the body (the header has promised `promise`), each through
    /// `convert`; then checks that nothing follows them. Never asks the stream for more than
    /// `len + 1` bytes, so a gzip bomb stops inflating where the header says the file ends.
    fn body<T>(&mut self, len: usize, promise: &str, convert: impl Fn(u8) -> T) -> Result<Vec<T>> {
        let what = self.what;
        let total = self.read + len as u64;
        self.promised = format!(" of the {total} bytes its header promises ({promise})");
        if !self.gzip {
            // A raw file's length is known: refuse a short one before allocating anything.
            let found = self.input_len;
            ensure!(found as u64 >= total, "{what}: truncated file: header promises {promise} ({total} bytes) but the file has {found} bytes");
        }
        let guess = if self.gzip { len.min(self.input_len.saturating_mul(DEFLATE_MAX_RATIO)) } else { len };
        let no_memory = |n: usize| Error::new(format!("{what}: not enough memory for {promise} ({n} more values)"));
        let mut out = Vec::new();
        out.try_reserve_exact(guess).map_err(|_| no_memory(guess))?;
        let mut chunk = vec![0u8; CHUNK.min(len).max(1)];
        while out.len() < len {
            let want = (len - out.len()).min(CHUNK);
            let n = self.fill(&mut chunk[..want])?;
            out.try_reserve(n).map_err(|_| no_memory(n))?;
            out.extend(chunk[..n].iter().map(|&b| convert(b)));
            if n < want {
                break; // the stream has ended
            }
        }
        let found = self.read;
        ensure!(found == total, "{what}: truncated file: header promises {promise} ({total} bytes) but the gzip data inflates to only {found} bytes");
        // One more byte: there must be none (and for gzip, this reads and checks the footer).
        ensure!(
            self.fill(&mut [0u8; 1])? == 0,
            "{what}: the file holds more than the {total} bytes its header promises ({promise}); is the count in its header right?"
        );
        Ok(out)
    }
}

/// A size that has passed the caps above as a `usize`: it fits even where `usize` has 32 bits.
fn to_usize(v: u64, what: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::new(format!("{what}: {v} does not fit in this machine's memory")))
}

fn check_magic(found: u32, expected: u32, what: &str) -> Result<()> {
    ensure!(
        found == expected,
        "{what}: bad magic number 0x{found:08x} (expected 0x{expected:08x}); is this an IDX {} file?",
        if expected == IMAGES_MAGIC { "images (idx3-ubyte)" } else { "labels (idx1-ubyte)" }
    );
    Ok(())
}

/// The pixel bytes an images header declares, `count·rows·cols`, refused past the caps.
fn image_pixels(count: u32, rows: u32, cols: u32, what: &str) -> Result<usize> {
    ensure!(rows > 0 && cols > 0, "{what}: image size {rows}×{cols} is empty");
    ensure!(u64::from(count) <= MAX_ITEMS, "{what}: header claims {count} images, more than the {MAX_ITEMS} a file may hold, which is not plausible");
    let per_image = u64::from(rows) * u64::from(cols); // two u32s: below 2^64
    ensure!(
        per_image <= MAX_IMAGE_PIXELS,
        "{what}: header claims images of {rows}×{cols} = {per_image} pixels, more than the {MAX_IMAGE_PIXELS} (256×256) an image may have"
    );
    match u64::from(count).checked_mul(per_image) {
        Some(total) if total <= MAX_PIXELS => to_usize(total, what),
        total => bail!(
            "{what}: header claims {count} images of {rows}×{cols} = {} pixels, more than the {MAX_PIXELS} (2^28) a file may hold",
            total.map_or("over 2^64".to_string(), |t| t.to_string())
        ),
    }
}

/// Parse an IDX images file (gzip or raw). Returns (pixels in [0,1], count, rows, cols).
pub fn parse_images(bytes: &[u8]) -> Result<(Vec<f32>, usize, usize, usize)> {
    let what = "MNIST images";
    let mut file = IdxReader::open(bytes, what);
    let [_, count, rows, cols] = file.header::<4>(IMAGES_MAGIC)?;
    let pixels = image_pixels(count, rows, cols, what)?;
    let images = file.body(pixels, &format!("{count} images of {rows}×{cols}"), |b| f32::from(b) / 255.0)?;
    let [count, rows, cols] = [count, rows, cols].map(u64::from);
    Ok((images, to_usize(count, what)?, to_usize(rows, what)?, to_usize(cols, what)?))
}

/// Parse an IDX labels file (gzip or raw).
pub fn parse_labels(bytes: &[u8]) -> Result<Vec<u8>> {
    let what = "MNIST labels";
    let mut file = IdxReader::open(bytes, what);
    let [_, count] = file.header::<2>(LABELS_MAGIC)?;
    ensure!(u64::from(count) <= MAX_ITEMS, "{what}: header claims {count} labels, more than the {MAX_ITEMS} a file may hold, which is not plausible");
    let labels = file.body(to_usize(count.into(), what)?, &format!("{count} labels"), |b| b)?;
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l > 9) {
        bail!("{what}: label {l} at index {i} is not a digit 0–9");
    }
    Ok(labels)
}

impl Mnist {
    /// Parse a pair of IDX files. The two must describe the same number of digits.
    pub fn parse(images: &[u8], labels: &[u8]) -> Result<Mnist> {
        let (images, n_images, rows, cols) = parse_images(images)?;
        let labels = parse_labels(labels)?;
        ensure!(
            n_images == labels.len(),
            "MNIST: the images file holds {n_images} digits but the labels file {} labels; they must match",
            labels.len()
        );
        ensure!(n_images > 0, "MNIST: the files hold no digits");
        Ok(Mnist { images, labels, rows, cols })
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no digits.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image (784 for MNIST).
    pub fn features(&self) -> usize {
        self.rows * self.cols
    }

    /// The pixels of digit `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let f = self.features();
        &self.images[i * f..(i + 1) * f]
    }

    /// Serialize back to (images, labels) raw IDX bytes. Used by tests and tools.
    pub fn to_idx(&self) -> (Vec<u8>, Vec<u8>) {
        let mut img = Vec::with_capacity(16 + self.images.len());
        for v in [IMAGES_MAGIC, self.len() as u32, self.rows as u32, self.cols as u32] {
            img.extend_from_slice(&v.to_be_bytes());
        }
        img.extend(self.images.iter().map(|&p| (p * 255.0).round().clamp(0.0, 255.0) as u8));
        let mut lab = Vec::with_capacity(8 + self.len());
        lab.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
        lab.extend_from_slice(&(self.len() as u32).to_be_bytes());
        lab.extend_from_slice(&self.labels);
        (img, lab)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Mnist {
        Mnist { images: (0..2 * 4).map(|i| (i * 30) as f32 / 255.0).collect(), labels: vec![3, 7], rows: 2, cols: 2 }
    }

    #[test]
    fn raw_round_trip() {
        let m = tiny();
        let (img, lab) = m.to_idx();
        assert_eq!(Mnist::parse(&img, &lab).unwrap(), m);
    }

    #[test]
    fn gzip_round_trip() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let m = tiny();
        let (img, lab) = m.to_idx();
        let gz = |b: &[u8]| {
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(b).unwrap();
            e.finish().unwrap()
        };
        assert_eq!(Mnist::parse(&gz(&img), &gz(&lab)).unwrap(), m);
    }

    /// Each corruption, and the words the student should see.
    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let (img, lab) = tiny().to_idx();
        let mut swapped = img.clone();
        swapped[3] = 0x01; // labels magic in an images file
        let mut big_count = img.clone();
        big_count[4..8].copy_from_slice(&5u32.to_be_bytes());
        let mut bad_label = lab.clone();
        bad_label[8] = 12;
        let (more_img, _) = Mnist { images: vec![0.0; 12], labels: vec![0, 1, 2], rows: 2, cols: 2 }.to_idx();
        let mut trailing = img.clone();
        trailing.push(0);
        let header = |count: u32, rows: u32, cols: u32| [IMAGES_MAGIC, count, rows, cols].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
        let cases: Vec<(&str, Vec<u8>, Vec<u8>, &str)> = vec![
            ("images magic wrong", swapped, lab.clone(), "bad magic number"),
            ("labels given as images", lab.clone(), lab.clone(), "bad magic number"),
            ("header cut short", img[..10].to_vec(), lab.clone(), "truncated header"),
            ("pixels cut short", img[..img.len() - 1].to_vec(), lab.clone(), "truncated file"),
            ("count larger than data", big_count, lab.clone(), "truncated file"),
            ("labels cut short", img.clone(), lab[..9].to_vec(), "truncated file"),
            ("label not a digit", img.clone(), bad_label, "not a digit"),
            ("counts disagree", more_img, lab.clone(), "must match"),
            ("corrupt gzip", vec![0x1f, 0x8b, 8, 0, 1, 2, 3], lab.clone(), "gzip data is corrupt"),
            ("empty file", vec![], lab.clone(), "truncated header"),
            ("a byte after the pixels", trailing, lab.clone(), "holds more than the 24 bytes its header promises"),
            ("4 bytes short, named", img[..img.len() - 4].to_vec(), lab.clone(), "(24 bytes) but the file has 20 bytes"),
            // 2^32 pixels: wraps to 0 in a 32-bit usize (wasm32) if multiplied unchecked
            ("65,536 images of 256×256 in 16 bytes", header(65_536, 256, 256), lab.clone(), "= 4294967296 pixels, more than the 268435456"),
            ("an image of 257×256", header(1, 257, 256), lab.clone(), "257×256 = 65792 pixels"),
            ("2^24 + 1 images", header((1 << 24) + 1, 1, 1), lab.clone(), "16777217 images"),
            ("u32::MAX everywhere", header(u32::MAX, u32::MAX, u32::MAX), lab.clone(), "4294967295 images"),
            ("0 columns", header(1, 1, 0), lab.clone(), "1×0 is empty"),
        ];
        for (reason, i, l, expected) in cases {
            let err = Mnist::parse(&i, &l).expect_err(reason);
            assert!(err.message().contains(expected), "{reason}: got {err}");
        }
    }
}
