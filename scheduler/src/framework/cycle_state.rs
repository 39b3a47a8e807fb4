//! Data a plugin computes once per scheduling cycle (PreFilter/PreScore) and reads per node,
//! as upstream's `CycleState`, keyed by plugin name.

use std::any::Any;
use std::collections::HashMap;

/// Per-cycle, per-plugin scratch data.
#[derive(Default)]
pub struct CycleState {
    data: HashMap<&'static str, Box<dyn Any + Send + Sync>>,
}

impl CycleState {
    /// Stores `value` under `key`, replacing what was there.
    pub fn write<T: Any + Send + Sync>(&mut self, key: &'static str, value: T) {
        self.data.insert(key, Box::new(value));
    }

    /// The value stored under `key`, if it has type `T`.
    pub fn read<T: Any + Send + Sync>(&self, key: &'static str) -> Option<&T> {
        self.data.get(key).and_then(|v| v.downcast_ref())
    }
}
