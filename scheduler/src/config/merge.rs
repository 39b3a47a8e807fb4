//! Upstream's plugin-set semantics: the default `multiPoint` set (`default_plugins.go`),
//! each point's custom set merged over its defaults (`mergePluginSet`), and `multiPoint`
//! expanded to every point its plugins implement (the framework's
//! `expandMultiPointPlugins`), with score weights resolved as `getScoreWeights` does.

use std::collections::{BTreeMap, HashSet};

use super::parse::{RawPlugin, RawPluginSet, RawPlugins};
use super::ConfigError;

/// An extension point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Point {
    /// `preEnqueue`.
    PreEnqueue,
    /// `queueSort`.
    QueueSort,
    /// `preFilter`.
    PreFilter,
    /// `filter`.
    Filter,
    /// `postFilter`.
    PostFilter,
    /// `preScore`.
    PreScore,
    /// `score`.
    Score,
    /// `reserve`.
    Reserve,
    /// `permit`.
    Permit,
    /// `preBind`.
    PreBind,
    /// `bind`.
    Bind,
    /// `postBind`.
    PostBind,
}

use Point::*;

const ALL: [Point; 12] = [
    PreEnqueue, QueueSort, PreFilter, Filter, PostFilter, PreScore, Score, Reserve, Permit,
    PreBind, Bind, PostBind,
];

impl Point {
    /// The field name in `plugins`.
    pub fn field(self) -> &'static str {
        match self {
            PreEnqueue => "preEnqueue",
            QueueSort => "queueSort",
            PreFilter => "preFilter",
            Filter => "filter",
            PostFilter => "postFilter",
            PreScore => "preScore",
            Score => "score",
            Reserve => "reserve",
            Permit => "permit",
            PreBind => "preBind",
            Bind => "bind",
            PostBind => "postBind",
        }
    }

    /// Upstream's interface name (as its errors spell it).
    fn type_name(self) -> &'static str {
        match self {
            PreEnqueue => "PreEnqueuePlugin",
            QueueSort => "QueueSortPlugin",
            PreFilter => "PreFilterPlugin",
            Filter => "FilterPlugin",
            PostFilter => "PostFilterPlugin",
            PreScore => "PreScorePlugin",
            Score => "ScorePlugin",
            Reserve => "ReservePlugin",
            Permit => "PermitPlugin",
            PreBind => "PreBindPlugin",
            Bind => "BindPlugin",
            PostBind => "PostBindPlugin",
        }
    }

    fn set(self, plugins: &RawPlugins) -> &RawPluginSet {
        match self {
            PreEnqueue => &plugins.pre_enqueue,
            QueueSort => &plugins.queue_sort,
            PreFilter => &plugins.pre_filter,
            Filter => &plugins.filter,
            PostFilter => &plugins.post_filter,
            PreScore => &plugins.pre_score,
            Score => &plugins.score,
            Reserve => &plugins.reserve,
            Permit => &plugins.permit,
            PreBind => &plugins.pre_bind,
            Bind => &plugins.bind,
            PostBind => &plugins.post_bind,
        }
    }
}

/// The in-tree registry: every plugin name upstream knows, with the points it implements
/// (`None`: known to upstream but not run here, accepted at any point and ignored).
pub fn registry(name: &str) -> Option<Option<&'static [Point]>> {
    let points: &'static [Point] = match name {
        "NodeUnschedulable" | "NodeName" => &[Filter],
        "TaintToleration" => &[Filter, PreScore, Score],
        "NodeAffinity" | "NodeResourcesFit" | "PodTopologySpread" | "InterPodAffinity" => {
            &[PreFilter, Filter, PreScore, Score]
        }
        "NodePorts" => &[PreFilter, Filter],
        "VolumeBinding" => &[PreFilter, Filter, PreScore, Score, Reserve, PreBind],
        "NodeResourcesBalancedAllocation" => &[PreScore, Score],
        "ImageLocality" => &[Score],
        "DefaultPreemption" => &[PostFilter],
        "PrioritySort" => &[QueueSort],
        "DefaultBinder" => &[Bind],
        "SchedulingGates" => &[PreEnqueue],
        "VolumeRestrictions"
        | "NodeVolumeLimits"
        | "VolumeZone"
        | "DynamicResources"
        | "NodeDeclaredFeatures"
        | "GangScheduling" => return Some(None),
        _ => return None,
    };
    Some(Some(points))
}

fn implements(name: &str, point: Point) -> bool {
    match registry(name) {
        Some(Some(points)) => points.contains(&point),
        Some(None) => true,
        None => false,
    }
}

fn plugin(name: &str, weight: i64) -> RawPlugin {
    RawPlugin {
        name: name.to_owned(),
        weight: (weight > 0).then_some(weight),
    }
}

/// Upstream's default `multiPoint` set, with the default score weights.
pub fn default_multi_point() -> Vec<RawPlugin> {
    [
        ("SchedulingGates", 0),
        ("PrioritySort", 0),
        ("NodeUnschedulable", 0),
        ("NodeName", 0),
        ("TaintToleration", 3),
        ("NodeAffinity", 2),
        ("NodePorts", 0),
        ("NodeResourcesFit", 1),
        ("VolumeRestrictions", 0),
        ("NodeVolumeLimits", 0),
        ("VolumeBinding", 0),
        ("VolumeZone", 0),
        ("PodTopologySpread", 2),
        ("InterPodAffinity", 2),
        ("DefaultPreemption", 0),
        ("NodeResourcesBalancedAllocation", 1),
        ("ImageLocality", 1),
        ("DefaultBinder", 0),
    ]
    .into_iter()
    .map(|(name, weight)| plugin(name, weight))
    .collect()
}

/// Upstream's `mergePluginSet`: the defaults minus the disabled (all of them with `*`),
/// re-configured ones replaced in place, then the other enabled ones in order.
pub fn merge_set(defaults: &[RawPlugin], custom: &RawPluginSet) -> Vec<RawPlugin> {
    let disabled: HashSet<&str> = custom.disabled.iter().map(|p| p.name.as_str()).collect();
    let mut replaced = HashSet::new();
    let mut out = Vec::new();
    if !disabled.contains("*") {
        for default in defaults {
            if disabled.contains(default.name.as_str()) {
                continue;
            }
            match custom.enabled.iter().position(|p| p.name == default.name) {
                Some(index) => {
                    let plugin = &default.name;
                    tracing::info!(%plugin, "default plugin is explicitly re-configured; overriding");
                    replaced.insert(index);
                    out.push(custom.enabled[index].clone());
                }
                None => out.push(default.clone()),
            }
        }
    }
    for (index, p) in custom.enabled.iter().enumerate() {
        if !replaced.contains(&index) {
            out.push(p.clone());
        }
    }
    out
}

/// The plugins each point runs, in order, and the score weights.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Point → plugin names in order.
    pub points: BTreeMap<Point, Vec<String>>,
    /// Score plugin → weight.
    pub weights: BTreeMap<String, i64>,
}

impl Resolved {
    /// The plugins enabled at `point`.
    pub fn at(&self, point: Point) -> &[String] {
        self.points
            .get(&point)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Whether `name` runs at `point`.
    pub fn runs(&self, name: &str, point: Point) -> bool {
        self.at(point).iter().any(|n| n == name)
    }
}

fn invalid(field: String, message: String) -> ConfigError {
    ConfigError::Invalid { field, message }
}

/// Checks the names and weights a custom set enables at `point` (`None`: `multiPoint`).
fn check_set(path: &str, point: Option<Point>, set: &RawPluginSet) -> Result<(), ConfigError> {
    let field = point.map_or("multiPoint", Point::field);
    for (i, p) in set.enabled.iter().enumerate() {
        let at = format!("{path}.{field}.enabled[{i}]");
        let type_name = point.map_or("plugin", Point::type_name);
        if registry(&p.name).is_none() {
            return Err(invalid(
                format!("{at}.name"),
                format!("{type_name} {:?} does not exist", p.name),
            ));
        }
        if let Some(point) = point {
            if !implements(&p.name, point) {
                return Err(invalid(
                    format!("{at}.name"),
                    format!("plugin {:?} does not extend {type_name} plugin", p.name),
                ));
            }
        }
        if let Some(weight) = p.weight.filter(|w| *w < 0 || *w > 100) {
            return Err(invalid(
                format!("{at}.weight"),
                format!("Invalid value: {weight}: must be in the range [0, 100]"),
            ));
        }
    }
    Ok(())
}

/// Resolves a profile's `plugins` (`path`: `profiles[i].plugins`) over the defaults.
pub fn resolve(path: &str, plugins: &RawPlugins) -> Result<Resolved, ConfigError> {
    check_set(path, None, &plugins.multi_point)?;
    for point in ALL {
        check_set(path, Some(point), point.set(plugins))?;
    }
    let multi = merge_set(&default_multi_point(), &plugins.multi_point);
    let mut resolved = Resolved::default();
    for point in ALL {
        let custom = point.set(plugins);
        let specific = merge_set(&[], custom);
        let disabled: HashSet<&str> = custom.disabled.iter().map(|p| p.name.as_str()).collect();
        let specific_names: Vec<&str> = specific.iter().map(|p| p.name.as_str()).collect();
        let mut overrides: Vec<String> = Vec::new();
        let mut expanded: Vec<String> = Vec::new();
        if !disabled.contains("*") {
            for p in &multi {
                if !implements(&p.name, point) || disabled.contains(p.name.as_str()) {
                    continue;
                }
                if specific_names.contains(&p.name.as_str()) {
                    overrides.push(p.name.clone());
                } else if expanded.contains(&p.name) {
                    return Err(invalid(
                        format!("{path}.multiPoint"),
                        format!(
                            "plugin {:?} already registered as {:?}",
                            p.name,
                            point.type_name()
                        ),
                    ));
                } else {
                    expanded.push(p.name.clone());
                }
            }
        }
        let mut names = overrides.clone();
        names.extend(expanded);
        for name in specific_names {
            if !overrides.iter().any(|o| o == name) {
                if names.iter().any(|n| n == name) {
                    return Err(invalid(
                        format!("{path}.{}", point.field()),
                        format!(
                            "plugin {name:?} already registered as {:?}",
                            point.type_name()
                        ),
                    ));
                }
                names.push(name.to_owned());
            }
        }
        if point == Score {
            for p in specific.iter().chain(&multi) {
                if names.contains(&p.name) && !resolved.weights.contains_key(&p.name) {
                    resolved
                        .weights
                        .insert(p.name.clone(), p.weight.filter(|w| *w > 0).unwrap_or(1));
                }
            }
        }
        resolved.points.insert(point, names);
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(enabled: &[(&str, i64)], disabled: &[&str]) -> RawPluginSet {
        RawPluginSet {
            enabled: enabled.iter().map(|(n, w)| plugin(n, *w)).collect(),
            disabled: disabled.iter().map(|n| plugin(n, 0)).collect(),
        }
    }

    #[test]
    fn defaults_expand_to_every_point() {
        let r = resolve("p", &RawPlugins::default()).expect("resolve");
        assert_eq!(
            r.at(Filter),
            [
                "NodeUnschedulable",
                "NodeName",
                "TaintToleration",
                "NodeAffinity",
                "NodePorts",
                "NodeResourcesFit",
                "VolumeRestrictions",
                "NodeVolumeLimits",
                "VolumeBinding",
                "VolumeZone",
                "PodTopologySpread",
                "InterPodAffinity"
            ]
        );
        assert_eq!(r.weights.get("TaintToleration"), Some(&3));
        assert_eq!(r.weights.get("ImageLocality"), Some(&1));
        assert_eq!(r.weights.get("VolumeBinding"), Some(&1));
        assert!(r.runs("DefaultPreemption", PostFilter));
    }

    #[test]
    fn disabled_enabled_and_weights_merge_as_upstream() {
        let plugins = RawPlugins {
            filter: set(&[], &["TaintToleration"]),
            score: set(&[("ImageLocality", 7), ("NodeResourcesFit", 5)], &["*"]),
            post_filter: set(&[], &["*"]),
            ..RawPlugins::default()
        };
        let r = resolve("p", &plugins).expect("resolve");
        assert!(!r.runs("TaintToleration", Filter));
        assert!(r.runs("TaintToleration", PreScore));
        assert_eq!(r.at(Score), ["ImageLocality", "NodeResourcesFit"]);
        assert_eq!(r.weights.get("ImageLocality"), Some(&7));
        assert_eq!(r.weights.get("NodeResourcesFit"), Some(&5));
        assert!(r.at(PostFilter).is_empty());
        // A point's explicit enabling of a multiPoint plugin overrides it (moved first).
        let plugins = RawPlugins {
            score: set(&[("ImageLocality", 9)], &[]),
            ..RawPlugins::default()
        };
        let r = resolve("p", &plugins).expect("resolve");
        assert_eq!(
            r.at(Score).first().map(String::as_str),
            Some("ImageLocality")
        );
        assert_eq!(r.weights.get("ImageLocality"), Some(&9));
        assert_eq!(r.weights.get("TaintToleration"), Some(&3));
    }

    #[test]
    fn merge_set_replaces_in_place() {
        let defaults = [plugin("A", 1), plugin("B", 1), plugin("C", 1)];
        let merged = merge_set(&defaults, &set(&[("D", 0), ("B", 4)], &["C"]));
        let names: Vec<(&str, Option<i64>)> =
            merged.iter().map(|p| (p.name.as_str(), p.weight)).collect();
        assert_eq!(names, [("A", Some(1)), ("B", Some(4)), ("D", None)]);
    }

    #[test]
    fn unknown_and_misplaced_plugins_are_errors() {
        let plugins = RawPlugins {
            filter: set(&[("Nope", 0)], &[]),
            ..RawPlugins::default()
        };
        let err = resolve("profiles[0].plugins", &plugins).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "profiles[0].plugins.filter.enabled[0].name: FilterPlugin \"Nope\" does not exist"
        );
        let plugins = RawPlugins {
            filter: set(&[("ImageLocality", 0)], &[]),
            ..RawPlugins::default()
        };
        let err = resolve("p", &plugins).expect_err("misplaced");
        assert!(
            err.to_string().contains("does not extend FilterPlugin"),
            "{err}"
        );
        let plugins = RawPlugins {
            multi_point: set(&[("Bogus", 0)], &[]),
            ..RawPlugins::default()
        };
        assert!(resolve("p", &plugins).is_err());
    }
}
