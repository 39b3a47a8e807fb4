//! Typed `pluginConfig[].args` of the plugins that take arguments (upstream's
//! `NodeResourcesFitArgs`, `PodTopologySpreadArgs`, `InterPodAffinityArgs`), decoded and
//! validated as upstream's `validation_pluginargs.go` does.

use serde::Deserialize;
use serde_json::Value;

use super::ConfigError;

/// How NodeResourcesFit scores nodes (`scoringStrategy.type`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScoringType {
    /// Prefer the node with the most room left (the default).
    LeastAllocated,
    /// Prefer the fullest node (bin packing).
    MostAllocated,
    /// A broken-line function of utilization: `(utilization 0..=100, score 0..=100)` points,
    /// the scores already scaled from upstream's 0..=10.
    RequestedToCapacityRatio(Vec<(i64, i64)>),
}

/// NodeResourcesFit's scoring strategy: the type and the weighted resources it looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FitArgs {
    /// The scoring function.
    pub scoring: ScoringType,
    /// Resource name → weight (upstream's default: cpu and memory, weight 1 each).
    pub resources: Vec<(String, i64)>,
}

impl Default for FitArgs {
    fn default() -> Self {
        Self {
            scoring: ScoringType::LeastAllocated,
            resources: vec![("cpu".to_owned(), 1), ("memory".to_owned(), 1)],
        }
    }
}

/// One of PodTopologySpread's `defaultConstraints` (its selector is the pod's workload's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultConstraint {
    /// `maxSkew`.
    pub max_skew: i64,
    /// `topologyKey`.
    pub topology_key: String,
    /// `DoNotSchedule` or `ScheduleAnyway`.
    pub when_unsatisfiable: String,
}

/// PodTopologySpread's defaults for pods without constraints of their own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpreadArgs {
    /// `None`: `defaultingType: System` (host skew 3, zone skew 5, `ScheduleAnyway`);
    /// `Some`: `defaultingType: List` with these constraints.
    pub defaults: Option<Vec<DefaultConstraint>>,
}

/// InterPodAffinity's arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffinityArgs {
    /// Score an existing pod's required affinity term adds for nodes it matches (0..=100).
    pub hard_pod_affinity_weight: i64,
}

impl Default for AffinityArgs {
    fn default() -> Self {
        Self {
            hard_pod_affinity_weight: 1,
        }
    }
}

/// The arguments of one profile's plugins (upstream's defaults where not configured).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginArgs {
    /// NodeResourcesFit.
    pub fit: FitArgs,
    /// PodTopologySpread.
    pub spread: SpreadArgs,
    /// InterPodAffinity.
    pub affinity: AffinityArgs,
}

fn invalid(field: String, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        message: message.into(),
    }
}

/// Upstream's `field.Invalid` for a number outside `[low, high]`.
fn out_of_range(field: String, value: i64, low: i64, high: i64) -> ConfigError {
    invalid(
        field,
        format!("Invalid value: {value}: not in valid range [{low}, {high}]"),
    )
}

/// Upstream's `field.NotSupported`.
fn unsupported(field: String, value: &str, supported: &[&str]) -> ConfigError {
    let supported: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
    invalid(
        field,
        format!(
            "Unsupported value: {value:?}: supported values: {}",
            supported.join(", ")
        ),
    )
}

fn decode<T: for<'de> Deserialize<'de>>(field: &str, args: &Value) -> Result<T, ConfigError> {
    serde_json::from_value(args.clone()).map_err(|e| invalid(field.to_owned(), e.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFit {
    scoring_strategy: Option<RawStrategy>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStrategy {
    #[serde(rename = "type")]
    type_: Option<String>,
    resources: Option<Vec<RawResource>>,
    requested_to_capacity_ratio: Option<RawRatio>,
}

#[derive(Deserialize)]
struct RawResource {
    name: String,
    weight: Option<i64>,
}

#[derive(Deserialize)]
struct RawRatio {
    shape: Option<Vec<RawPoint>>,
}

#[derive(Deserialize)]
struct RawPoint {
    utilization: i64,
    score: i64,
}

/// Decodes and validates `NodeResourcesFitArgs`; `field` is the args' path for errors.
pub fn fit(field: &str, args: &Value) -> Result<FitArgs, ConfigError> {
    let raw: RawFit = decode(field, args)?;
    let Some(strategy) = raw.scoring_strategy else {
        return Ok(FitArgs::default());
    };
    let path = format!("{field}.scoringStrategy");
    let mut out = FitArgs::default();
    if let Some(resources) = strategy.resources {
        out.resources = Vec::new();
        for (i, r) in resources.into_iter().enumerate() {
            let weight = r.weight.unwrap_or(1);
            if !(1..=100).contains(&weight) {
                let field = format!("{path}.resources[{i}].weight");
                return Err(out_of_range(field, weight, 1, 100));
            }
            out.resources.push((r.name, weight));
        }
    }
    out.scoring = match strategy.type_.as_deref().unwrap_or("LeastAllocated") {
        "LeastAllocated" => ScoringType::LeastAllocated,
        "MostAllocated" => ScoringType::MostAllocated,
        "RequestedToCapacityRatio" => {
            let shape = strategy
                .requested_to_capacity_ratio
                .and_then(|r| r.shape)
                .unwrap_or_default();
            let shape_path = format!("{path}.requestedToCapacityRatio.shape");
            if shape.is_empty() {
                let message = "Required value: at least one point must be specified";
                return Err(invalid(shape_path, message));
            }
            let mut points = Vec::new();
            for (i, p) in shape.iter().enumerate() {
                let at = format!("{shape_path}[{i}]");
                if !(0..=100).contains(&p.utilization) {
                    return Err(out_of_range(
                        format!("{at}.utilization"),
                        p.utilization,
                        0,
                        100,
                    ));
                }
                if i > 0 && p.utilization <= shape[i - 1].utilization {
                    let message = format!(
                        "Invalid value: {}: utilization values must be sorted in increasing order",
                        p.utilization
                    );
                    return Err(invalid(format!("{at}.utilization"), message));
                }
                if !(0..=10).contains(&p.score) {
                    return Err(out_of_range(format!("{at}.score"), p.score, 0, 10));
                }
                points.push((p.utilization, p.score * 10));
            }
            ScoringType::RequestedToCapacityRatio(points)
        }
        other => {
            let supported = [
                "LeastAllocated",
                "MostAllocated",
                "RequestedToCapacityRatio",
            ];
            return Err(unsupported(format!("{path}.type"), other, &supported));
        }
    };
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpread {
    default_constraints: Option<Vec<Value>>,
    defaulting_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConstraint {
    max_skew: i64,
    topology_key: String,
    when_unsatisfiable: String,
    label_selector: Option<Value>,
}

/// Decodes and validates `PodTopologySpreadArgs`.
pub fn spread(field: &str, args: &Value) -> Result<SpreadArgs, ConfigError> {
    let raw: RawSpread = decode(field, args)?;
    let constraints = raw.default_constraints.unwrap_or_default();
    match raw.defaulting_type.as_deref().unwrap_or("System") {
        "System" if constraints.is_empty() => Ok(SpreadArgs { defaults: None }),
        "System" => Err(invalid(
            format!("{field}.defaultConstraints"),
            "Invalid value: when .defaultingType is \"System\", .defaultConstraints must be empty",
        )),
        "List" => {
            let mut out = Vec::new();
            for (i, value) in constraints.iter().enumerate() {
                let path = format!("{field}.defaultConstraints[{i}]");
                let c: RawConstraint = decode(&path, value)?;
                if c.max_skew <= 0 {
                    return Err(invalid(
                        format!("{path}.maxSkew"),
                        format!("Invalid value: {}: must be greater than zero", c.max_skew),
                    ));
                }
                if c.topology_key.is_empty() {
                    return Err(invalid(
                        format!("{path}.topologyKey"),
                        "Required value: can not be empty",
                    ));
                }
                if !matches!(
                    c.when_unsatisfiable.as_str(),
                    "DoNotSchedule" | "ScheduleAnyway"
                ) {
                    return Err(unsupported(
                        format!("{path}.whenUnsatisfiable"),
                        &c.when_unsatisfiable,
                        &["DoNotSchedule", "ScheduleAnyway"],
                    ));
                }
                if c.label_selector.is_some() {
                    let message = "Forbidden: constraint must not define a selector, \
                                   as they deduced for each pod";
                    return Err(invalid(format!("{path}.labelSelector"), message));
                }
                if out.iter().any(|d: &DefaultConstraint| {
                    d.topology_key == c.topology_key && d.when_unsatisfiable == c.when_unsatisfiable
                }) {
                    return Err(invalid(
                        path,
                        "Duplicate value: {topologyKey, whenUnsatisfiable}",
                    ));
                }
                out.push(DefaultConstraint {
                    max_skew: c.max_skew,
                    topology_key: c.topology_key,
                    when_unsatisfiable: c.when_unsatisfiable,
                });
            }
            Ok(SpreadArgs {
                defaults: Some(out),
            })
        }
        other => Err(invalid(
            format!("{field}.defaultingType"),
            format!("Unsupported value: {other:?}: supported values: \"System\", \"List\""),
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAffinity {
    hard_pod_affinity_weight: Option<i64>,
}

/// Decodes and validates `InterPodAffinityArgs`.
pub fn affinity(field: &str, args: &Value) -> Result<AffinityArgs, ConfigError> {
    let raw: RawAffinity = decode(field, args)?;
    let weight = raw.hard_pod_affinity_weight.unwrap_or(1);
    if !(0..=100).contains(&weight) {
        return Err(invalid(
            format!("{field}.hardPodAffinityWeight"),
            format!("Invalid value: {weight}: not in valid range [0, 100]"),
        ));
    }
    Ok(AffinityArgs {
        hard_pod_affinity_weight: weight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fit_strategies() {
        let most = json!({"scoringStrategy": {"type": "MostAllocated",
            "resources": [{"name": "cpu", "weight": 3}]}});
        let args = fit("a", &most).expect("args");
        assert_eq!(args.scoring, ScoringType::MostAllocated);
        assert_eq!(args.resources, [("cpu".to_owned(), 3)]);
        let shape = json!([{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]);
        let ratio = json!({"scoringStrategy": {"type": "RequestedToCapacityRatio",
            "requestedToCapacityRatio": {"shape": shape}}});
        let ratio = fit("a", &ratio).expect("args");
        assert_eq!(
            ratio.scoring,
            ScoringType::RequestedToCapacityRatio(vec![(0, 0), (100, 100)])
        );
        let bad =
            fit("args", &json!({"scoringStrategy": {"type": "Packed"}})).expect_err("bad type");
        assert!(
            bad.to_string()
                .starts_with("args.scoringStrategy.type: Unsupported value"),
            "{bad}"
        );
    }

    #[test]
    fn spread_defaulting() {
        assert_eq!(spread("a", &json!({})).expect("args").defaults, None);
        let list = spread(
            "a",
            &json!({"defaultingType": "List", "defaultConstraints": [
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]}),
        )
        .expect("args");
        assert_eq!(list.defaults.map(|d| d.len()), Some(1));
        assert!(spread(
            "a",
            &json!({"defaultConstraints": [
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]})
        )
        .is_err());
    }

    #[test]
    fn affinity_weight_range() {
        assert_eq!(
            affinity("a", &json!({"hardPodAffinityWeight": 7}))
                .expect("args")
                .hard_pod_affinity_weight,
            7
        );
        assert!(affinity("a", &json!({"hardPodAffinityWeight": 101})).is_err());
    }
}
