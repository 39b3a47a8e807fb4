//! Upstream's `Priority` admission plugin for pods: the priority comes from the pod's
//! PriorityClass (or the cluster's global default class), never from the client.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::StatusDetails;
use serde_json::{json, Map, Value};

use super::pod_defaults::object_at;
use crate::object::Object;
use crate::status::{ApiError, Reason};
use crate::storage::{ListRequest, Store};

/// Where PriorityClasses are stored.
const CLASSES: &str = "/registry/priorityclasses/";

/// A class as admission reads it.
struct Class {
    name: String,
    value: i64,
    preemption_policy: Option<Value>,
}

impl Class {
    fn from_stored(value: &[u8]) -> Option<Self> {
        let object: Value = serde_json::from_slice(value).ok()?;
        Some(Self {
            name: object.get("metadata")?.get("name")?.as_str()?.to_owned(),
            value: object.get("value")?.as_i64()?,
            preemption_policy: object.get("preemptionPolicy").cloned(),
        })
    }
}

fn forbidden(pod: &Object, why: String) -> ApiError {
    let name = pod.name().unwrap_or_default().to_owned();
    ApiError::new(
        Reason::Forbidden,
        format!("pods {name:?} is forbidden: {why}"),
    )
    .with_details(StatusDetails {
        name: Some(name),
        kind: Some("pods".to_owned()),
        ..StatusDetails::default()
    })
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(Reason::InternalError, error.to_string())
}

/// The class named `name`, if it exists.
async fn named(store: &dyn Store, name: &str) -> Result<Option<Class>, ApiError> {
    let stored = store
        .get(&format!("{CLASSES}{name}"), None)
        .await
        .map_err(internal)?;
    Ok(stored.and_then(|kv| Class::from_stored(&kv.value)))
}

/// The global default class; of several, the lowest value, as upstream picks.
async fn global_default(store: &dyn Store) -> Result<Option<Class>, ApiError> {
    let page = store
        .list(ListRequest {
            prefix: CLASSES.to_owned(),
            ..ListRequest::default()
        })
        .await
        .map_err(internal)?;
    Ok(page
        .items
        .iter()
        .filter(|kv| {
            serde_json::from_slice::<Value>(&kv.value)
                .ok()
                .and_then(|object| object.get("globalDefault").and_then(Value::as_bool))
                == Some(true)
        })
        .filter_map(|kv| Class::from_stored(&kv.value))
        .min_by_key(|class| class.value))
}

/// Sets `spec.priority` (and the class name and preemption policy) of a pod being created.
pub(super) async fn admit(store: &dyn Store, pod: &mut Object) -> Result<(), ApiError> {
    let spec: &Map<String, Value> = object_at(&mut pod.0, "spec");
    let asked = spec
        .get("priorityClassName")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .map(str::to_owned);
    let given = spec.get("priority").and_then(Value::as_i64);
    let given_policy = spec
        .get("preemptionPolicy")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let class = match &asked {
        Some(name) => match named(store, name).await? {
            Some(class) => Some(class),
            None => {
                return Err(forbidden(
                    pod,
                    format!("no PriorityClass with name {name} was found"),
                ))
            }
        },
        None => global_default(store).await?,
    };
    let computed = class.as_ref().map_or(0, |class| class.value);
    if given.is_some_and(|given| given != computed) {
        return Err(forbidden(
            pod,
            format!(
                "the integer value of priority ({}) must not be provided in pod spec; priority admission controller computed {computed} from the given PriorityClass name",
                given.unwrap_or_default()
            ),
        ));
    }
    let policy = class
        .as_ref()
        .and_then(|class| class.preemption_policy.as_ref())
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let (Some(given), Some(computed)) = (&given_policy, &policy) {
        if given != computed {
            return Err(forbidden(
                pod,
                format!(
                    "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {computed} from the given PriorityClass name"
                ),
            ));
        }
    }
    let spec = object_at(&mut pod.0, "spec");
    spec.insert("priority".to_owned(), json!(computed));
    if let Some(class) = class {
        spec.insert("priorityClassName".to_owned(), json!(class.name));
    }
    if let Some(policy) = policy {
        spec.insert("preemptionPolicy".to_owned(), json!(policy));
    }
    Ok(())
}
