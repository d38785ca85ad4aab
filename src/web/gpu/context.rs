//! The WebGPU device and what everything else needs from it: pipelines (compiled once per
//! kernel and cached), storage and uniform buffers, bind groups, one-pass submission and
//! asynchronous readback.

use crate::gpu::{Kernel, Module};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    gpu_buffer_usage as usage, gpu_map_mode, GpuAdapter, GpuAutoLayoutMode, GpuBindGroup, GpuBindGroupDescriptor, GpuBindGroupEntry, GpuBuffer,
    GpuBufferBinding, GpuBufferDescriptor, GpuCommandEncoder, GpuComputePipeline, GpuComputePipelineDescriptor, GpuDevice, GpuDeviceDescriptor,
    GpuErrorFilter, GpuProgrammableStage, GpuQueue, GpuShaderModule, GpuShaderModuleDescriptor,
};

/// A JS exception or WebGPU error as a readable message.
pub fn describe(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// The bytes of an f32 slice (wasm32 is little-endian, as WebGPU buffers are).
pub fn f32_bytes(v: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding and every bit pattern is a valid u8; u8 needs no alignment.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

/// The bytes of a u32 slice.
pub fn u32_bytes(v: &[u32]) -> &[u8] {
    // SAFETY: as for f32_bytes.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

/// One compute dispatch ready to record: a pipeline, its bind group and the grid.
pub struct Dispatch {
    pub kernel: Kernel,
    pub bind_group: GpuBindGroup,
    pub groups: [u32; 3],
}

/// An open WebGPU device with its pipeline cache.
pub struct GpuContext {
    pub device: GpuDevice,
    pub queue: GpuQueue,
    /// "vendor architecture (description)" of the adapter, for the page and the test log.
    pub adapter_name: String,
    /// The largest storage buffer binding this device accepts, in bytes.
    pub max_storage_binding: f64,
    modules: RefCell<HashMap<Module, GpuShaderModule>>,
    pipelines: RefCell<HashMap<Kernel, GpuComputePipeline>>,
    lost: Rc<Cell<bool>>,
    lost_message: Rc<RefCell<String>>,
    /// Command buffers submitted and buffers mapped for reading, so tests can hold training
    /// to one submit per step and a readback only every N steps.
    submits: Cell<u64>,
    maps: Cell<u64>,
}

impl GpuContext {
    /// Ask the browser for an adapter and a device. `Ok(None)`: this browser has no WebGPU
    /// or no adapter (the CPU path runs instead); `Err`: an adapter exists but failed.
    pub async fn request() -> Result<Option<Rc<GpuContext>>, String> {
        let Some(window) = web_sys::window() else { return Ok(None) };
        let navigator = window.navigator();
        let has_gpu = js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu")).map(|g| !g.is_undefined() && !g.is_null()).unwrap_or(false);
        if !has_gpu {
            return Ok(None);
        }
        let gpu = navigator.gpu();
        let adapter: Option<GpuAdapter> = match gpu.request_adapter().await {
            Ok(a) => a.as_option(),
            Err(_) => None,
        };
        let Some(adapter) = adapter else { return Ok(None) };
        let info = adapter.info();
        let name = [info.vendor(), info.architecture(), info.description()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
        let limits = adapter.limits();
        // Ask for the adapter's own storage limits (the defaults, 128 MiB bindings, are lower
        // than many adapters give), so a whole training set can live on the GPU.
        let required = js_sys::Object::new();
        for (key, value) in [
            ("maxStorageBufferBindingSize", limits.max_storage_buffer_binding_size()),
            ("maxBufferSize", limits.max_buffer_size()),
            ("maxStorageBuffersPerShaderStage", limits.max_storage_buffers_per_shader_stage() as f64),
        ] {
            js_sys::Reflect::set(&required, &JsValue::from_str(key), &JsValue::from_f64(value)).map_err(|e| describe(&e))?;
        }
        let desc = GpuDeviceDescriptor::new();
        desc.set_label("descent");
        desc.set_required_limits(required.unchecked_ref());
        let device: GpuDevice =
            adapter.request_device_with_descriptor(&desc).await.map_err(|e| format!("WebGPU device request failed: {}", describe(&e)))?;
        let lost = Rc::new(Cell::new(false));
        let lost_message = Rc::new(RefCell::new(String::new()));
        {
            let (lost, msg) = (lost.clone(), lost_message.clone());
            let promise = device.lost();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(info) = promise.await {
                    *msg.borrow_mut() = info.message();
                    lost.set(true);
                }
            });
        }
        Ok(Some(Rc::new(GpuContext {
            queue: device.queue(),
            max_storage_binding: device.limits().max_storage_buffer_binding_size(),
            device,
            adapter_name: if name.is_empty() { "WebGPU adapter".into() } else { name },
            modules: RefCell::new(HashMap::new()),
            pipelines: RefCell::new(HashMap::new()),
            lost,
            lost_message,
            submits: Cell::new(0),
            maps: Cell::new(0),
        })))
    }

    /// (command buffers submitted, buffers mapped for reading) since the device was made.
    pub fn traffic(&self) -> (u64, u64) {
        (self.submits.get(), self.maps.get())
    }

    /// Submit one finished command buffer (every submit goes through here, so it is counted).
    pub fn submit(&self, encoder: &GpuCommandEncoder) {
        self.queue.submit(&[encoder.finish()]);
        self.submits.set(self.submits.get() + 1);
    }

    /// Has the device been lost (driver reset, tab in the background too long, destroy())?
    pub fn is_lost(&self) -> bool {
        self.lost.get()
    }
    /// The browser's reason for the loss, once lost.
    pub fn lost_message(&self) -> String {
        self.lost_message.borrow().clone()
    }

    /// The pipeline of `kernel`, compiled on first use.
    pub fn pipeline(&self, kernel: Kernel) -> GpuComputePipeline {
        if let Some(p) = self.pipelines.borrow().get(&kernel) {
            return p.clone();
        }
        let module = kernel.module();
        let shader = self
            .modules
            .borrow_mut()
            .entry(module)
            .or_insert_with(|| {
                let desc = GpuShaderModuleDescriptor::new(&module.source());
                desc.set_label(&module.label());
                self.device.create_shader_module(&desc)
            })
            .clone();
        let stage = GpuProgrammableStage::new(&shader);
        stage.set_entry_point(kernel.entry());
        let desc = GpuComputePipelineDescriptor::new_with_gpu_auto_layout_mode(GpuAutoLayoutMode::Auto, &stage);
        desc.set_label(kernel.entry());
        let pipeline = self.device.create_compute_pipeline(&desc);
        self.pipelines.borrow_mut().insert(kernel, pipeline.clone());
        pipeline
    }

    /// Start collecting validation errors (shader compilation, bindings, dispatch sizes).
    pub fn push_errors(&self) {
        self.device.push_error_scope(GpuErrorFilter::Validation);
    }

    /// Stop collecting and fail with the first validation error, if any.
    pub async fn pop_errors(&self, what: &str) -> Result<(), String> {
        match self.device.pop_error_scope().await {
            Ok(e) => match e.as_option() {
                Some(err) => Err(format!("WebGPU {what}: {}", err.message())),
                None => Ok(()),
            },
            Err(e) => Err(format!("WebGPU {what}: {}", describe(&e))),
        }
    }

    /// A storage buffer of `len` f32 (or u32) elements, zero-filled.
    pub fn storage(&self, label: &str, len: usize) -> Result<GpuBuffer, String> {
        let size = (len.max(4) * 4) as f64;
        let desc = GpuBufferDescriptor::new_with_f64(size, usage::STORAGE | usage::COPY_SRC | usage::COPY_DST);
        desc.set_label(label);
        self.device.create_buffer(&desc).map_err(|e| format!("cannot allocate {label} ({size} bytes): {}", describe(&e)))
    }

    /// A storage buffer holding `data`.
    pub fn storage_from(&self, label: &str, data: &[f32]) -> Result<GpuBuffer, String> {
        let b = self.storage(label, data.len())?;
        self.write(&b, 0, f32_bytes(data))?;
        Ok(b)
    }

    /// A storage buffer holding the u32 `data` (labels).
    pub fn storage_from_u32(&self, label: &str, data: &[u32]) -> Result<GpuBuffer, String> {
        let b = self.storage(label, data.len())?;
        self.write(&b, 0, u32_bytes(data))?;
        Ok(b)
    }

    /// A uniform buffer holding `bytes` (a block from `backend::webgpu`).
    pub fn uniform(&self, label: &str, bytes: &[u8]) -> Result<GpuBuffer, String> {
        let desc = GpuBufferDescriptor::new(bytes.len().max(16) as u32, usage::UNIFORM | usage::COPY_DST);
        desc.set_label(label);
        let b = self.device.create_buffer(&desc).map_err(|e| format!("cannot allocate {label}: {}", describe(&e)))?;
        self.write(&b, 0, bytes)?;
        Ok(b)
    }

    /// Queue a write of `bytes` at byte `offset` (it lands before the next submit's work).
    pub fn write(&self, buffer: &GpuBuffer, offset: usize, bytes: &[u8]) -> Result<(), String> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.queue.write_buffer_with_u32_and_u8_slice(buffer, offset as u32, bytes).map_err(|e| format!("writeBuffer: {}", describe(&e)))
    }

    /// A bind group for `kernel` from (binding, buffer) pairs.
    pub fn bind(&self, kernel: Kernel, entries: &[(u32, &GpuBuffer)]) -> GpuBindGroup {
        let layout = self.pipeline(kernel).get_bind_group_layout(0);
        let entries: Vec<GpuBindGroupEntry> =
            entries.iter().map(|(i, b)| GpuBindGroupEntry::new_with_gpu_buffer_binding(*i, &GpuBufferBinding::new(b))).collect();
        self.device.create_bind_group(&GpuBindGroupDescriptor::new(&entries, &layout))
    }

    /// Record `dispatches` in one compute pass of `encoder`, in order (WebGPU makes each
    /// dispatch see the storage writes of the ones before it).
    pub fn record<'a>(&self, encoder: &GpuCommandEncoder, dispatches: impl IntoIterator<Item = &'a Dispatch>) {
        let pass = encoder.begin_compute_pass();
        for d in dispatches {
            pass.set_pipeline(&self.pipeline(d.kernel));
            pass.set_bind_group(0, Some(&d.bind_group));
            let [x, y, z] = d.groups;
            pass.dispatch_workgroups_with_workgroup_count_y_and_workgroup_count_z(x, y, z);
        }
        pass.end();
    }

    /// Record and submit `dispatches` as one command buffer.
    pub fn run<'a>(&self, dispatches: impl IntoIterator<Item = &'a Dispatch>) {
        let encoder = self.device.create_command_encoder();
        self.record(&encoder, dispatches);
        self.submit(&encoder);
    }

    /// A buffer the CPU can map for reading, `len` f32 long.
    pub fn staging(&self, label: &str, len: usize) -> Result<GpuBuffer, String> {
        let desc = GpuBufferDescriptor::new_with_f64((len.max(4) * 4) as f64, usage::MAP_READ | usage::COPY_DST);
        desc.set_label(label);
        self.device.create_buffer(&desc).map_err(|e| format!("cannot allocate {label}: {}", describe(&e)))
    }

    /// Wait for `staging` (already filled by a submitted copy) and read `len` f32 from it.
    pub async fn map_read(&self, staging: &GpuBuffer, len: usize) -> Result<Vec<f32>, String> {
        self.maps.set(self.maps.get() + 1);
        staging.map_async(gpu_map_mode::READ).await.map_err(|e| format!("mapAsync: {}", describe(&e)))?;
        let range = staging.get_mapped_range().map_err(|e| format!("getMappedRange: {}", describe(&e)))?;
        let out = js_sys::Float32Array::new_with_byte_offset_and_length(&range, 0, len as u32).to_vec();
        staging.unmap();
        Ok(out)
    }

    /// Copy `len` f32 from element `offset` of `buffer` back to the CPU (one submit, one
    /// mapAsync: milliseconds, so the training loop does this only every many steps).
    pub async fn read(&self, buffer: &GpuBuffer, offset: usize, len: usize) -> Result<Vec<f32>, String> {
        Ok(self.read_many(&[(buffer, offset, len)]).await?.pop().unwrap_or_default())
    }

    /// Several `(buffer, offset, len)` ranges (in f32) back to the CPU at once: copied side by
    /// side into one staging buffer, so the whole lot costs one submit and one mapAsync.
    pub async fn read_many(&self, parts: &[(&GpuBuffer, usize, usize)]) -> Result<Vec<Vec<f32>>, String> {
        let total: usize = parts.iter().map(|p| p.2).sum();
        if total == 0 {
            return Ok(vec![Vec::new(); parts.len()]);
        }
        let staging = self.staging("readback", total)?;
        let encoder = self.device.create_command_encoder();
        let mut at = 0;
        let mut copied = Ok(());
        for &(buffer, offset, len) in parts {
            if len > 0 && copied.is_ok() {
                copied = encoder
                    .copy_buffer_to_buffer_with_u32_and_u32_and_u32(buffer, (offset * 4) as u32, &staging, (at * 4) as u32, (len * 4) as u32)
                    .map_err(|e| format!("copyBufferToBuffer: {}", describe(&e)));
            }
            at += len;
        }
        let flat = match copied {
            Ok(()) => {
                self.submit(&encoder);
                self.map_read(&staging, total).await
            }
            Err(e) => Err(e),
        };
        staging.destroy();
        let flat = flat?;
        let mut rest = &flat[..];
        Ok(parts
            .iter()
            .map(|p| {
                let (part, tail) = rest.split_at(p.2);
                rest = tail;
                part.to_vec()
            })
            .collect())
    }
}
