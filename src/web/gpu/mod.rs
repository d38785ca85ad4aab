//! The WebGPU driver: the browser side of `crate::gpu`.
//!
//! - `context`: adapter and device, pipeline cache, buffers, submission, readback;
//! - `kernels`: one dispatch builder per WGSL kernel (uniform block + bind group + grid);
//! - `ops`: single kernel calls on CPU data, for the tests against the scalar oracle;
//! - `optim`: every optimizer of `crate::optim`, with its state in GPU buffers (loadable from
//!   and readable into a CPU optimizer, so a run can move between the two);
//! - `mlp`: a whole training step of an `Mlp` in one submit.
//!
//! Selection: a session uses WebGPU when `navigator.gpu` gives an adapter and the CPU path
//! otherwise; [`GpuContext::request`] answers `None` where there is none.

pub mod context;
pub mod engine;
pub mod kernels;
pub mod mlp;
pub mod ops;
pub mod optim;

pub use context::GpuContext;
pub use engine::GpuEngine;
pub use mlp::{GpuMlp, GpuTrainConfig};

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

thread_local! {
    /// The page's device, once `initWebGpu` found one.
    static DEVICE: RefCell<Option<Rc<GpuContext>>> = const { RefCell::new(None) };
    /// Whether new training sessions should use it (the header's switch).
    static USE_GPU: Cell<bool> = const { Cell::new(false) };
}

/// The device new sessions should train on: `None` for the CPU (no adapter, the student
/// chose the CPU, or the device was lost).
pub fn active() -> Option<Rc<GpuContext>> {
    if !USE_GPU.with(Cell::get) {
        return None;
    }
    DEVICE.with(|d| d.borrow().clone()).filter(|c| !c.is_lost())
}

/// What `#backend` shows: "WebGPU" or the CPU path's name.
pub fn label() -> &'static str {
    match active() {
        Some(_) => crate::backend::Device::WebGpu.label(),
        None => crate::backend::Device::Cpu.label(),
    }
}

/// Look for a WebGPU adapter and open a device; new training sessions use it from now on.
/// Returns the adapter's name, or undefined where this browser has none (the CPU stays).
#[wasm_bindgen(js_name = initWebGpu)]
pub async fn init_webgpu() -> Result<Option<String>, JsError> {
    if let Some(ctx) = DEVICE.with(|d| d.borrow().clone()) {
        return Ok(Some(ctx.adapter_name.clone()));
    }
    let ctx = GpuContext::request().await.map_err(|e| JsError::new(&e))?;
    let name = ctx.as_ref().map(|c| c.adapter_name.clone());
    USE_GPU.with(|u| u.set(ctx.is_some()));
    DEVICE.with(|d| *d.borrow_mut() = ctx);
    Ok(name)
}

/// Choose where new training sessions run: "webgpu" or "cpu". Returns the label `#backend`
/// should show. Asking for WebGPU without a working device is an error.
#[wasm_bindgen(js_name = setBackend)]
pub fn set_backend(#[wasm_bindgen(unchecked_param_type = "string")] name: JsValue) -> Result<String, JsError> {
    let name = super::string_arg(&name, "the backend")?;
    match name.as_str() {
        "cpu" => USE_GPU.with(|u| u.set(false)),
        "webgpu" => {
            let ok = DEVICE.with(|d| d.borrow().as_ref().is_some_and(|c| !c.is_lost()));
            if !ok {
                return Err(JsError::new("WebGPU is not available in this browser (or its device was lost); training stays on the CPU"));
            }
            USE_GPU.with(|u| u.set(true));
        }
        other => return Err(JsError::new(&format!("unknown backend \"{other}\"; expected \"webgpu\" or \"cpu\""))),
    }
    Ok(label().to_string())
}

/// The WebGPU adapter's name, or undefined when this browser has no WebGPU adapter.
#[wasm_bindgen(js_name = webgpuAdapter)]
pub async fn webgpu_adapter() -> Result<Option<String>, JsError> {
    match GpuContext::request().await {
        Ok(Some(ctx)) => Ok(Some(ctx.adapter_name.clone())),
        Ok(None) => Ok(None),
        Err(e) => Err(JsError::new(&e)),
    }
}

/// Call `callback(message)` once if the page's WebGPU device is lost (a driver reset, the
/// GPU process crashing, …). Running sessions move to the CPU by themselves; the page uses
/// this to say so and to update `#backend`.
#[wasm_bindgen(js_name = onWebGpuLost)]
pub fn on_webgpu_lost(callback: js_sys::Function) {
    let Some(ctx) = DEVICE.with(|d| d.borrow().clone()) else { return };
    let lost = ctx.device.lost();
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(info) = lost.await {
            let msg = info.message();
            let msg = if msg.is_empty() { "no reason given".to_string() } else { msg };
            let _ = callback.call1(&JsValue::NULL, &JsValue::from_str(&msg));
        }
    });
}

/// Lose the page's device on purpose (`GPUDevice.destroy()`), to try the CPU fallback.
#[wasm_bindgen(js_name = loseWebGpuDevice)]
pub fn lose_webgpu_device() {
    if let Some(ctx) = DEVICE.with(|d| d.borrow().clone()) {
        ctx.device.destroy();
    }
}
