//! `ferrokube-loadgen`: drives a running API server the way real clients do (TLS with a
//! client certificate, HTTP/2 or pooled HTTP/1.1) and measures pod creates, gets, large
//! lists and watch fan-out, plus etcd's raw put rate as the reference for etcd-backed
//! servers. The binary prints one line per scenario.
#![forbid(unsafe_code)]

pub mod client;
mod error;
pub mod kubeconfig;
pub mod pod;
pub mod report;
pub mod rss;
pub mod scenario;
mod stats;
pub mod workload;

pub use client::{Client, Endpoint, Pool, Protocol};
pub use error::LoadError;
pub use kubeconfig::Credentials;
pub use pod::PodTemplate;
pub use stats::Percentiles;
