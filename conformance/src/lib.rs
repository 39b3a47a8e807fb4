//! The Ferrokube conformance runner: official conformance tests against any kubeconfig.
//! Not built yet; see the all-in-one issue.
#![forbid(unsafe_code)]
