//! The Ferrokube API server: the Kubernetes REST and watch API, and the storage it is built on.
#![forbid(unsafe_code)]

pub mod apply;
pub mod codec;
pub mod conversion;
pub mod crd;
pub mod field_labels;
pub mod handlers;
pub mod metrics;
pub mod object;
pub mod openapi;
pub mod patch;
pub mod pki;
pub mod registry;
pub mod request_info;
pub mod selector;
pub mod server;
pub mod status;
pub mod storage;
pub mod strategy;
pub mod table;
pub mod validation;
pub mod watch;
