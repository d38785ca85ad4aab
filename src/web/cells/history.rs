//! `history()` for the experiments whose runs are plain training runs: every run's full record
//! (step losses, epoch summaries, validation checks, marks), for the Export menu's JSON.

use super::{Compare, Race};
use crate::train::History;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[derive(Serialize)]
struct Labelled<'a> {
    label: &'a str,
    history: &'a History,
}

#[wasm_bindgen]
impl Race {
    /// `[{ label, history: { step_loss, epochs, checks, marks } }]`, one per entrant.
    pub fn history(&self) -> Result<JsValue, JsError> {
        let runs = self.inner.spec().runs.iter().zip(self.inner.runs().iter());
        let all: Vec<Labelled> = runs.map(|(e, t)| Labelled { label: &e.name, history: t.history() }).collect();
        crate::web::to_js(&all)
    }
}

#[wasm_bindgen]
impl Compare {
    /// `[{ label, history: { step_loss, epochs, checks, marks } }]`, one per run.
    pub fn history(&self) -> Result<JsValue, JsError> {
        let runs = self.inner.spec().runs.iter().zip(self.inner.runs().iter());
        let all: Vec<Labelled> = runs.map(|(e, t)| Labelled { label: &e.label, history: t.history() }).collect();
        crate::web::to_js(&all)
    }
}
