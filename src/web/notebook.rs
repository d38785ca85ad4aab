//! What the notebook's cells call: MNIST loading and splitting, training sessions that advance
//! in time slices, and chart drawing.

use super::{js_err, seed_from};
use crate::data::{Dataset, Mnist, Split};
use crate::lab;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

pub(crate) use super::session::{run_spec, TrainSession};

/// MNIST parsed from IDX files and split by a seed into train / validation / test.
#[wasm_bindgen]
pub struct MnistData {
    pub(crate) train: Arc<Dataset>,
    pub(crate) validation: Arc<Dataset>,
    pub(crate) test: Arc<Dataset>,
    seed: u64,
}

impl MnistData {
    /// The training and validation sets, for building runs.
    pub(crate) fn data(&self) -> lab::Data {
        lab::Data { train: self.train.clone(), validation: self.validation.clone() }
    }

    /// All three sets, for the worker pool's jobs.
    pub(crate) fn sets(&self) -> lab::job::Sets {
        lab::job::Sets { train: self.train.clone(), validation: self.validation.clone(), test: self.test.clone() }
    }
}

#[wasm_bindgen]
impl MnistData {
    /// Parse the two IDX files (gzipped or raw) and split them 7,000 / 1,500 / 1,500 by `seed`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] images: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] labels: JsValue,
        seed: f64,
    ) -> Result<MnistData, JsError> {
        let (images, labels) = (crate::web::convert::bytes(&images, "images")?, crate::web::convert::bytes(&labels, "labels")?);
        let m = Mnist::parse(&images, &labels).map_err(js_err)?;
        let seed = seed_from(seed)?;
        let split = if m.len() >= 10_000 {
            Split::mnist_default(&m, seed)
        } else {
            // Smaller files (a student's own subset): keep the same 70 / 15 / 15 proportions.
            let n = m.len();
            Split::holdout(&Dataset::from(&m), n * 70 / 100, n * 15 / 100, n - n * 70 / 100 - n * 15 / 100, seed)
        }
        .map_err(js_err)?;
        Ok(MnistData { train: Arc::new(split.train), validation: Arc::new(split.validation), test: Arc::new(split.test), seed })
    }

    #[wasm_bindgen(getter, js_name = trainSize)]
    pub fn train_size(&self) -> usize {
        self.train.len()
    }
    #[wasm_bindgen(getter, js_name = validationSize)]
    pub fn validation_size(&self) -> usize {
        self.validation.len()
    }
    #[wasm_bindgen(getter, js_name = testSize)]
    pub fn test_size(&self) -> usize {
        self.test.len()
    }
    #[wasm_bindgen(getter)]
    pub fn seed(&self) -> f64 {
        self.seed as f64
    }
}
