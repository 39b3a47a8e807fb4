use super::*;

fn identity(kind: &str, namespace: &str, name: &str, uid: &str) -> Identity {
    Identity {
        kind: kind.to_owned(),
        api_version: "v1".to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        uid: uid.to_owned(),
    }
}

fn reference(owner: &Identity, block: Option<bool>) -> OwnerReference {
    OwnerReference {
        api_version: owner.api_version.clone(),
        kind: owner.kind.clone(),
        name: owner.name.clone(),
        uid: owner.uid.clone(),
        block_owner_deletion: block,
        controller: None,
    }
}

fn upsert(graph: &mut Graph, who: &Identity, owners: Vec<OwnerReference>) -> Vec<Effect> {
    upsert_with(graph, who, owners, Lifecycle::default())
}

fn upsert_with(
    graph: &mut Graph,
    who: &Identity,
    owners: Vec<OwnerReference>,
    lifecycle: Lifecycle,
) -> Vec<Effect> {
    graph.process(GraphEvent::Upsert(Observed {
        identity: who.clone(),
        owners,
        lifecycle,
    }))
}

fn deleted(graph: &mut Graph, who: &Identity) -> Vec<Effect> {
    graph.process(GraphEvent::Delete(Observed {
        identity: who.clone(),
        owners: Vec::new(),
        lifecycle: Lifecycle::default(),
    }))
}

fn attempt(uid: &str) -> Effect {
    Effect::AttemptToDelete(uid.to_owned())
}

#[test]
fn an_unseen_owner_becomes_a_virtual_node_to_verify() {
    let mut graph = Graph::default();
    let owner = identity("ConfigMap", "default", "parent", "o1");
    let child = identity("ConfigMap", "default", "child", "c1");
    let effects = upsert(&mut graph, &child, vec![reference(&owner, None)]);
    assert_eq!(effects, [attempt("o1")]);
    let virtual_owner = graph.node("o1").expect("virtual owner");
    assert!(virtual_owner.virtual_node && !virtual_owner.is_observed());
    assert!(virtual_owner.dependents.contains("c1"));

    // Observed later with matching coordinates: nothing to re-examine.
    assert!(upsert(&mut graph, &owner, Vec::new()).is_empty());
    assert!(graph.node("o1").is_some_and(|node| node.is_observed()));
}

#[test]
fn a_deleted_owner_sends_its_dependents_to_the_workers() {
    let mut graph = Graph::default();
    let owner = identity("ConfigMap", "default", "parent", "o1");
    let child = identity("ConfigMap", "default", "child", "c1");
    upsert(&mut graph, &owner, Vec::new());
    assert!(upsert(&mut graph, &child, vec![reference(&owner, None)]).is_empty());
    assert_eq!(deleted(&mut graph, &owner), [attempt("c1")]);
    assert!(graph.node("o1").is_none());
    assert!(graph.absent.has(&owner));
}

#[test]
fn foreground_deletion_queues_the_dependents_and_the_owner() {
    let mut graph = Graph::default();
    let owner = identity("ConfigMap", "default", "parent", "o1");
    let child = identity("ConfigMap", "default", "child", "c1");
    upsert(&mut graph, &owner, Vec::new());
    upsert(&mut graph, &child, vec![reference(&owner, Some(true))]);
    let deleting = Lifecycle {
        being_deleted: true,
        foreground: true,
        orphan: false,
    };
    let effects = upsert_with(&mut graph, &owner, Vec::new(), deleting);
    assert_eq!(effects, [attempt("c1"), attempt("o1")]);
    assert!(graph.node("o1").is_some_and(|n| n.deleting_dependents));
    assert_eq!(graph.blocking_dependents("o1").len(), 1);
    // The same state seen again is no transition.
    assert!(upsert_with(&mut graph, &owner, Vec::new(), deleting).is_empty());
    // The dependent going away lets the owner finish.
    assert_eq!(deleted(&mut graph, &child), [attempt("o1")]);
}

#[test]
fn orphan_deletion_queues_the_owner_for_orphaning() {
    let mut graph = Graph::default();
    let owner = identity("ConfigMap", "default", "parent", "o1");
    upsert(&mut graph, &owner, Vec::new());
    let orphaning = Lifecycle {
        being_deleted: true,
        orphan: true,
        foreground: false,
    };
    assert_eq!(
        upsert_with(&mut graph, &owner, Vec::new(), orphaning),
        [Effect::AttemptToOrphan("o1".to_owned())]
    );
}

#[test]
fn a_verified_absent_virtual_owner_is_removed() {
    let mut graph = Graph::default();
    let owner = identity("ConfigMap", "default", "gone", "o1");
    let child = identity("ConfigMap", "default", "child", "c1");
    upsert(&mut graph, &child, vec![reference(&owner, None)]);
    let effects = graph.process(GraphEvent::VirtualDelete(owner.clone()));
    assert_eq!(effects, [attempt("c1")]);
    assert!(graph.node("o1").is_none());
    assert!(graph.absent.has(&owner));
}

#[test]
fn dropping_a_blocking_reference_wakes_the_owner() {
    let mut graph = Graph::default();
    let owner = identity("ConfigMap", "default", "parent", "o1");
    let child = identity("ConfigMap", "default", "child", "c1");
    upsert(&mut graph, &owner, Vec::new());
    upsert(&mut graph, &child, vec![reference(&owner, Some(true))]);
    assert_eq!(
        upsert(&mut graph, &child, vec![reference(&owner, Some(false))]),
        [attempt("o1")]
    );
    assert!(graph.blocking_dependents("o1").is_empty());
    assert!(upsert(&mut graph, &child, Vec::new()).is_empty());
    assert!(graph.dependents("o1").is_empty());
}

#[test]
fn an_owner_in_another_namespace_is_reported() {
    let mut graph = Graph::default();
    let owner = identity("ConfigMap", "a", "parent", "o1");
    let child = identity("ConfigMap", "b", "child", "c1");
    upsert(&mut graph, &owner, Vec::new());
    let effects = upsert(&mut graph, &child, vec![reference(&owner, None)]);
    assert_eq!(
        effects,
        [
            Effect::InvalidNamespace {
                dependent: Box::new(child.clone()),
                owner: Box::new(identity("ConfigMap", "b", "parent", "o1")),
            },
            attempt("c1"),
        ]
    );
}

#[test]
fn a_virtual_owner_named_two_ways_keeps_the_other_identity() {
    let mut graph = Graph::default();
    let right = identity("ConfigMap", "default", "parent", "o1");
    let wrong = Identity {
        kind: "Secret".to_owned(),
        ..right.clone()
    };
    let first = identity("ConfigMap", "default", "first", "c1");
    let second = identity("ConfigMap", "default", "second", "c2");
    upsert(&mut graph, &first, vec![reference(&right, None)]);
    upsert(&mut graph, &second, vec![reference(&wrong, None)]);
    // The coordinates the first dependent gave are verified absent: only it is affected,
    // and the node lives on under the other coordinates.
    let effects = graph.process(GraphEvent::VirtualDelete(right.clone()));
    assert_eq!(
        effects,
        [attempt("c1"), Effect::AttemptToDeleteLater("o1".to_owned())]
    );
    assert_eq!(graph.node("o1").map(|n| n.identity), Some(wrong));
}

#[test]
fn references_diff_by_uid() {
    let a = identity("ConfigMap", "default", "a", "a");
    let b = identity("ConfigMap", "default", "b", "b");
    let c = identity("ConfigMap", "default", "c", "c");
    let (added, removed, changed) = diff_references(
        &[reference(&a, None), reference(&b, None)],
        &[reference(&b, Some(true)), reference(&c, None)],
    );
    assert_eq!(added, [reference(&c, None)]);
    assert_eq!(removed, [reference(&a, None)]);
    assert_eq!(changed, [(reference(&b, None), reference(&b, Some(true)))]);
}
