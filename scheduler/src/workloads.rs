//! What selects a pod (its Services, and the ReplicationController, ReplicaSet or
//! StatefulSet that controls it), for PodTopologySpread's system default constraints:
//! upstream's `helper.DefaultSelector`.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, ReplicationController, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::ResourceExt;

use crate::framework::labels::selector_is_empty;

/// Selectors of the objects that can own or front pods, by `namespace/name`.
#[derive(Default)]
pub struct Workloads {
    services: HashMap<String, BTreeMap<String, String>>,
    controllers: HashMap<String, BTreeMap<String, String>>,
    replica_sets: HashMap<String, LabelSelector>,
    stateful_sets: HashMap<String, LabelSelector>,
}

fn key<K: ResourceExt>(object: &K) -> String {
    format!(
        "{}/{}",
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

impl Workloads {
    /// Records a Service's selector.
    pub fn upsert_service(&mut self, service: &Service) {
        let selector = service
            .spec
            .as_ref()
            .and_then(|s| s.selector.clone())
            .unwrap_or_default();
        self.services.insert(key(service), selector);
    }

    /// Records a ReplicationController's selector.
    pub fn upsert_controller(&mut self, rc: &ReplicationController) {
        let selector = rc
            .spec
            .as_ref()
            .and_then(|s| s.selector.clone())
            .unwrap_or_default();
        self.controllers.insert(key(rc), selector);
    }

    /// Records a ReplicaSet's selector.
    pub fn upsert_replica_set(&mut self, rs: &ReplicaSet) {
        if let Some(spec) = rs.spec.as_ref() {
            self.replica_sets.insert(key(rs), spec.selector.clone());
        }
    }

    /// Records a StatefulSet's selector.
    pub fn upsert_stateful_set(&mut self, set: &StatefulSet) {
        if let Some(spec) = set.spec.as_ref() {
            self.stateful_sets.insert(key(set), spec.selector.clone());
        }
    }

    /// Forgets an object of any kind (`kind` as in the owner reference).
    pub fn remove(&mut self, kind: &str, key: &str) {
        match kind {
            "Service" => self.services.remove(key),
            "ReplicationController" => self.controllers.remove(key),
            "ReplicaSet" => self.replica_sets.remove(key).map(|_| BTreeMap::new()),
            "StatefulSet" => self.stateful_sets.remove(key).map(|_| BTreeMap::new()),
            _ => None,
        };
    }

    /// The selector of the pod's group: its Services' selectors merged, plus its
    /// controller's; `None` when nothing selects it.
    pub fn default_selector(&self, pod: &Pod) -> Option<LabelSelector> {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let prefix = format!("{namespace}/");
        let mut match_labels: BTreeMap<String, String> = BTreeMap::new();
        for (service, selector) in &self.services {
            let selects = service.starts_with(&prefix)
                && !selector.is_empty()
                && selector.iter().all(|(k, v)| labels.get(k) == Some(v));
            if selects {
                match_labels.extend(selector.clone());
            }
        }
        let mut expressions = Vec::new();
        let owner = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true));
        if let Some(owner) = owner {
            let owner_key = format!("{namespace}/{}", owner.name);
            match (owner.api_version.as_str(), owner.kind.as_str()) {
                ("v1", "ReplicationController") => {
                    if let Some(selector) = self.controllers.get(&owner_key) {
                        match_labels.extend(selector.clone());
                    }
                }
                ("apps/v1", "ReplicaSet" | "StatefulSet") => {
                    let selector = if owner.kind == "ReplicaSet" {
                        self.replica_sets.get(&owner_key)
                    } else {
                        self.stateful_sets.get(&owner_key)
                    };
                    if let Some(selector) = selector {
                        match_labels.extend(selector.match_labels.clone().unwrap_or_default());
                        expressions.extend(selector.match_expressions.clone().unwrap_or_default());
                    }
                }
                _ => {}
            }
        }
        let selector = LabelSelector {
            match_labels: Some(match_labels),
            match_expressions: Some(expressions),
        };
        (!selector_is_empty(&selector)).then_some(selector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn services_and_the_controller_make_the_selector() {
        let mut w = Workloads::default();
        let svc: Service =
            serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "ns"},
            "spec": {"selector": {"app": "web"}}}))
            .expect("service");
        w.upsert_service(&svc);
        let other: Service =
            serde_json::from_value(json!({"metadata": {"name": "db", "namespace": "ns"},
            "spec": {"selector": {"app": "db"}}}))
            .expect("service");
        w.upsert_service(&other);
        let rs: ReplicaSet =
            serde_json::from_value(json!({"metadata": {"name": "web-1", "namespace": "ns"},
            "spec": {"selector": {"matchLabels": {"app": "web", "hash": "1"}}}}))
            .expect("rs");
        w.upsert_replica_set(&rs);
        let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "ns",
            "labels": {"app": "web", "hash": "1"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "u", "controller": true}]}}))
        .expect("pod");
        let selector = w.default_selector(&pod).expect("selector");
        let labels = selector.match_labels.unwrap_or_default();
        assert_eq!(labels.get("app").map(String::as_str), Some("web"));
        assert_eq!(labels.get("hash").map(String::as_str), Some("1"));
        let lone: Pod = serde_json::from_value(
            json!({"metadata": {"name": "q", "namespace": "ns", "labels": {"x": "y"}}}),
        )
        .expect("pod");
        assert!(w.default_selector(&lone).is_none());
    }
}
