//! The scheduler's configuration file: upstream's `KubeSchedulerConfiguration`
//! (`kubescheduler.config.k8s.io/v1`, YAML or JSON) with its profiles, plugin sets and the
//! arguments of the plugins that take any, validated at start-up.

pub mod args;
pub mod build;
pub mod merge;
pub mod parse;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use args::PluginArgs;
pub use merge::{Point, Resolved};

/// The scheduler name pods get when they name none.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// Why a configuration was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not a well-formed configuration document.
    #[error("decoding the scheduler configuration: {0}")]
    Decode(String),
    /// A field's value is invalid (named as upstream's validation names it).
    #[error("{field}: {message}")]
    Invalid {
        /// The field's path, e.g. `profiles[0].plugins.filter.enabled[1].name`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

/// One validated profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileConfig {
    /// Pods naming this scheduler are scheduled with this profile.
    pub scheduler_name: String,
    /// The plugins each extension point runs, and the score weights.
    pub plugins: Resolved,
    /// The plugins' arguments.
    pub args: PluginArgs,
    /// Share of nodes to find feasible before scoring (0: adaptive).
    pub percentage_of_nodes_to_score: u32,
}

impl ProfileConfig {
    /// Upstream's default profile under `name`.
    pub fn default_named(name: &str) -> Self {
        Self {
            scheduler_name: name.to_owned(),
            plugins: merge::resolve("plugins", &parse::RawPlugins::default()).unwrap_or_default(),
            args: PluginArgs::default(),
            percentage_of_nodes_to_score: 0,
        }
    }
}

/// A validated configuration: at least one profile, names unique.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// The profiles, in file order.
    pub profiles: Vec<ProfileConfig>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            profiles: vec![ProfileConfig::default_named(DEFAULT_SCHEDULER_NAME)],
        }
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn percentage(field: &str, value: Option<i64>) -> Result<Option<u32>, ConfigError> {
    match value {
        None => Ok(None),
        Some(p) => u32::try_from(p)
            .ok()
            .filter(|p| *p <= 100)
            .map(Some)
            .ok_or_else(|| {
                invalid(
                    field,
                    format!("Invalid value: {p}: not in valid range [0-100]"),
                )
            }),
    }
}

fn profile(
    index: usize,
    count: usize,
    raw: parse::RawProfile,
    global: u32,
) -> Result<ProfileConfig, ConfigError> {
    let path = format!("profiles[{index}]");
    let scheduler_name = match raw.scheduler_name.filter(|n| !n.is_empty()) {
        Some(name) => name,
        None if count == 1 => DEFAULT_SCHEDULER_NAME.to_owned(),
        None => return Err(invalid(format!("{path}.schedulerName"), "Required value")),
    };
    let plugins = merge::resolve(&format!("{path}.plugins"), &raw.plugins)?;
    let mut args = PluginArgs::default();
    let mut seen = HashSet::new();
    for (i, config) in raw.plugin_config.iter().enumerate() {
        let field = format!("{path}.pluginConfig[{i}]");
        if !seen.insert(config.name.clone()) {
            return Err(invalid(
                format!("{field}.name"),
                format!("Duplicate value: {:?}", config.name),
            ));
        }
        if merge::registry(&config.name).is_none() {
            return Err(invalid(
                format!("{field}.name"),
                format!("plugin {:?} does not exist", config.name),
            ));
        }
        let Some(value) = config.args.as_ref() else {
            continue;
        };
        let at = format!("{field}.args");
        match config.name.as_str() {
            "NodeResourcesFit" => args.fit = args::fit(&at, value)?,
            "PodTopologySpread" => args.spread = args::spread(&at, value)?,
            "InterPodAffinity" => args.affinity = args::affinity(&at, value)?,
            other => tracing::debug!(
                plugin = other,
                "plugin arguments not used by this scheduler"
            ),
        }
    }
    let percentage_of_nodes_to_score = percentage(
        &format!("{path}.percentageOfNodesToScore"),
        raw.percentage_of_nodes_to_score,
    )?
    .unwrap_or(global);
    Ok(ProfileConfig {
        scheduler_name,
        plugins,
        args,
        percentage_of_nodes_to_score,
    })
}

/// Parses and validates a configuration document (YAML or JSON).
pub fn parse(text: &str) -> Result<SchedulerConfig, ConfigError> {
    let mut raw = parse::raw(parse::document(text)?)?;
    let global =
        percentage("percentageOfNodesToScore", raw.percentage_of_nodes_to_score)?.unwrap_or(0);
    if raw.profiles.is_empty() {
        raw.profiles.push(parse::RawProfile::default());
    }
    let count = raw.profiles.len();
    let mut profiles: Vec<ProfileConfig> = Vec::with_capacity(count);
    for (index, p) in raw.profiles.into_iter().enumerate() {
        let p = profile(index, count, p, global)?;
        if profiles
            .iter()
            .any(|q| q.scheduler_name == p.scheduler_name)
        {
            return Err(invalid(
                format!("profiles[{index}].schedulerName"),
                format!("Duplicate value: {:?}", p.scheduler_name),
            ));
        }
        profiles.push(p);
    }
    Ok(SchedulerConfig { profiles })
}

/// Reads, parses and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<SchedulerConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let config = parse(&text)?;
    let profiles = config.profiles.len();
    tracing::info!(path = %path.display(), profiles, "loaded scheduler configuration");
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

    #[test]
    fn an_empty_configuration_is_the_default_profile() {
        assert_eq!(parse(HEAD).expect("config"), SchedulerConfig::default());
    }

    #[test]
    fn profiles_and_plugin_config() {
        let text = format!(
            "{HEAD}{}",
            r#"percentageOfNodesToScore: 40
profiles:
- schedulerName: default-scheduler
- schedulerName: packer
  percentageOfNodesToScore: 70
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
"#
        );
        let config = parse(&text).expect("config");
        assert_eq!(config.profiles.len(), 2);
        assert_eq!(config.profiles[0].percentage_of_nodes_to_score, 40);
        assert_eq!(config.profiles[1].percentage_of_nodes_to_score, 70);
        assert_eq!(
            config.profiles[1].args.fit.scoring,
            args::ScoringType::MostAllocated
        );
    }

    #[test]
    fn invalid_profiles_name_the_field() {
        let unnamed =
            parse(&format!("{HEAD}profiles:\n- schedulerName: a\n- {{}}\n")).expect_err("unnamed");
        assert_eq!(
            unnamed.to_string(),
            "profiles[1].schedulerName: Required value"
        );
        let dup = parse(&format!(
            "{HEAD}profiles:\n- schedulerName: a\n- schedulerName: a\n"
        ))
        .expect_err("dup");
        assert!(
            dup.to_string()
                .starts_with("profiles[1].schedulerName: Duplicate value"),
            "{dup}"
        );
        let pct = parse(&format!("{HEAD}percentageOfNodesToScore: 120\n")).expect_err("pct");
        assert!(
            pct.to_string()
                .starts_with("percentageOfNodesToScore: Invalid value"),
            "{pct}"
        );
        let args = parse(&format!(
            "{HEAD}profiles:\n- pluginConfig:\n  - name: Nope\n"
        ))
        .expect_err("args");
        assert!(
            args.to_string()
                .starts_with("profiles[0].pluginConfig[0].name"),
            "{args}"
        );
    }
}
