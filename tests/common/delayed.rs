//! A CPU engine that behaves like the GPU one (delayed readbacks, device loss), shared by the
//! trainer's and the scheduler's native tests.

use descent::backend::Rows;
use descent::nn::{Mlp, Penalty, Reduction};
use descent::train::{CpuEngine, Engine, Finished};
use descent::Result;

/// A CPU engine seen through a delay: results are held back until `ring` steps are pending or
/// a sync is asked for, and each readback lands `latency` calls after it starts. With
/// `lose_at`, the device is "lost" on that submitted step: everything since the last readback
/// is rolled back (parameters included) and reported lost.
pub struct Delayed {
    inner: CpuEngine,
    ring: usize,
    latency: usize,
    held: Vec<(f32, usize)>,
    /// A readback under way: calls left before it lands.
    in_flight: Option<usize>,
    ready_out: Vec<(f32, usize)>,
    submitted: usize,
    lose_at: Option<usize>,
    lost: bool,
    /// The model as of the last readback (what a lost device leaves).
    synced: Mlp,
    /// How often `ready()` said no (shared, so a test can read it once the engine is boxed).
    pub busy_calls: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Delayed {
    pub fn new(inner: CpuEngine, ring: usize, latency: usize, lose_at: Option<usize>) -> Delayed {
        let synced = inner.model.clone();
        Delayed {
            inner,
            ring,
            latency,
            held: Vec::new(),
            in_flight: None,
            ready_out: Vec::new(),
            submitted: 0,
            lose_at,
            lost: false,
            synced,
            busy_calls: Default::default(),
        }
    }
    fn start_readback(&mut self) {
        if self.in_flight.is_none() {
            self.in_flight = Some(self.latency);
        }
    }
    fn poll(&mut self) {
        if let Some(left) = self.in_flight {
            if left == 0 {
                self.in_flight = None;
                self.ready_out.append(&mut self.held);
                self.synced = self.inner.model.clone();
            } else {
                self.in_flight = Some(left - 1);
            }
        }
    }
}

impl Engine for Delayed {
    fn label(&self) -> &'static str {
        "delayed"
    }
    fn ready(&mut self) -> bool {
        self.poll();
        let ok = self.in_flight.is_none();
        if !ok {
            self.busy_calls.set(self.busy_calls.get() + 1);
        }
        ok
    }
    fn submit(&mut self, x: Rows, labels: &[u32], reduction: Reduction, penalty: Penalty, max_loss: f32) -> Result<()> {
        assert!(self.in_flight.is_none(), "submitted while a readback is in flight");
        self.submitted += 1;
        if self.lose_at == Some(self.submitted) && !self.lost {
            // the device dies with this step: what was held is gone, parameters roll back
            self.lost = true;
            self.held.clear();
            self.inner.model = self.synced.clone();
            return Ok(());
        }
        self.inner.submit(x, labels, reduction, penalty, max_loss)?;
        self.held.extend(self.inner.finished()?.steps);
        if self.held.len() >= self.ring {
            self.start_readback();
        }
        Ok(())
    }
    fn finished(&mut self) -> Result<Finished> {
        self.poll();
        let lost = std::mem::take(&mut self.lost);
        if lost {
            // a real device loss leaves the engine on another device, ready at once
            self.in_flight = None;
            self.lose_at = None;
        }
        Ok(Finished { steps: std::mem::take(&mut self.ready_out), lost })
    }
    fn synced_model(&mut self) -> Result<Option<&mut Mlp>> {
        self.poll();
        if self.held.is_empty() && self.in_flight.is_none() {
            return Ok(Some(&mut self.inner.model));
        }
        self.start_readback();
        Ok(None)
    }
    fn model(&self) -> &Mlp {
        &self.synced
    }
    fn set_lr(&mut self, lr: f32) -> Result<()> {
        self.inner.set_lr(lr)
    }
    fn set_weight_decay(&mut self, weight_decay: f32) -> Result<()> {
        self.inner.set_weight_decay(weight_decay)
    }
    fn set_dropout(&mut self, hidden: &[f32], input: f32) -> Result<()> {
        self.inner.set_dropout(hidden, input)?;
        self.synced.set_dropout(hidden, input) // a rollback keeps the new p, as a GPU model does
    }
    fn optimizer_state(&self, key: &str) -> Option<&[f32]> {
        self.inner.optimizer_state(key)
    }
    fn optimizer_steps(&self) -> u64 {
        self.inner.optimizer_steps()
    }
    fn gradients(&self) -> Option<&[f32]> {
        Some(self.synced.gradients())
    }
}
