//! The Ferrokube scheduler: binds pending pods to nodes, talking to the API server only
//! through the API. Not built yet; see the scheduler issue.
#![forbid(unsafe_code)]
