//! The namespaces a run works in: created fresh (named after the run) and deleted at the end.

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::{Client, LoadError};

/// Creates namespace `name`.
pub async fn create(client: &mut Client, name: &str) -> Result<(), LoadError> {
    let body = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "name": name, "labels": { "app.kubernetes.io/managed-by": "ferrokube-loadgen" } }
    });
    client
        .call(
            &format!("create namespace {name}"),
            Method::POST,
            "/api/v1/namespaces",
            Some(Bytes::from(body.to_string())),
            &[StatusCode::CREATED],
        )
        .await?;
    Ok(())
}

/// Deletes namespace `name` (its pods go with it, in the background).
pub async fn delete(client: &mut Client, name: &str) -> Result<(), LoadError> {
    client
        .call(
            &format!("delete namespace {name}"),
            Method::DELETE,
            &format!("/api/v1/namespaces/{name}"),
            None,
            &[StatusCode::OK, StatusCode::ACCEPTED],
        )
        .await?;
    Ok(())
}
