//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does
//! for kube-controller-manager: the holder renews the Lease before it expires; others take
//! it over only once it has expired. Two managers can run; one acts.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use kube::Client;

use crate::ControllerError;

/// Upstream's timings (kube-controller-manager's defaults).
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// The Lease's namespace.
    pub namespace: String,
    /// The Lease's name.
    pub name: String,
    /// How long a holder's claim lasts without renewal.
    pub lease_duration: Duration,
    /// How often the holder renews, and others retry.
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// `kube-system/kube-controller-manager`, 15 s leases, 2 s retries.
    pub fn controller_manager() -> Self {
        Self {
            namespace: "kube-system".to_owned(),
            name: "kube-controller-manager".to_owned(),
            lease_duration: Duration::from_secs(15),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// One candidate for the Lease.
pub struct LeaderElection {
    api: Api<Lease>,
    config: LeaseConfig,
    identity: String,
}

fn now() -> MicroTime {
    MicroTime(Timestamp::now())
}

impl LeaderElection {
    /// A candidate named `identity`.
    pub fn new(client: Client, config: LeaseConfig, identity: String) -> Self {
        Self {
            api: Api::namespaced(client, &config.namespace),
            config,
            identity,
        }
    }

    /// Waits until this candidate holds the Lease.
    pub async fn acquire(&self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => {
                    tracing::info!(identity = %self.identity, lease = %self.config.name, "became leader");
                    return;
                }
                Ok(false) => {}
                Err(error) => tracing::debug!(%error, "leader election attempt failed"),
            }
            tokio::time::sleep(self.config.retry_period).await;
        }
    }

    /// Renews the Lease until a renewal fails for longer than the lease lasts; returns
    /// when leadership is lost (the caller must then stop acting).
    pub async fn hold(&self) {
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.config.retry_period).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => last_renewal = tokio::time::Instant::now(),
                Ok(false) => break,
                Err(error) => {
                    tracing::warn!(%error, "renewing the leader Lease failed");
                    if last_renewal.elapsed() >= self.config.lease_duration {
                        break;
                    }
                }
            }
        }
        tracing::warn!(identity = %self.identity, "lost leadership");
    }

    /// One round: take a missing or expired Lease, renew our own; `false` when another
    /// holder's claim is still valid.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, ControllerError> {
        let duration = i32::try_from(self.config.lease_duration.as_secs()).unwrap_or(15);
        let Some(mut lease) = self.api.get_opt(&self.config.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    namespace: Some(self.config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(duration),
                    acquire_time: Some(now()),
                    renew_time: Some(now()),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                Err(error) => Err(error.into()),
            };
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let mine = holder == self.identity;
        let expired = spec.renew_time.as_ref().is_none_or(|renewed| {
            let lasts = spec.lease_duration_seconds.unwrap_or(duration);
            let until = renewed
                .0
                .checked_add(jiff::SignedDuration::from_secs(i64::from(lasts)))
                .unwrap_or(renewed.0);
            until < Timestamp::now()
        });
        if !mine && !holder.is_empty() && !expired {
            return Ok(false);
        }
        if !mine {
            spec.holder_identity = Some(self.identity.clone());
            spec.acquire_time = Some(now());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.lease_duration_seconds = Some(duration);
        spec.renew_time = Some(now());
        match self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            // Someone else wrote first: theirs wins this round.
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}
