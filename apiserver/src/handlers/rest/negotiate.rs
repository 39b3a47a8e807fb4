//! The response shape of reads: `Accept` negotiation (406 when nothing acceptable can be
//! served) and the transform it asks for (`Table`, `PartialObjectMetadata[List]`), with
//! the `includeObject` table option.

use axum::http::header;
use serde_json::Value;

use super::{query_value, RestRequest};
use crate::object::Object;
use crate::status::ApiError;
use crate::table::{self, Negotiated, Transform};

impl RestRequest {
    /// Negotiates a get or list (`stream` false) or a watch (`stream` true) response.
    pub(super) fn negotiate(&self, stream: bool) -> Result<Negotiated, ApiError> {
        let accept = self
            .headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        table::negotiate(accept, self.custom.is_some(), stream)
    }

    /// How to transform the negotiated response; `None` to send the object(s) as they are.
    pub(super) fn transform(&self, negotiated: &Negotiated) -> Result<Option<Transform>, ApiError> {
        let include_object = query_value(&self.query, "includeObject");
        Transform::new(
            negotiated.target,
            include_object.as_deref(),
            &self.resource,
            self.custom.as_deref(),
        )
    }
}

impl RestRequest {
    /// A `scale` subresource's `Scale` in the shape the client negotiated (`Table`,
    /// `PartialObjectMetadata`), or `None` to send it as it is.
    pub(super) fn scale_response(&self, scale: &Value) -> Result<Option<Value>, ApiError> {
        let negotiated = self.negotiate(false)?;
        let include_object = query_value(&self.query, "includeObject");
        let Some(transform) = Transform::scale(negotiated.target, include_object.as_deref())?
        else {
            return Ok(None);
        };
        let scale = Object(scale.as_object().cloned().unwrap_or_default());
        transform.single(&scale, &scale).map(Some)
    }
}
