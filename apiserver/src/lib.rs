//! The Ferrokube API server: the Kubernetes REST and watch API, and the storage it is built on.
#![forbid(unsafe_code)]

pub mod storage;
