//! The Ferrokube service proxy: iptables rules from Services and EndpointSlices.
//! Not built yet; see the service proxy issue.
#![forbid(unsafe_code)]
