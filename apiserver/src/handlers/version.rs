//! `/version`: the Kubernetes version we serve, in the shape kubectl and client libraries
//! parse to pick API behaviour (and kubectl's version-skew warning).

use axum::Json;
use serde::Serialize;

/// The Kubernetes minor version whose API we serve (the workspace's k8s-openapi feature).
pub const KUBERNETES_MINOR: &str = "35";

/// Upstream's `version.Info`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    major: &'static str,
    minor: &'static str,
    emulation_major: &'static str,
    emulation_minor: &'static str,
    min_compatibility_major: &'static str,
    min_compatibility_minor: &'static str,
    git_version: String,
    git_commit: &'static str,
    git_tree_state: &'static str,
    build_date: &'static str,
    go_version: &'static str,
    compiler: &'static str,
    platform: String,
}

impl VersionInfo {
    /// This build's version.
    pub fn current() -> Self {
        Self {
            major: "1",
            minor: KUBERNETES_MINOR,
            emulation_major: "1",
            emulation_minor: KUBERNETES_MINOR,
            min_compatibility_major: "1",
            min_compatibility_minor: "34",
            git_version: format!(
                "v1.{KUBERNETES_MINOR}.0+ferrokube-{}",
                env!("CARGO_PKG_VERSION")
            ),
            git_commit: "",
            git_tree_state: "clean",
            build_date: "1970-01-01T00:00:00Z",
            go_version: "n/a",
            compiler: "rustc",
            platform: format!("{}/{}", std::env::consts::OS, go_arch()),
        }
    }
}

/// Go's architecture names, which clients compare against.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// `GET /version`.
pub async fn get() -> Json<VersionInfo> {
    Json(VersionInfo::current())
}
