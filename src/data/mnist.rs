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

use crate::{bail, ensure, Result};
use flate2::read::GzDecoder;
use std::io::Read;

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
/// A guard against absurd headers (a corrupt count would otherwise ask for gigabytes).
const MAX_ITEMS: usize = 1 << 24;

/// Undo gzip if the bytes are gzip; otherwise return them as they are.
pub fn maybe_gunzip(bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::new();
        if let Err(e) = GzDecoder::new(bytes).read_to_end(&mut out) {
            bail!("{what}: the gzip data is corrupt ({e})");
        }
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

fn be_u32(bytes: &[u8], at: usize, what: &str) -> Result<u32> {
    match bytes.get(at..at + 4) {
        Some(b) => Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        None => bail!("{what}: truncated header ({} bytes; an IDX header needs more)", bytes.len()),
    }
}

fn check_magic(found: u32, expected: u32, what: &str) -> Result<()> {
    ensure!(
        found == expected,
        "{what}: bad magic number 0x{found:08x} (expected 0x{expected:08x}); is this an IDX {} file?",
        if expected == IMAGES_MAGIC { "images (idx3-ubyte)" } else { "labels (idx1-ubyte)" }
    );
    Ok(())
}

/// Parse an IDX images file (gzip or raw). Returns (pixels in [0,1], count, rows, cols).
pub fn parse_images(bytes: &[u8]) -> Result<(Vec<f32>, usize, usize, usize)> {
    let what = "MNIST images";
    let raw = maybe_gunzip(bytes, what)?;
    check_magic(be_u32(&raw, 0, what)?, IMAGES_MAGIC, what)?;
    let count = be_u32(&raw, 4, what)? as usize;
    let rows = be_u32(&raw, 8, what)? as usize;
    let cols = be_u32(&raw, 12, what)? as usize;
    ensure!(rows > 0 && cols > 0, "{what}: image size {rows}×{cols} is empty");
    ensure!(count <= MAX_ITEMS && rows * cols <= 1 << 16, "{what}: header claims {count} images of {rows}×{cols}, which is not plausible");
    let need = 16 + count * rows * cols;
    ensure!(
        raw.len() >= need,
        "{what}: truncated file: header promises {count} images of {rows}×{cols} ({need} bytes) but the file has {} bytes",
        raw.len()
    );
    let pixels = raw[16..need].iter().map(|&b| b as f32 / 255.0).collect();
    Ok((pixels, count, rows, cols))
}

/// Parse an IDX labels file (gzip or raw).
pub fn parse_labels(bytes: &[u8]) -> Result<Vec<u8>> {
    let what = "MNIST labels";
    let raw = maybe_gunzip(bytes, what)?;
    check_magic(be_u32(&raw, 0, what)?, LABELS_MAGIC, what)?;
    let count = be_u32(&raw, 4, what)? as usize;
    ensure!(count <= MAX_ITEMS, "{what}: header claims {count} labels, which is not plausible");
    ensure!(raw.len() >= 8 + count, "{what}: truncated file: header promises {count} labels but only {} are present", raw.len().saturating_sub(8));
    let labels = raw[8..8 + count].to_vec();
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
        ];
        for (reason, i, l, expected) in cases {
            let err = Mnist::parse(&i, &l).expect_err(reason);
            assert!(err.message().contains(expected), "{reason}: got {err}");
        }
    }
}
