//! API errors as clients expect them: an HTTP code with a `meta/v1 Status` body carrying the
//! upstream `reason`, so kubectl and client libraries classify them exactly as they would
//! kube-apiserver's.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, Status, StatusDetails};

/// The machine-readable reasons of upstream's `StatusReason`, each with its HTTP code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// 400: the request itself is malformed.
    BadRequest,
    /// 403: the request is refused (e.g. creating in a terminating namespace).
    Forbidden,
    /// 404: the resource or path does not exist.
    NotFound,
    /// 405: the verb is not supported on this resource.
    MethodNotAllowed,
    /// 406: no media type the client accepts can be served.
    NotAcceptable,
    /// 409: the object already exists.
    AlreadyExists,
    /// 409: a write raced another (stale resourceVersion).
    Conflict,
    /// 410: the requested resourceVersion was compacted.
    Expired,
    /// 413: the body is larger than the server accepts.
    RequestEntityTooLarge,
    /// 415: the body's content type is not accepted for this verb.
    UnsupportedMediaType,
    /// 422: the object fails validation.
    Invalid,
    /// 500: the server failed.
    InternalError,
    /// 503: the server is not ready (e.g. shutting down).
    ServiceUnavailable,
    /// 504: the request did not finish in time.
    Timeout,
}

impl Reason {
    /// The reason's wire name and HTTP code.
    pub fn wire(self) -> (&'static str, StatusCode) {
        match self {
            Self::BadRequest => ("BadRequest", StatusCode::BAD_REQUEST),
            Self::Forbidden => ("Forbidden", StatusCode::FORBIDDEN),
            Self::NotFound => ("NotFound", StatusCode::NOT_FOUND),
            Self::MethodNotAllowed => ("MethodNotAllowed", StatusCode::METHOD_NOT_ALLOWED),
            Self::NotAcceptable => ("NotAcceptable", StatusCode::NOT_ACCEPTABLE),
            Self::AlreadyExists => ("AlreadyExists", StatusCode::CONFLICT),
            Self::Conflict => ("Conflict", StatusCode::CONFLICT),
            Self::Expired => ("Expired", StatusCode::GONE),
            Self::RequestEntityTooLarge => ("RequestEntityTooLarge", StatusCode::PAYLOAD_TOO_LARGE),
            Self::UnsupportedMediaType => {
                ("UnsupportedMediaType", StatusCode::UNSUPPORTED_MEDIA_TYPE)
            }
            Self::Invalid => ("Invalid", StatusCode::UNPROCESSABLE_ENTITY),
            Self::InternalError => ("InternalError", StatusCode::INTERNAL_SERVER_ERROR),
            Self::ServiceUnavailable => ("ServiceUnavailable", StatusCode::SERVICE_UNAVAILABLE),
            Self::Timeout => ("Timeout", StatusCode::GATEWAY_TIMEOUT),
        }
    }
}

/// An error answered to a client as a `Status`.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// Why, for machines.
    pub reason: Reason,
    /// Why, for people.
    pub message: String,
    /// The object concerned and field-level causes, when known.
    pub details: Option<Box<StatusDetails>>,
}

impl ApiError {
    /// An error with no details.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// Adds the object concerned.
    pub fn with_details(mut self, details: StatusDetails) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// What kube-apiserver answers for a path it does not serve.
    pub fn path_not_found() -> Self {
        Self {
            details: Some(Box::default()),
            ..Self::new(
                Reason::NotFound,
                "the server could not find the requested resource",
            )
        }
    }

    /// The `Status` object for the body.
    pub fn status(&self) -> Status {
        let (reason, code) = self.reason.wire();
        Status {
            code: Some(i32::from(code.as_u16())),
            details: self.details.as_deref().cloned(),
            message: Some(self.message.clone()),
            metadata: ListMeta::default(),
            reason: Some(reason.to_owned()),
            status: Some("Failure".to_owned()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (_, code) = self.reason.wire();
        let body = serde_json::to_vec(&self.status()).unwrap_or_default();
        (
            code,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::ApiError;

    #[test]
    fn path_not_found_matches_upstream_body() {
        let body = serde_json::to_value(ApiError::path_not_found().status()).ok();
        let want = serde_json::json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "the server could not find the requested resource",
            "reason": "NotFound",
            "details": {},
            "code": 404
        });
        assert_eq!(body, Some(want));
    }
}
