//! What a `TrainSession` has recorded: its curves, checks, marks, parameters and optimizer
//! state.

use super::js_err;
use super::notebook::MnistData;
use super::session::TrainSession;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl TrainSession {
    /// Mini-batch loss per step (per example, whatever the reduction).
    #[wasm_bindgen(js_name = stepLoss)]
    pub fn step_loss(&self) -> Vec<f32> {
        self.trainer.history().step_loss.clone()
    }

    /// Per-epoch records: `[{ epoch, step, train_loss, train_error, val_loss, val_error }]`.
    pub fn epochs(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(&self.trainer.history().epochs).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Change the learning rate mid-run (marked on the curves).
    #[wasm_bindgen(js_name = setLr)]
    pub fn set_lr(&mut self, lr: f32) -> Result<(), JsError> {
        self.trainer.set_lr(lr).map_err(js_err)
    }

    /// Test-set error of the weights as of the last booked step.
    #[wasm_bindgen(js_name = testError)]
    pub fn test_error(&mut self, data: &MnistData) -> Result<f32, JsError> {
        let mut model = self.trainer.model().clone();
        model.evaluate(&data.test.x, &data.test.labels).map(|(_, e)| e).map_err(js_err)
    }

    /// A named optimizer state buffer (e.g. "step_size", "exp_avg_sq"), or undefined.
    #[wasm_bindgen(js_name = optimizerState)]
    pub fn optimizer_state(&self, #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue) -> Result<Option<Vec<f32>>, JsError> {
        let key = crate::web::string_arg(&key, "the state buffer's name")?;
        Ok(self.trainer.engine().optimizer_state(&key).map(<[f32]>::to_vec))
    }

    /// Notes pinned to steps (e.g. a learning-rate change): `[[step, "text"], …]`.
    pub fn marks(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(&self.trainer.history().marks).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The trained parameters (flat, PyTorch order) as of the last booked step.
    pub fn parameters(&self) -> Vec<f32> {
        self.trainer.model().parameters().to_vec()
    }
}
