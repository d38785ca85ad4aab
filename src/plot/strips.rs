//! Composition strips: one horizontal bar per row (a fold, say), cut into segments whose
//! lengths are the counts of each class, in a fixed colour per class. Rows of equal make-up
//! line up segment for segment, so a stratified split reads as a stack of identical bars and a
//! plain one as bars whose boundaries wander.

use super::{err, font};
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

/// One bar: a label and a count per class; optionally, under it, which examples of the whole
/// set it holds (`members[i]`: example i's class, or null when another row holds it), drawn as
/// ticks in example order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Strip {
    pub label: String,
    pub counts: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Option<u8>>,
}

/// Ten distinguishable class colours (Tableau's ten, as matplotlib's "tab10").
pub const CLASS_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Draw the strips, each bar as wide as the largest row's total, a class key underneath.
pub fn draw_strips<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, strips: &[Strip], title: &str, scale: f64) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let (w, h) = area.dim_in_pixel();
    let px = |v: f64| (v * scale) as i32;
    area.draw(&Text::new(title.to_string(), (px(10.0), px(6.0)), font(14.0, scale))).map_err(err)?;
    let classes = strips.iter().map(|s| s.counts.len()).max().unwrap_or(0);
    let widest = strips.iter().map(|s| s.counts.iter().sum::<usize>()).max().unwrap_or(0);
    if strips.is_empty() || widest == 0 {
        return Ok(());
    }
    let (left, right, top, key) = (px(56.0), w as i32 - px(54.0), px(28.0), px(26.0));
    let row_h = ((h as i32 - top - key) / strips.len() as i32).max(2);
    let ticks = strips.iter().any(|s| !s.members.is_empty());
    let bar_h = (row_h as f64 * if ticks { 0.42 } else { 0.72 }) as i32;
    let tick_h = (row_h as f64 * 0.3) as i32;
    let span = (right - left).max(1) as f64;
    for (r, s) in strips.iter().enumerate() {
        let y = top + r as i32 * row_h;
        area.draw(&Text::new(s.label.clone(), (px(8.0), y + bar_h / 2 - px(6.0)), font(11.0, scale))).map_err(err)?;
        let mut at = 0usize;
        for (c, &n) in s.counts.iter().enumerate() {
            let x0 = left + (at as f64 / widest as f64 * span) as i32;
            at += n;
            let x1 = left + (at as f64 / widest as f64 * span) as i32;
            if x1 > x0 {
                area.draw(&Rectangle::new([(x0, y), (x1, y + bar_h)], CLASS_COLORS[c % 10].filled())).map_err(err)?;
            }
        }
        // which examples: one pixel column per slice of the example order, in the class colour
        // of the first example the row holds there
        if !s.members.is_empty() {
            let (y0, width) = (y + bar_h + (row_h as f64 * 0.08) as i32, (right - left).max(1) as usize);
            let per = s.members.len() as f64 / width as f64;
            for col in 0..width {
                let (from, to) = ((col as f64 * per) as usize, (((col + 1) as f64 * per) as usize).max((col as f64 * per) as usize + 1));
                if let Some(c) = s.members[from.min(s.members.len())..to.min(s.members.len())].iter().flatten().next() {
                    let x = left + col as i32;
                    area.draw(&Rectangle::new([(x, y0), (x + 1, y0 + tick_h)], CLASS_COLORS[*c as usize % 10].filled())).map_err(err)?;
                }
            }
        }
        let total: usize = s.counts.iter().sum();
        let end = left + (total as f64 / widest as f64 * span) as i32;
        area.draw(&Text::new(total.to_string(), (end + px(4.0), y + bar_h / 2 - px(6.0)), font(11.0, scale))).map_err(err)?;
    }
    // the key: one swatch per class
    let y = h as i32 - key + px(8.0);
    let step = ((right - left) / classes.max(1) as i32).min(px(52.0));
    for c in 0..classes {
        let x = left + c as i32 * step;
        area.draw(&Rectangle::new([(x, y), (x + px(12.0), y + px(12.0))], CLASS_COLORS[c % 10].filled())).map_err(err)?;
        area.draw(&Text::new(format!("{c}"), (x + px(15.0), y), font(11.0, scale))).map_err(err)?;
    }
    area.present().map_err(err)?;
    Ok(())
}
