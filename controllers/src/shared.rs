//! What every control loop gets: a client and an event recorder that reports as
//! `kube-controller-manager` does.

use kube::runtime::events::{Recorder, Reporter};
use kube::Client;

/// The client and identity the loops share.
#[derive(Clone)]
pub struct Shared {
    /// The API client.
    pub client: Client,
    /// This instance's identity (`hostname_uuid`), as Lease holder and event reporter.
    pub identity: String,
    /// The cluster CA in PEM, published as `kube-root-ca.crt` in every namespace.
    pub root_ca: Option<String>,
}

impl Shared {
    /// An events.k8s.io recorder for the loop named `controller` (aggregated by kube-rs as
    /// upstream's recorder aggregates repeated events into a series).
    pub fn recorder(&self, controller: &str) -> Recorder {
        Recorder::new(
            self.client.clone(),
            Reporter {
                controller: controller.to_owned(),
                instance: Some(self.identity.clone()),
            },
        )
    }
}
