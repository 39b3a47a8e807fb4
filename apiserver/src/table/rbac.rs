//! `rbac.authorization.k8s.io/v1` bindings (roles themselves get the default table, as
//! upstream registers no printer for them).

use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};

use super::common::{age, doc, name, text, AGE, NAME};
use super::node::Node;
use super::printer::{Column, Context, Doc, Printer, Row};

/// `rolebindings`.
pub static ROLE_BINDING: Printer = Printer::new(
    &[
        NAME,
        Column::new("Role", "string", doc::<RoleBinding>("roleRef")),
        AGE,
        Column::wide("Users", "string", Doc::Text("Users in the roleBinding")),
        Column::wide("Groups", "string", Doc::Text("Groups in the roleBinding")),
        Column::wide(
            "ServiceAccounts",
            "string",
            Doc::Text("ServiceAccounts in the roleBinding"),
        ),
    ],
    row,
);

/// `clusterrolebindings`.
pub static CLUSTER_ROLE_BINDING: Printer = Printer::new(
    &[
        NAME,
        Column::new("Role", "string", doc::<ClusterRoleBinding>("roleRef")),
        AGE,
        Column::wide(
            "Users",
            "string",
            Doc::Text("Users in the clusterRoleBinding"),
        ),
        Column::wide(
            "Groups",
            "string",
            Doc::Text("Groups in the clusterRoleBinding"),
        ),
        Column::wide(
            "ServiceAccounts",
            "string",
            Doc::Text("ServiceAccounts in the clusterRoleBinding"),
        ),
    ],
    row,
);

/// `rbac.SubjectsStrings`: users, groups and `namespace/name` service accounts.
pub fn subjects(subjects: Node<'_>) -> [String; 3] {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut accounts = Vec::new();
    for subject in subjects.items() {
        let name = subject.get("name").str();
        match subject.get("kind").str() {
            "ServiceAccount" => {
                accounts.push(format!("{}/{name}", subject.get("namespace").str()));
            }
            "User" => users.push(name.to_owned()),
            "Group" => groups.push(name.to_owned()),
            _ => {}
        }
    }
    [users.join(", "), groups.join(", "), accounts.join(", ")]
}

fn row(binding: Node<'_>, context: &Context) -> Row {
    let role = binding.get("roleRef");
    let [users, groups, accounts] = subjects(binding.get("subjects"));
    vec![
        name(binding),
        text(format!(
            "{}/{}",
            role.get("kind").str(),
            role.get("name").str()
        )),
        age(binding, context),
        text(users),
        text(groups),
        text(accounts),
    ]
    .into()
}
