//! The IDX parser (`Mnist::parse`, `parse_images`, `parse_labels`) on random, truncated,
//! mutated and extreme inputs, against the oracle below.

use std::io::{Read, Write};

use descent::data::mnist::{parse_images, parse_labels};
use descent::data::Mnist;
use descent::{Result, Rng};

use crate::{below_either, no_panic};
use flate2::{read::GzDecoder, write::GzEncoder, Compression};

const IMAGES: u32 = 0x0000_0803;
const LABELS: u32 = 0x0000_0801;

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Inflates (uncapped: test inputs are small) the first gzip member, as the parser reads it.
fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut out).ok().map(|_| out)
}

fn header(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

fn word(b: &[u8], at: usize) -> u128 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as u128
}

/// What a raw images file holds, read independently of the parser: the caps of
/// `src/data/mnist.rs` (2^24 images, 2^16 pixels an image, 2^28 in all), exact length.
fn oracle_images(b: &[u8]) -> Option<(Vec<f32>, usize, usize, usize)> {
    if b.len() < 16 || word(b, 0) != IMAGES as u128 {
        return None;
    }
    let (n, r, c) = (word(b, 4), word(b, 8), word(b, 12));
    let fits = r > 0 && c > 0 && n <= 1 << 24 && r * c <= 1 << 16 && n * r * c <= 1 << 28;
    if !fits || b.len() as u128 != 16 + n * r * c {
        return None;
    }
    Some((b[16..].iter().map(|&x| x as f32 / 255.0).collect(), n as usize, r as usize, c as usize))
}

/// What a raw labels file holds: at most 2^24 digits 0–9, exact length.
fn oracle_labels(b: &[u8]) -> Option<Vec<u8>> {
    if b.len() < 8 || word(b, 0) != LABELS as u128 {
        return None;
    }
    let n = word(b, 4);
    (n <= 1 << 24 && b.len() as u128 == 8 + n && b[8..].iter().all(|&l| l <= 9)).then(|| b[8..].to_vec())
}

fn show(bytes: &[u8]) -> String {
    let head: Vec<String> = bytes.iter().take(48).map(|b| format!("{b:02x}")).collect();
    format!("{} bytes [{}{}]", bytes.len(), head.join(" "), if bytes.len() > 48 { " …" } else { "" })
}

/// `parse_images` never panics, its `Ok` is self-consistent, and it agrees with the oracle:
/// on the bytes themselves when raw, on their inflation when gzip.
fn check_images(bytes: &[u8], case: &str) -> Result<(Vec<f32>, usize, usize, usize)> {
    let got = no_panic(|| format!("{case}: parse_images of {}", show(bytes)), || parse_images(bytes));
    if let Ok((pixels, n, r, c)) = &got {
        assert!(*r > 0 && *c > 0, "{case}: {r}×{c} accepted");
        assert_eq!(pixels.len(), n * r * c, "{case}: {n} images of {r}×{c}");
        assert!(pixels.iter().all(|p| (0.0..=1.0).contains(p)), "{case}: a pixel outside [0, 1]");
    }
    let inflated = if bytes.starts_with(&[0x1f, 0x8b]) { gunzip(bytes) } else { Some(bytes.to_vec()) };
    let expected = inflated.as_deref().and_then(oracle_images);
    assert_eq!(got.as_ref().ok(), expected.as_ref(), "{case}: parse_images of {} gave {:?}", show(bytes), got.as_ref().err());
    got
}

/// As [`check_images`], for `parse_labels`.
fn check_labels(bytes: &[u8], case: &str) -> Result<Vec<u8>> {
    let got = no_panic(|| format!("{case}: parse_labels of {}", show(bytes)), || parse_labels(bytes));
    let inflated = if bytes.starts_with(&[0x1f, 0x8b]) { gunzip(bytes) } else { Some(bytes.to_vec()) };
    let expected = inflated.as_deref().and_then(oracle_labels);
    assert_eq!(got.as_ref().ok(), expected.as_ref(), "{case}: parse_labels of {} gave {:?}", show(bytes), got.as_ref().err());
    got
}

/// `Mnist::parse` never panics, and its `Ok` is consistent with the two files read alone.
fn check_pair(images: &[u8], labels: &[u8], case: &str) {
    let got = no_panic(|| format!("{case}: Mnist::parse of {} and {}", show(images), show(labels)), || Mnist::parse(images, labels));
    let alone = (parse_images(images), parse_labels(labels));
    match (got, alone) {
        (Ok(m), (Ok((pixels, n, r, c)), Ok(labels))) => {
            assert!(n > 0 && n == labels.len() && m.len() == n, "{case}: {n} images, {} labels", labels.len());
            assert_eq!((m.rows, m.cols, m.features()), (r, c, r * c), "{case}");
            assert_eq!((m.images, m.labels), (pixels, labels), "{case}");
        }
        (Ok(m), _) => panic!("{case}: Mnist::parse accepted {} digits that a file alone refuses", m.len()),
        (Err(_), (Ok((_, n, _, _)), Ok(labels))) => assert!(n != labels.len() || n == 0, "{case}: {n} digits refused"),
        (Err(_), _) => {}
    }
}

/// A valid images file: `n` images of `rows`×`cols` with random pixels.
fn images_file(n: u32, rows: u32, cols: u32, rng: &mut Rng) -> Vec<u8> {
    let mut b = header(&[IMAGES, n, rows, cols]);
    b.extend((0..n * rows * cols).map(|_| rng.below(256) as u8));
    b
}

/// A valid labels file of `n` random digits.
fn labels_file(n: u32, rng: &mut Rng) -> Vec<u8> {
    let mut b = header(&[LABELS, n]);
    b.extend((0..n).map(|_| rng.below(10) as u8));
    b
}

/// Random bytes, often starting like an IDX file (so that they get past the magic), often
/// exactly as long as their header says (so that some are valid), often gzipped.
fn random_file(rng: &mut Rng) -> Vec<u8> {
    let (mut b, declared) = match rng.below(4) {
        0 => (vec![], 0),
        1 => {
            let [n, r, c] = [rng.below(4), rng.below(4), rng.below(4)];
            (header(&[IMAGES, n as u32, r as u32, c as u32]), n * r * c)
        }
        2 => {
            let n = rng.below(4);
            (header(&[LABELS, n as u32]), n)
        }
        _ => (vec![0x1f, 0x8b, 8, 0], 0),
    };
    let exact = declared > 0 && rng.below(2) == 0;
    let len = if exact { declared } else { below_either(rng, 40, 400, 8) };
    b.extend((0..len).map(|_| if exact || rng.below(2) == 0 { rng.below(10) as u8 } else { rng.below(256) as u8 }));
    if rng.below(3) == 0 {
        gz(&b)
    } else {
        b
    }
}

#[test]
fn random_bytes_are_parsed_or_refused_never_a_panic() {
    let mut rng = Rng::new(17);
    let (mut images, mut labels, mut pairs) = (0, 0, 0);
    for case in 0..4000 {
        let (a, b) = (random_file(&mut rng), random_file(&mut rng));
        let case = format!("random case {case}");
        images += check_images(&a, &case).is_ok() as usize;
        labels += check_labels(&b, &case).is_ok() as usize;
        check_images(&b, &case).ok();
        check_labels(&a, &case).ok();
        check_pair(&a, &b, &case);
        pairs += Mnist::parse(&a, &b).is_ok() as usize;
    }
    // The generator must reach the accepting paths too, or this test proves little.
    assert!(images > 100 && labels > 100 && pairs > 0, "accepted: {images} images files, {labels} labels files, {pairs} pairs of 4000");
}

#[test]
fn every_truncation_of_a_valid_file_is_refused() {
    let mut rng = Rng::new(1);
    let (img, lab) = (images_file(3, 4, 5, &mut rng), labels_file(3, &mut rng));
    for (name, file, is_images) in [("images", img, true), ("labels", lab, false)] {
        let check = |bytes: &[u8], case: &str| if is_images { check_images(bytes, case).map(|_| ()) } else { check_labels(bytes, case).map(|_| ()) };
        for full in [file.clone(), gz(&file)] {
            let kind = if full == file { "raw" } else { "gzip" };
            check(&full, &format!("whole {kind} {name}")).unwrap();
            for len in 0..full.len() {
                let case = format!("{kind} {name} cut to {len} of {} bytes", full.len());
                let err = check(&full[..len], &case).expect_err(&case);
                let header = if is_images { 16 } else { 8 };
                if kind == "raw" && len >= header {
                    // The message says what was promised and what was found.
                    let promise = if is_images { "header promises 3 images of 4×5 (76 bytes)" } else { "header promises 3 labels (11 bytes)" };
                    let expected = format!("truncated file: {promise} but the file has {len} bytes");
                    assert!(err.message().contains(&expected), "{case}: {err}");
                }
            }
        }
    }
}

#[test]
fn a_truncated_gzip_body_names_what_was_promised_and_found() {
    let mut rng = Rng::new(2);
    // Incompressible pixels, so that a cut in the deflate stream loses pixels, not only the footer.
    let img = images_file(40, 10, 10, &mut rng);
    let gzipped = gz(&img);
    let err = parse_images(&gzipped[..gzipped.len() / 2]).unwrap_err();
    let msg = err.message();
    assert!(msg.contains("4016 bytes") && (msg.contains("inflates to only") || msg.contains("corrupt")), "{msg}");
}

#[test]
fn byte_flips_in_valid_files_are_parsed_or_refused_consistently() {
    let mut rng = Rng::new(3);
    let (img, lab) = (images_file(4, 3, 3, &mut rng), labels_file(4, &mut rng));
    let files = [(img.clone(), true), (gz(&img), true), (lab.clone(), false), (gz(&lab), false)];
    for case in 0..3000 {
        let (file, is_images) = &files[case % files.len()];
        let mut bytes = file.clone();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(bytes.len());
            // Mostly small values (counts of 0–9, digits) so that some mutants stay valid.
            bytes[at] = if rng.below(2) == 0 { rng.below(12) as u8 } else { rng.below(256) as u8 };
        }
        match rng.below(4) {
            0 => bytes.truncate(rng.below(bytes.len() + 1)),
            1 => bytes.extend((0..rng.below(4)).map(|_| rng.below(256) as u8)),
            _ => {}
        }
        let case = format!("mutant {case}");
        if *is_images {
            check_images(&bytes, &case).ok();
            check_pair(&bytes, &lab, &case);
        } else {
            check_labels(&bytes, &case).ok();
            check_pair(&img, &bytes, &case);
        }
    }
}

#[test]
fn extreme_headers_are_parsed_or_refused_never_a_panic() {
    // Counts and dimensions at and around every cap, and past 2^32 once multiplied.
    let extremes = [0, 1, 2, 255, 256, 257, 1 << 16, 1 << 24, (1 << 24) + 1, 1 << 28, 1 << 31, u32::MAX];
    for &n in &extremes {
        for &r in &extremes {
            for &c in &extremes {
                for body in [0, 1, 64] {
                    let mut raw = header(&[IMAGES, n, r, c]);
                    raw.resize(16 + body, 0);
                    let case = format!("{n} images of {r}×{c} with {body} bytes");
                    check_images(&raw, &case).ok();
                    check_images(&gz(&raw), &format!("gzipped {case}")).ok();
                }
            }
        }
        for body in [0, 1, 64] {
            let mut raw = header(&[LABELS, n]);
            raw.resize(8 + body, 0);
            check_labels(&raw, &format!("{n} labels with {body} bytes")).ok();
            check_labels(&gz(&raw), &format!("gzipped {n} labels with {body} bytes")).ok();
        }
    }
}

/// Each refusal of a header, and the numbers its message must name.
#[test]
fn implausible_headers_are_refused_by_name() {
    #[rustfmt::skip]
    let rows: [(&[u32], &str, &str); 7] = [
        // 2^32 pixels: 0 in a 32-bit usize (wasm32) if multiplied unchecked, then a panic slicing
        (&[65_536, 256, 256], "65536 images of 256×256 = 4294967296 pixels, more than the 268435456", "the wasm32 wrap of issue #17"),
        (&[u32::MAX, u32::MAX, u32::MAX], "4294967295 images, more than the 16777216", "everything at u32::MAX"),
        (&[1, u32::MAX, u32::MAX], "= 18446744065119617025 pixels", "one image past 2^64 / 2"),
        (&[4097, 256, 256], "4097 images of 256×256 = 268500992 pixels", "one image past the pixel cap"),
        (&[4096, 256, 256], "4096 images of 256×256 (268435472 bytes) but the file has 16 bytes", "at the pixel cap: only truncated"),
        (&[2, 0, 28], "0×28 is empty", "no rows"),
        (&[(1 << 24) + 1, 1, 1], "16777217 images", "past the item cap"),
    ];
    for (words, expected, reason) in rows {
        let raw = header(&[&[IMAGES][..], words].concat());
        for bytes in [raw.clone(), gz(&raw)] {
            let err = parse_images(&bytes).expect_err(reason);
            // A gzip file's truncation is told in inflated bytes.
            let expected =
                if bytes == raw { expected.to_string() } else { expected.replace("the file has 16 bytes", "the gzip data inflates to only 16") };
            assert!(err.message().contains(&expected), "{reason}: {err}");
        }
    }
    let err = parse_labels(&header(&[LABELS, u32::MAX])).unwrap_err();
    assert!(err.message().contains("4294967295 labels"), "{err}");
    let err = parse_labels(&header(&[LABELS, 5, 0])).unwrap_err();
    assert!(err.message().contains("header promises 5 labels (13 bytes) but the file has 12 bytes"), "{err}");
}

#[test]
fn trailing_data_is_refused_and_a_second_gzip_member_is_not_read() {
    let mut rng = Rng::new(4);
    let lab = labels_file(5, &mut rng);
    let mut raw = lab.clone();
    raw.push(3);
    let err = parse_labels(&raw).unwrap_err();
    assert!(err.message().contains("holds more than the 13 bytes its header promises (5 labels)"), "{err}");
    let mut inner = lab.clone();
    inner.push(3);
    assert!(parse_labels(&gz(&inner)).unwrap_err().message().contains("holds more than the 13 bytes"));
    // Bytes after the first gzip member are not looked at (the decoder stops there).
    let mut two = gz(&lab);
    two.extend(gz(&[9; 1000]));
    assert_eq!(parse_labels(&two).unwrap(), lab[8..]);
}

/// The files the page loads still parse (exactly their declared size, gzip footer checked).
#[test]
fn the_notebooks_own_mnist_files_parse() {
    let img = std::fs::read("data/mnist-images-idx3-ubyte.gz").unwrap();
    let lab = std::fs::read("data/mnist-labels-idx1-ubyte.gz").unwrap();
    let m = Mnist::parse(&img, &lab).unwrap();
    assert_eq!((m.len(), m.rows, m.cols, m.images.len()), (10_000, 28, 28, 10_000 * 784));
}
