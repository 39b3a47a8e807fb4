//! Sets of field paths, as a tree: a node is a member (the path itself is owned) and/or has
//! children. This is the shape FieldsV1 serializes (`"."` marks a member that also has
//! children).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::path::{Path, PathElement};

/// A set of paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    member: bool,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// Whether no path is in the set.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    /// Adds `path`.
    pub fn insert(&mut self, path: &[PathElement]) {
        let mut node = self;
        for element in path {
            node = node.children.entry(element.clone()).or_default();
        }
        node.member = true;
    }

    /// Whether `path` is in the set.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        let mut node = self;
        for element in path {
            match node.children.get(element) {
                Some(child) => node = child,
                None => return false,
            }
        }
        node.member
    }

    /// The subtree under one element (for walks that follow an object).
    pub fn child(&self, element: &PathElement) -> Option<&FieldSet> {
        self.children.get(element)
    }

    /// Whether the root of this subtree is a member.
    pub fn is_member(&self) -> bool {
        self.member
    }

    /// Paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.member |= other.member;
        for (element, child) in &other.children {
            let merged = match out.children.get(element) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(element.clone(), merged);
        }
        out.pruned()
    }

    /// Paths in this set but not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (element, child) in &self.children {
            let rest = match other.children.get(element) {
                Some(theirs) => child.difference(theirs),
                None => child.clone(),
            };
            out.children.insert(element.clone(), rest);
        }
        out.pruned()
    }

    /// Paths in this set that neither are in `other` nor lie below a member of it (how
    /// upstream filters out ignored fields such as `metadata.resourceVersion` or `status`).
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        if other.member {
            return FieldSet::default();
        }
        let mut out = FieldSet {
            member: self.member,
            children: BTreeMap::new(),
        };
        for (element, child) in &self.children {
            let rest = match other.children.get(element) {
                Some(theirs) => child.recursive_difference(theirs),
                None => child.clone(),
            };
            out.children.insert(element.clone(), rest);
        }
        out.pruned()
    }

    /// Only the paths at or below `prefix`.
    pub fn restricted_to(&self, prefix: &[PathElement]) -> FieldSet {
        let Some((first, rest)) = prefix.split_first() else {
            return self.clone();
        };
        let mut out = FieldSet::default();
        if let Some(child) = self.children.get(first) {
            out.children
                .insert(first.clone(), child.restricted_to(rest));
        }
        out.pruned()
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (element, child) in &self.children {
            if let Some(theirs) = other.children.get(element) {
                out.children
                    .insert(element.clone(), child.intersection(theirs));
            }
        }
        out.pruned()
    }

    /// Every member path, in order.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        if self.member {
            out.push(prefix.clone());
        }
        for (element, child) in &self.children {
            prefix.push(element.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }

    /// Marks as members the fields (`f:` elements) that have children: upstream does this
    /// for struct fields before pruning, so that a whole struct a manager stops applying
    /// goes, not just its leaves. (Map entries with object values are marked too; they are
    /// members already whenever upstream would track them.)
    pub fn with_named_fields_as_members(&self) -> FieldSet {
        let mut out = self.clone();
        out.mark_named();
        out
    }

    fn mark_named(&mut self) {
        for (element, child) in self.children.iter_mut() {
            if matches!(element, PathElement::Field(_)) && !child.children.is_empty() {
                child.member = true;
            }
            child.mark_named();
        }
    }

    fn pruned(mut self) -> FieldSet {
        self.children.retain(|_, child| !child.is_empty());
        self
    }

    /// The FieldsV1 JSON form.
    pub fn to_fields_v1(&self) -> Value {
        let mut object = Map::new();
        if self.member && !self.children.is_empty() {
            object.insert(".".to_owned(), Value::Object(Map::new()));
        }
        for (element, child) in &self.children {
            if child.is_empty() {
                continue;
            }
            object.insert(element.to_fields_v1(), child.to_fields_v1());
        }
        Value::Object(object)
    }

    /// Parses the FieldsV1 JSON form; `None` if it is malformed.
    pub fn from_fields_v1(value: &Value) -> Option<FieldSet> {
        let object = value.as_object()?;
        let mut set = FieldSet::default();
        for (key, child) in object {
            if key == "." {
                set.member = true;
                continue;
            }
            let element = PathElement::from_fields_v1(key)?;
            let mut child_set = FieldSet::from_fields_v1(child)?;
            if child_set.children.is_empty() {
                child_set.member = true;
            }
            set.children.insert(element, child_set);
        }
        Some(set)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::FieldSet;
    use crate::apply::path::PathElement;

    fn field(name: &str) -> PathElement {
        PathElement::Field(name.to_owned())
    }

    #[test]
    fn fields_v1_round_trips_with_dot_members() {
        let fields = json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}},
        });
        let set = FieldSet::from_fields_v1(&fields).expect("parses");
        assert!(set.contains(&[field("metadata"), field("labels"), field("app")]));
        let item = [
            field("spec"),
            field("containers"),
            PathElement::Key(vec![("name".to_owned(), json!("web"))]),
        ];
        assert!(set.contains(&item));
        assert!(!set.contains(&[field("spec")]));
        assert_eq!(set.to_fields_v1(), fields);
    }

    #[test]
    fn set_algebra() {
        let mut a = FieldSet::default();
        a.insert(&[field("a"), field("x")]);
        a.insert(&[field("b")]);
        let mut b = FieldSet::default();
        b.insert(&[field("b")]);
        b.insert(&[field("c")]);
        assert_eq!(a.intersection(&b).paths(), vec![vec![field("b")]]);
        assert_eq!(a.difference(&b).paths(), vec![vec![field("a"), field("x")]]);
        assert_eq!(a.union(&b).paths().len(), 3);
        assert!(a.difference(&a).is_empty());
        let named = a.with_named_fields_as_members();
        assert!(named.contains(&[field("a")]));
    }
}
