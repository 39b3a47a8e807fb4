//! `/healthz`, `/livez` and `/readyz` as kube-apiserver answers them: named checks, `?verbose`
//! listing each as `[+]name ok` / `[-]name failed: reason withheld`, `?exclude=name`, and a
//! path per check (`/readyz/etcd`). Load balancers, kubeadm-style tooling and kubectl
//! (`get --raw /readyz?verbose`) read exactly this text.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::status::ApiError;
use crate::storage::Store;

/// How long the datastore may take to answer a health probe.
const STORE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A check that can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Ping,
    Log,
    Etcd,
    EtcdReadiness,
    Shutdown,
}

impl Check {
    fn name(self) -> &'static str {
        match self {
            Self::Ping => "ping",
            Self::Log => "log",
            Self::Etcd => "etcd",
            Self::EtcdReadiness => "etcd-readiness",
            Self::Shutdown => "shutdown",
        }
    }
}

/// Which endpoint: each runs its own set of checks.
#[derive(Clone, Copy, Debug)]
enum Endpoint {
    Healthz,
    Livez,
    Readyz,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Self::Healthz => "healthz",
            Self::Livez => "livez",
            Self::Readyz => "readyz",
        }
    }

    fn checks(self) -> &'static [Check] {
        match self {
            Self::Healthz | Self::Livez => &[Check::Ping, Check::Log, Check::Etcd],
            Self::Readyz => &[
                Check::Ping,
                Check::Log,
                Check::Etcd,
                Check::EtcdReadiness,
                Check::Shutdown,
            ],
        }
    }
}

/// What the checks look at.
#[derive(Clone)]
pub struct Health {
    store: Arc<dyn Store>,
    shutting_down: Arc<AtomicBool>,
}

impl Health {
    /// Health of a server over `store`; readiness turns off once `shutting_down` is set, so
    /// load balancers drain before the listener closes.
    pub fn new(store: Arc<dyn Store>, shutting_down: Arc<AtomicBool>) -> Self {
        Self {
            store,
            shutting_down,
        }
    }

    async fn passes(&self, check: Check) -> bool {
        match check {
            Check::Ping | Check::Log => true,
            Check::Etcd | Check::EtcdReadiness => matches!(
                tokio::time::timeout(STORE_PROBE_TIMEOUT, self.store.current_revision()).await,
                Ok(Ok(_))
            ),
            Check::Shutdown => !self.shutting_down.load(Ordering::Acquire),
        }
    }

    /// The routes of all three endpoints.
    pub fn routes(self) -> Router {
        let mut router = Router::new();
        for endpoint in [Endpoint::Healthz, Endpoint::Livez, Endpoint::Readyz] {
            let base = format!("/{}", endpoint.name());
            router = router
                .route(
                    &base,
                    get(
                        move |State(health): State<Health>, RawQuery(query): RawQuery| async move {
                            health.all(endpoint, query.as_deref()).await
                        },
                    ),
                )
                .route(
                    &format!("{base}/{{*check}}"),
                    get(
                        move |State(health): State<Health>, Path(check): Path<String>| async move {
                            health.one(endpoint, &check).await
                        },
                    ),
                );
        }
        router.with_state(self)
    }

    async fn all(&self, endpoint: Endpoint, query: Option<&str>) -> Response {
        let params = QueryFlags::parse(query.unwrap_or_default());
        let mut report = String::new();
        let mut failed = false;
        for check in endpoint.checks() {
            if params.excluded.iter().any(|name| name == check.name()) {
                let _ = writeln!(report, "[+]{} excluded: ok", check.name());
                continue;
            }
            if self.passes(*check).await {
                let _ = writeln!(report, "[+]{} ok", check.name());
            } else {
                failed = true;
                let _ = writeln!(report, "[-]{} failed: reason withheld", check.name());
            }
        }
        if failed {
            let _ = writeln!(report, "{} check failed", endpoint.name());
            return text(StatusCode::INTERNAL_SERVER_ERROR, report);
        }
        if !params.verbose {
            return text(StatusCode::OK, "ok".to_owned());
        }
        let _ = writeln!(report, "{} check passed", endpoint.name());
        text(StatusCode::OK, report)
    }

    async fn one(&self, endpoint: Endpoint, name: &str) -> Response {
        let Some(check) = endpoint.checks().iter().find(|check| check.name() == name) else {
            return ApiError::path_not_found().into_response();
        };
        if self.passes(*check).await {
            text(StatusCode::OK, "ok".to_owned())
        } else {
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal server error: {name} check failed\n"),
            )
        }
    }
}

/// `verbose` and `exclude` from a health query string.
#[derive(Debug, Default, PartialEq, Eq)]
struct QueryFlags {
    verbose: bool,
    excluded: Vec<String>,
}

impl QueryFlags {
    fn parse(query: &str) -> Self {
        let mut flags = Self::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "verbose" => flags.verbose = true,
                "exclude" => flags
                    .excluded
                    .push(value.replace("%2F", "/").replace("%2f", "/")),
                _ => {}
            }
        }
        flags
    }
}

fn text(code: StatusCode, body: String) -> Response {
    (
        code,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::QueryFlags;

    #[test]
    fn parses_verbose_and_repeated_excludes() {
        let flags = QueryFlags::parse("verbose&exclude=etcd&exclude=poststarthook%2Fx");
        assert!(flags.verbose);
        assert_eq!(flags.excluded, ["etcd", "poststarthook/x"]);
        assert_eq!(QueryFlags::parse(""), QueryFlags::default());
    }
}
