//! The page's own defaults, read from index.html, so the native tests of a cell check the
//! settings a student gets (one reader for every cell test).

#![allow(dead_code)] // each test uses the readers it needs

use descent::data::Mnist;

/// The page.
pub fn html() -> String {
    std::fs::read_to_string("index.html").expect("index.html at the crate root")
}

/// The MNIST files the page loads.
pub fn mnist() -> Mnist {
    let img = std::fs::read("data/mnist-images-idx3-ubyte.gz").unwrap();
    let lab = std::fs::read("data/mnist-labels-idx1-ubyte.gz").unwrap();
    Mnist::parse(&img, &lab).unwrap()
}

/// The value of attribute `name` in one HTML tag (quoted with " or ').
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!(" {name}="))? + name.len() + 2;
    let quote = tag[at..].chars().next()?;
    let rest = &tag[at + 1..];
    Some(rest[..rest.find(quote)?].to_string())
}

/// The whole tag (from `<` to `>`) around position `at`.
pub fn tag_at(html: &str, at: usize) -> &str {
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

/// The tag of the element with this id.
pub fn tag_of<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("index.html has no #{id}"));
    tag_at(html, at)
}

/// The `value` of the element with this id.
pub fn value_of(html: &str, id: &str) -> String {
    attr(tag_of(html, id), "value").unwrap_or_else(|| panic!("#{id} has no value"))
}

/// The `value` of the element with this id, as a number.
pub fn number_of<T: std::str::FromStr>(html: &str, id: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    value_of(html, id).trim().parse().unwrap_or_else(|e| panic!("#{id}: {e:?}"))
}

/// A comma-separated list of sizes ("256, 256").
pub fn sizes_of(html: &str, id: &str) -> Vec<usize> {
    value_of(html, id).split(',').map(|s| s.trim().parse().unwrap()).collect()
}

/// Whether the checkbox with this id starts ticked.
pub fn checked(html: &str, id: &str) -> bool {
    tag_of(html, id).contains(" checked")
}
