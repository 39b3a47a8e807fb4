//! The Ferrokube controller manager: the upstream control loops as API clients.
//! Not built yet; see the controller manager issue.
#![forbid(unsafe_code)]
