//! Per-namespace defaults, as upstream's serviceaccounts and root-ca-cert-publisher
//! controllers keep them: a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap
//! (the cluster CA) in every active namespace, recreated if deleted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{ready, BoxFuture};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use crate::{Change, ControllerError, Informers, Shared};

const DEFAULT_ACCOUNT: &str = "default";
const ROOT_CA_MAP: &str = "kube-root-ca.crt";

/// The loop, subscribed to namespaces and to the objects it keeps.
pub fn build(informers: &mut Informers, shared: Shared) -> BoxFuture<'static, ()> {
    let namespaces = informers.subscribe::<Namespace>();
    let accounts = informers.subscribe::<ServiceAccount>();
    let maps = informers.subscribe::<ConfigMap>();
    let context = Arc::new(Context {
        shared,
        accounts: accounts.store.clone(),
        maps: maps.store.clone(),
    });
    let store = namespaces.store.clone();
    Controller::for_shared_stream(namespaces.applied(), store)
        .reconcile_on(accounts.map_to(|change: &Change<ServiceAccount>| {
            change.object().namespace().map(|ns| ObjectRef::new(&ns))
        }))
        .reconcile_on(maps.map_to(|change: &Change<ConfigMap>| {
            change.object().namespace().map(|ns| ObjectRef::new(&ns))
        }))
        .run(reconcile, error_policy, context)
        .for_each(|_| ready(()))
        .boxed()
}

struct Context {
    shared: Shared,
    accounts: kube::runtime::reflector::Store<ServiceAccount>,
    maps: kube::runtime::reflector::Store<ConfigMap>,
}

async fn reconcile(
    namespace: Arc<Namespace>,
    context: Arc<Context>,
) -> Result<Action, ControllerError> {
    let name = namespace.name_any();
    let terminating = namespace.metadata.deletion_timestamp.is_some()
        || namespace
            .status
            .as_ref()
            .and_then(|status| status.phase.as_deref())
            == Some("Terminating");
    if terminating {
        return Ok(Action::await_change());
    }
    let client = context.shared.client.clone();
    let account_ref = ObjectRef::<ServiceAccount>::new(DEFAULT_ACCOUNT).within(&name);
    if context.accounts.get(&account_ref).is_none() {
        let account = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(DEFAULT_ACCOUNT.to_owned()),
                namespace: Some(name.clone()),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        };
        create(Api::namespaced(client.clone(), &name), &account).await?;
    }
    if let Some(ca) = &context.shared.root_ca {
        let map_ref = ObjectRef::<ConfigMap>::new(ROOT_CA_MAP).within(&name);
        let current = context.maps.get(&map_ref);
        let wanted: BTreeMap<String, String> = [("ca.crt".to_owned(), ca.clone())].into();
        if current.as_ref().and_then(|map| map.data.as_ref()) != Some(&wanted) {
            let api: Api<ConfigMap> = Api::namespaced(client, &name);
            let map = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(ROOT_CA_MAP.to_owned()),
                    namespace: Some(name.clone()),
                    annotations: Some(
                        [(
                            "kubernetes.io/description".to_owned(),
                            "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.".to_owned(),
                        )]
                        .into(),
                    ),
                    ..ObjectMeta::default()
                },
                data: Some(wanted),
                ..ConfigMap::default()
            };
            match current {
                None => create(api, &map).await?,
                Some(existing) => {
                    let mut map = map;
                    map.metadata.resource_version = existing.resource_version();
                    api.replace(ROOT_CA_MAP, &PostParams::default(), &map)
                        .await?;
                }
            }
        }
    }
    Ok(Action::await_change())
}

/// Creates `object`; one that exists already is fine (another writer got there first).
async fn create<K>(api: Api<K>, object: &K) -> Result<(), ControllerError>
where
    K: kube::Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.create(&PostParams::default(), object).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        // The namespace started terminating meanwhile: nothing to do there any more.
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(()),
        Err(error) => Err(error.into()),
    }
}

fn error_policy(
    _namespace: Arc<Namespace>,
    error: &ControllerError,
    _context: Arc<Context>,
) -> Action {
    tracing::debug!(%error, "serviceaccount reconcile failed");
    Action::requeue(Duration::from_secs(2))
}
