//! Built-in objects as kubectl's generators and Helm send them.

use std::collections::BTreeMap;

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::batch::v1 as batch;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{json, Value};

use super::{decode, envelope, string};

/// Metadata as client-go's gogo encoder writes it for a fresh object: every non-pointer
/// string (empty ones too) and an empty `creationTimestamp`.
fn fresh_meta(name: &str, labels: &[(&str, &str)]) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: string(name),
        generate_name: string(""),
        namespace: string(""),
        self_link: string(""),
        uid: string(""),
        resource_version: string(""),
        generation: Some(0),
        creation_timestamp: Some(meta::Time::default()),
        labels: labels
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
        ..Default::default()
    }
}

#[test]
fn config_map() -> Result<(), String> {
    let config_map = core::ConfigMap {
        metadata: Some(fresh_meta("c", &[])),
        data: BTreeMap::from([("a".to_owned(), "b".to_owned())]),
        binary_data: BTreeMap::from([("bin".to_owned(), vec![0u8, 1, 2, 255])]),
        immutable: None,
    };
    let object = decode(&envelope("v1", "ConfigMap", &config_map), "v1", "ConfigMap")?;
    assert_eq!(
        Value::Object(object),
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c"},
            "data": {"a": "b"},
            "binaryData": {"bin": "AAEC/w=="},
        })
    );
    Ok(())
}

#[test]
fn secret_data_is_base64() -> Result<(), String> {
    let secret = core::Secret {
        metadata: Some(fresh_meta("s", &[])),
        immutable: Some(false),
        data: BTreeMap::from([
            ("password".to_owned(), b"hunter2".to_vec()),
            ("empty".to_owned(), Vec::new()),
        ]),
        string_data: BTreeMap::new(),
        r#type: string("Opaque"),
    };
    let object = decode(&envelope("v1", "Secret", &secret), "v1", "Secret")?;
    assert_eq!(
        Value::Object(object),
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            // `*bool immutable`: an explicit false stays.
            "immutable": false,
            "data": {"empty": "", "password": "aHVudGVyMg=="},
            "type": "Opaque",
        })
    );
    Ok(())
}

#[test]
fn namespace() -> Result<(), String> {
    let namespace = core::Namespace {
        metadata: Some(fresh_meta("team-a", &[("team", "a")])),
        spec: Some(core::NamespaceSpec::default()),
        status: Some(core::NamespaceStatus {
            phase: string(""),
            conditions: Vec::new(),
        }),
    };
    let object = decode(&envelope("v1", "Namespace", &namespace), "v1", "Namespace")?;
    assert_eq!(
        Value::Object(object),
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "team-a", "labels": {"team": "a"}},
            "spec": {},
            "status": {},
        })
    );
    Ok(())
}

/// A container as `kubectl create deployment --image` builds it.
fn container(image: &str) -> core::Container {
    core::Container {
        name: string("web"),
        image: string(image),
        working_dir: string(""),
        resources: Some(core::ResourceRequirements {
            limits: BTreeMap::from([(
                "memory".to_owned(),
                Quantity {
                    string: string("128Mi"),
                },
            )]),
            ..Default::default()
        }),
        ports: vec![core::ContainerPort {
            name: string(""),
            host_port: Some(0),
            container_port: Some(0),
            protocol: string("TCP"),
            host_ip: string(""),
        }],
        termination_message_path: string(""),
        image_pull_policy: string(""),
        stdin: Some(false),
        tty: Some(false),
        ..Default::default()
    }
}

#[test]
fn deployment_with_zero_replicas() -> Result<(), String> {
    let deployment = apps::Deployment {
        metadata: Some(fresh_meta("web", &[("app", "web")])),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(0),
            selector: Some(meta::LabelSelector {
                match_labels: BTreeMap::from([("app".to_owned(), "web".to_owned())]),
                match_expressions: Vec::new(),
            }),
            template: Some(core::PodTemplateSpec {
                metadata: Some(fresh_meta("", &[("app", "web")])),
                spec: Some(core::PodSpec {
                    containers: vec![container("nginx")],
                    restart_policy: string(""),
                    dns_policy: string(""),
                    service_account_name: string(""),
                    host_network: Some(false),
                    ..Default::default()
                }),
            }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: string(""),
                rolling_update: None,
            }),
            min_ready_seconds: Some(0),
            paused: Some(false),
            ..Default::default()
        }),
        status: Some(apps::DeploymentStatus {
            observed_generation: Some(0),
            replicas: Some(0),
            ..Default::default()
        }),
    };
    let object = decode(
        &envelope("apps/v1", "Deployment", &deployment),
        "apps/v1",
        "Deployment",
    )?;
    assert_eq!(
        Value::Object(object),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                // `*int32 replicas`: zero is meant.
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{
                        "name": "web",
                        "image": "nginx",
                        // `containerPort` has no omitempty.
                        "ports": [{"containerPort": 0, "protocol": "TCP"}],
                        "resources": {"limits": {"memory": "128Mi"}},
                    }]},
                },
                "strategy": {},
            },
            "status": {},
        })
    );
    Ok(())
}

#[test]
fn pod_keeps_pointer_zeros_and_inlines_embedded_structs() -> Result<(), String> {
    let pod = core::Pod {
        metadata: Some(meta::ObjectMeta {
            name: string("p"),
            namespace: string("default"),
            creation_timestamp: Some(meta::Time {
                seconds: Some(1_700_000_000),
                nanos: Some(0),
            }),
            ..Default::default()
        }),
        spec: Some(core::PodSpec {
            containers: vec![core::Container {
                name: string("c"),
                image: string("busybox"),
                command: vec!["sh".to_owned(), "-c".to_owned(), "sleep 1".to_owned()],
                security_context: Some(core::SecurityContext {
                    run_as_user: Some(0),
                    allow_privilege_escalation: Some(false),
                    ..Default::default()
                }),
                readiness_probe: Some(core::Probe {
                    handler: Some(core::ProbeHandler {
                        http_get: Some(core::HttpGetAction {
                            path: string("/healthz"),
                            port: Some(IntOrString {
                                r#type: Some(1),
                                int_val: Some(0),
                                str_val: string("http"),
                            }),
                            host: string(""),
                            scheme: string("HTTP"),
                            http_headers: Vec::new(),
                        }),
                        ..Default::default()
                    }),
                    period_seconds: Some(5),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            volumes: vec![core::Volume {
                name: string("config"),
                volume_source: Some(core::VolumeSource {
                    config_map: Some(core::ConfigMapVolumeSource {
                        local_object_reference: Some(core::LocalObjectReference {
                            name: string("settings"),
                        }),
                        default_mode: Some(0o644),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            }],
            automount_service_account_token: Some(false),
            termination_grace_period_seconds: Some(0),
            ..Default::default()
        }),
        status: None,
    };
    let object = decode(&envelope("v1", "Pod", &pod), "v1", "Pod")?;
    assert_eq!(
        Value::Object(object),
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "p",
                "namespace": "default",
                "creationTimestamp": "2023-11-14T22:13:20Z",
            },
            "spec": {
                "volumes": [{"name": "config", "configMap": {"name": "settings", "defaultMode": 420}}],
                "containers": [{
                    "name": "c",
                    "image": "busybox",
                    "command": ["sh", "-c", "sleep 1"],
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                        "periodSeconds": 5,
                    },
                    "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": false},
                }],
                "terminationGracePeriodSeconds": 0,
                "automountServiceAccountToken": false,
            },
        })
    );
    Ok(())
}

#[test]
fn service_external_ips_and_target_ports() -> Result<(), String> {
    let port = |name: &str, port: i32, target: IntOrString| core::ServicePort {
        name: string(name),
        protocol: string("TCP"),
        port: Some(port),
        target_port: Some(target),
        node_port: Some(0),
        app_protocol: None,
    };
    let service = core::Service {
        metadata: Some(fresh_meta("svc", &[("app", "svc")])),
        spec: Some(core::ServiceSpec {
            ports: vec![
                port(
                    "80-8080",
                    80,
                    IntOrString {
                        r#type: Some(0),
                        int_val: Some(8080),
                        str_val: string(""),
                    },
                ),
                port(
                    "https",
                    443,
                    IntOrString {
                        r#type: Some(1),
                        int_val: Some(0),
                        str_val: string("https"),
                    },
                ),
            ],
            selector: BTreeMap::from([("app".to_owned(), "svc".to_owned())]),
            cluster_ip: string(""),
            r#type: string("ClusterIP"),
            external_ips: vec!["192.0.2.10".to_owned()],
            session_affinity: string(""),
            load_balancer_ip: string(""),
            external_name: string(""),
            external_traffic_policy: string(""),
            health_check_node_port: Some(0),
            publish_not_ready_addresses: Some(false),
            ..Default::default()
        }),
        status: Some(core::ServiceStatus {
            load_balancer: Some(core::LoadBalancerStatus::default()),
            conditions: Vec::new(),
        }),
    };
    let object = decode(&envelope("v1", "Service", &service), "v1", "Service")?;
    assert_eq!(
        Value::Object(object),
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "svc", "labels": {"app": "svc"}},
            "spec": {
                "ports": [
                    {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080},
                    {"name": "https", "protocol": "TCP", "port": 443, "targetPort": "https"},
                ],
                "selector": {"app": "svc"},
                "type": "ClusterIP",
                "externalIPs": ["192.0.2.10"],
            },
            "status": {"loadBalancer": {}},
        })
    );
    Ok(())
}

#[test]
fn job_keeps_pointer_zeros() -> Result<(), String> {
    let job = batch::Job {
        metadata: Some(fresh_meta("once", &[])),
        spec: Some(batch::JobSpec {
            backoff_limit: Some(0),
            ttl_seconds_after_finished: Some(0),
            template: Some(core::PodTemplateSpec {
                metadata: Some(fresh_meta("", &[])),
                spec: Some(core::PodSpec {
                    containers: vec![core::Container {
                        name: string("once"),
                        image: string("busybox"),
                        ..Default::default()
                    }],
                    restart_policy: string("Never"),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }),
        status: Some(batch::JobStatus {
            active: Some(0),
            succeeded: Some(0),
            failed: Some(0),
            ..Default::default()
        }),
    };
    let object = decode(&envelope("batch/v1", "Job", &job), "batch/v1", "Job")?;
    assert_eq!(
        Value::Object(object),
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "once"},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "metadata": {},
                    "spec": {
                        "containers": [{"name": "once", "image": "busybox", }],
                        "restartPolicy": "Never",
                    },
                },
                "ttlSecondsAfterFinished": 0,
            },
            "status": {},
        })
    );
    Ok(())
}

#[test]
fn delete_options_in_any_group_version() -> Result<(), String> {
    let options = meta::DeleteOptions {
        grace_period_seconds: Some(0),
        preconditions: Some(meta::Preconditions {
            uid: string("1234"),
            resource_version: None,
        }),
        orphan_dependents: None,
        propagation_policy: string("Background"),
        dry_run: Vec::new(),
        ignore_store_read_error_with_cluster_breaking_potential: None,
    };
    let body = envelope("apps/v1", "DeleteOptions", &options);
    let object = super::decode_protobuf(
        &body,
        &super::Expected {
            api_version: "apps/v1",
            kind: "DeleteOptions",
        },
    )
    .map_err(|error| error.to_string())?
    .object;
    assert_eq!(
        Value::Object(object),
        json!({
            "apiVersion": "apps/v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": "1234"},
            "propagationPolicy": "Background",
        })
    );
    Ok(())
}
