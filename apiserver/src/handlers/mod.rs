//! HTTP handlers: health, version, discovery and the generic REST handler.

pub mod discovery;
pub mod health;
pub mod rest;
pub mod version;
