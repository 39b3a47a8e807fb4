//! Real processes that Ferrokube's tests and benchmarks start on loopback, each in its own
//! temporary directory and stopped when dropped. Nothing here is a mock.
#![forbid(unsafe_code)]

mod etcd;
mod ports;
mod server;

pub use etcd::{EtcdError, EtcdServer};
pub use ports::free_port;
pub use server::{kubectl_binary, KubectlError, ServerError, ServerProcess};
