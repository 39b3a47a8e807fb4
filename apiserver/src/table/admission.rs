//! Kinds that extend the API or admission: webhook configurations, validating admission
//! policies and bindings, API priority and fairness, and kube-aggregator's APIServices.

use std::cmp::Ordering;

use k8s_openapi::api::flowcontrol::v1::{
    FlowSchemaSpec, LimitedPriorityLevelConfiguration, PriorityLevelConfigurationReference,
    PriorityLevelConfigurationSpec, QueuingConfiguration,
};

use super::common::{age, doc, int, meta, name, text, AGE, NAME};
use super::format;
use super::node::Node;
use super::printer::{Column, Doc, EmptyRows, Headers, Printer};

const WEBHOOKS: &[Column] = &[
    NAME,
    Column::new(
        "Webhooks",
        "integer",
        Doc::Text("Webhooks indicates the number of webhooks registered in this configuration"),
    ),
    AGE,
];

/// `mutatingwebhookconfigurations` and `validatingwebhookconfigurations`.
pub static WEBHOOK_CONFIGURATION: Printer = Printer::new(WEBHOOKS, |object, context| {
    vec![
        name(object),
        int(object.get("webhooks").count() as i64),
        age(object, context),
    ]
    .into()
});

/// `validatingadmissionpolicies`.
pub static VALIDATING_ADMISSION_POLICY: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Validations",
            "integer",
            Doc::Text("Validations indicates the number of validation rules defined in this configuration"),
        ),
        Column::new(
            "ParamKind",
            "string",
            Doc::Text("ParamKind specifies the kind of resources used to parameterize this policy"),
        ),
        AGE,
    ],
    |object, context| {
        let spec = object.get("spec");
        let kind = spec.get("paramKind");
        let kind = if kind.is_set() {
            format!(
                "{}/{}",
                kind.get("apiVersion").str(),
                kind.get("kind").str()
            )
        } else {
            "<unset>".to_owned()
        };
        vec![
            name(object),
            int(spec.get("validations").count() as i64),
            text(kind),
            age(object, context),
        ]
        .into()
    },
);

/// `validatingadmissionpolicybindings`.
pub static VALIDATING_ADMISSION_POLICY_BINDING: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "PolicyName",
            "string",
            Doc::Text(
                "PolicyName indicates the policy definition which the policy binding binded to",
            ),
        ),
        Column::new(
            "ParamRef",
            "string",
            Doc::Text("ParamRef indicates the param resource which sets the configration param"),
        ),
        AGE,
    ],
    |object, context| {
        let spec = object.get("spec");
        let reference = spec.get("paramRef");
        let param = if !reference.is_set() {
            "<unset>".to_owned()
        } else if !reference.get("name").str().is_empty() {
            let namespace = reference.get("namespace").str();
            let namespace = if namespace.is_empty() { "*" } else { namespace };
            format!("{namespace}/{}", reference.get("name").str())
        } else if reference.get("selector").is_set() {
            format::go_label_selector(reference.get("selector"))
        } else {
            "<unset>".to_owned()
        };
        vec![
            name(object),
            text(spec.get("policyName").str()),
            text(param),
            age(object, context),
        ]
        .into()
    },
);

/// `flowschemas`, listed by matching precedence, then name.
pub static FLOW_SCHEMA: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "PriorityLevel",
            "string",
            doc::<PriorityLevelConfigurationReference>("name"),
        ),
        Column::new(
            "MatchingPrecedence",
            "string",
            doc::<FlowSchemaSpec>("matchingPrecedence"),
        ),
        Column::new(
            "DistinguisherMethod",
            "string",
            doc::<FlowSchemaSpec>("distinguisherMethod"),
        ),
        AGE,
        Column::new(
            "MissingPL",
            "string",
            Doc::Text("references a broken or non-existent PriorityLevelConfiguration"),
        ),
    ],
    |object, context| {
        let spec = object.get("spec");
        let method = spec.get("distinguisherMethod");
        let method = if method.is_set() {
            method.get("type").str().to_owned()
        } else {
            "<none>".to_owned()
        };
        let missing = object
            .at(&["status", "conditions"])
            .items()
            .find(|condition| condition.get("type").str() == "Dangling")
            .map_or("?", |condition| condition.get("status").str());
        vec![
            name(object),
            text(spec.at(&["priorityLevelConfiguration", "name"]).str()),
            int(precedence(object)),
            text(method),
            age(object, context),
            text(missing),
        ]
        .into()
    },
)
.ordered(flow_schema_order);

/// `matchingPrecedence`, defaulted to 1000 as the API defaults it.
fn precedence(schema: Node<'_>) -> i64 {
    schema
        .at(&["spec", "matchingPrecedence"])
        .as_i64()
        .unwrap_or(1000)
}

fn flow_schema_order(a: Node<'_>, b: Node<'_>) -> Ordering {
    precedence(a).cmp(&precedence(b)).then_with(|| {
        a.at(&["metadata", "name"])
            .str()
            .cmp(b.at(&["metadata", "name"]).str())
    })
}

/// `prioritylevelconfigurations`.
pub static PRIORITY_LEVEL_CONFIGURATION: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Type",
            "string",
            doc::<PriorityLevelConfigurationSpec>("type"),
        ),
        Column::new(
            "NominalConcurrencyShares",
            "string",
            doc::<LimitedPriorityLevelConfiguration>("nominalConcurrencyShares"),
        ),
        Column::new("Queues", "string", doc::<QueuingConfiguration>("queues")),
        Column::new(
            "HandSize",
            "string",
            doc::<QueuingConfiguration>("handSize"),
        ),
        Column::new(
            "QueueLengthLimit",
            "string",
            doc::<QueuingConfiguration>("queueLengthLimit"),
        ),
        AGE,
    ],
    |object, context| {
        let spec = object.get("spec");
        let limited = spec.get("limited");
        let none = || text("<none>");
        let (shares, queues, hand, length) = if limited.is_set() {
            // The API defaults these as below.
            let shares = int(limited
                .get("nominalConcurrencyShares")
                .as_i64()
                .unwrap_or(30));
            let queuing = limited.at(&["limitResponse", "queuing"]);
            if queuing.is_set() {
                (
                    shares,
                    int(queuing.get("queues").as_i64().unwrap_or(64)),
                    int(queuing.get("handSize").as_i64().unwrap_or(8)),
                    int(queuing.get("queueLengthLimit").as_i64().unwrap_or(50)),
                )
            } else {
                (shares, none(), none(), none())
            }
        } else {
            (none(), none(), none(), none())
        };
        vec![
            name(object),
            text(spec.get("type").str()),
            shares,
            queues,
            hand,
            length,
            age(object, context),
        ]
        .into()
    },
);

/// kube-aggregator's `apiservices` convertor, which always sends its columns.
pub static API_SERVICE: Printer = Printer::new(
    &[
        NAME,
        Column::new(
            "Service",
            "string",
            Doc::Text("The reference to the service that hosts this API endpoint."),
        ),
        Column::new(
            "Available",
            "string",
            Doc::Text("Whether this service is available."),
        ),
        Column::new("Age", "string", meta("creationTimestamp")),
    ],
    |object, context| {
        let service = object.at(&["spec", "service"]);
        let service = if service.is_set() {
            format!(
                "{}/{}",
                service.get("namespace").str(),
                service.get("name").str()
            )
        } else {
            "Local".to_owned()
        };
        let available = object
            .at(&["status", "conditions"])
            .items()
            .find(|condition| condition.get("type").str() == "Available")
            .map_or_else(
                || "Unknown".to_owned(),
                |condition| {
                    let status = condition.get("status").str();
                    let reason = condition.get("reason").str();
                    if status == "True" || reason.is_empty() {
                        status.to_owned()
                    } else {
                        format!("{status} ({reason})")
                    }
                },
            );
        vec![
            name(object),
            text(service),
            text(available),
            age(object, context),
        ]
        .into()
    },
)
.with(Headers::Always, EmptyRows::Array);
