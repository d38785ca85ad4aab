//! `JobGroup`: the worker pool's jobs (`lab::job`) for JS. A worker runs a group of one to its
//! end; the page thread, without workers, runs a group of many a frame slice at a time.

use super::notebook::MnistData;
use super::page::{Live, PageClock};
use super::{js_err, to_js};
use crate::lab::job::{Job, Jobs};
use wasm_bindgen::prelude::*;

/// Training jobs on the CPU, advanced together (see `lab::job`).
#[wasm_bindgen]
pub struct JobGroup {
    jobs: Jobs,
    _live: Live,
}

#[wasm_bindgen]
impl JobGroup {
    /// `jobs`: an array of `{ spec, train?, validation?, labelMap?, test?, keepParameters? }`.
    /// A job that cannot be built is kept as its message (`result(i).status === "error"`).
    #[wasm_bindgen(constructor)]
    pub fn new(data: &MnistData, jobs: JsValue) -> Result<JobGroup, JsError> {
        if !js_sys::Array::is_array(&jobs) {
            return Err(JsError::new("JobGroup: jobs must be an array of job objects"));
        }
        let jobs = js_sys::Array::from(&jobs).iter().map(|j| job_from(&j)).collect();
        Ok(JobGroup { jobs: Jobs::new(&data.sets(), jobs), _live: Live::new() })
    }

    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.jobs.len()
    }

    /// Advance every job for about `budget_ms`; whether any still has work.
    #[wasm_bindgen(js_name = runFor)]
    pub fn run_for(&mut self, budget_ms: f64) -> Result<bool, JsError> {
        self.jobs.run_for(budget_ms, &PageClock).map_err(js_err)
    }

    /// What job `i` recorded since the last call, or null when nothing:
    /// `{ steps, totalSteps, stepLoss, epochs, checks }`.
    pub fn update(&mut self, i: f64) -> Result<JsValue, JsError> {
        let i = self.check(i)?;
        let u = self.jobs.update(i);
        if u.is_empty() {
            return Ok(JsValue::NULL);
        }
        to_js(&u)
    }

    /// How job `i` stands or ended: `{ status, message, history, steps, totalSteps, stoppedAt,
    /// bestCheck, test, computeMs, trainSize, validationSize }`.
    pub fn result(&self, i: f64) -> Result<JsValue, JsError> {
        let i = self.check(i)?;
        to_js(&self.jobs.result(i))
    }

    /// Job `i`'s trained parameters, when it asked for them (`keepParameters`).
    pub fn parameters(&self, i: f64) -> Result<Option<Vec<f32>>, JsError> {
        let i = self.check(i)?;
        Ok(self.jobs.parameters(i).map(<[f32]>::to_vec))
    }

    /// End job `i` now; it keeps what it recorded.
    pub fn stop(&mut self, i: f64) -> Result<(), JsError> {
        let i = self.check(i)?;
        self.jobs.stop(i, crate::lab::STOPPED_BY_STUDENT);
        Ok(())
    }
}

impl JobGroup {
    /// Job index `i` (a whole number, not wrapped to 2³² − 1 as wasm-bindgen's `usize` would) of an existing job.
    fn check(&self, i: f64) -> Result<usize, JsError> {
        let i = super::count_from(i, "job index")?;
        let n = self.jobs.len();
        (i < n).then_some(i).ok_or_else(|| js_err(crate::Error::new(format!("job {i} does not exist: the group holds {n}"))))
    }
}

/// One job object of the array (its own error, so a bad one fails alone).
fn job_from(v: &JsValue) -> crate::Result<Job> {
    crate::ensure!(v.is_object(), "job: each job must be an object {{ spec, … }}");
    let json: serde_json::Value = serde_wasm_bindgen::from_value(v.clone()).map_err(|e| crate::Error::new(format!("job: {e}")))?;
    Job::from_json(&json)
}
