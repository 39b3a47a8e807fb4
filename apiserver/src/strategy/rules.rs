//! The strategy of a kind whose rules are plain functions: defaults applied to the object,
//! then validation of the result (of the new object alone on create, of the change on
//! update), every problem in one 422 as upstream's `field.ErrorList` makes it.

use async_trait::async_trait;
use serde_json::Value;

use super::Strategy;
use crate::object::Object;
use crate::status::ApiError;
use crate::storage::Store;
use crate::validation::{self, FieldError};

/// How one kind is defaulted and validated.
pub struct Rules {
    /// The kind, as a 422 names it.
    pub kind: &'static str,
    /// The API group, as a 422 names it.
    pub group: &'static str,
    /// Upstream's `SetDefaults_<Kind>`.
    pub default: fn(&mut Object),
    /// Problems with a new object.
    pub validate: fn(&Value) -> Vec<FieldError>,
    /// Problems with an update from the first object to the second.
    pub validate_update: fn(&Value, &Value) -> Vec<FieldError>,
}

/// Defaults that change nothing.
pub(super) fn no_defaults(_object: &mut Object) {}

impl Rules {
    fn reject(&self, object: &Object, errors: Vec<FieldError>) -> Result<(), ApiError> {
        if errors.is_empty() {
            return Ok(());
        }
        Err(validation::invalid(
            self.kind,
            self.group,
            object.name().unwrap_or_default(),
            errors,
        ))
    }
}

#[async_trait]
impl Strategy for Rules {
    async fn before_create(&self, _store: &dyn Store, object: &mut Object) -> Result<(), ApiError> {
        (self.default)(object);
        let errors = (self.validate)(&Value::Object(object.0.clone()));
        self.reject(object, errors)
    }

    async fn before_update(
        &self,
        _store: &dyn Store,
        old: &Object,
        new: &mut Object,
    ) -> Result<(), ApiError> {
        (self.default)(new);
        let errors =
            (self.validate_update)(&Value::Object(old.0.clone()), &Value::Object(new.0.clone()));
        self.reject(new, errors)
    }
}
