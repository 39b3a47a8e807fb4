//! Decoding a `KubeSchedulerConfiguration` file (YAML or JSON) into its raw, unvalidated
//! shape, and checking its `apiVersion` and `kind`.

use serde::Deserialize;
use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

use super::ConfigError;

/// The only configuration version accepted.
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
/// The configuration's kind.
pub const KIND: &str = "KubeSchedulerConfiguration";

/// The file as written (fields this scheduler does not use are accepted and ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawConfig {
    /// `percentageOfNodesToScore` for every profile that sets none.
    pub percentage_of_nodes_to_score: Option<i64>,
    /// `profiles`.
    #[serde(default)]
    pub profiles: Vec<RawProfile>,
}

/// One `profiles[]` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawProfile {
    /// `schedulerName`.
    pub scheduler_name: Option<String>,
    /// `percentageOfNodesToScore`.
    pub percentage_of_nodes_to_score: Option<i64>,
    /// `plugins`.
    #[serde(default)]
    pub plugins: RawPlugins,
    /// `pluginConfig`.
    #[serde(default)]
    pub plugin_config: Vec<RawPluginConfig>,
}

/// `plugins`: one set per extension point.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawPlugins {
    /// `preEnqueue`.
    #[serde(default)]
    pub pre_enqueue: RawPluginSet,
    /// `queueSort`.
    #[serde(default)]
    pub queue_sort: RawPluginSet,
    /// `preFilter`.
    #[serde(default)]
    pub pre_filter: RawPluginSet,
    /// `filter`.
    #[serde(default)]
    pub filter: RawPluginSet,
    /// `postFilter`.
    #[serde(default)]
    pub post_filter: RawPluginSet,
    /// `preScore`.
    #[serde(default)]
    pub pre_score: RawPluginSet,
    /// `score`.
    #[serde(default)]
    pub score: RawPluginSet,
    /// `reserve`.
    #[serde(default)]
    pub reserve: RawPluginSet,
    /// `permit`.
    #[serde(default)]
    pub permit: RawPluginSet,
    /// `preBind`.
    #[serde(default)]
    pub pre_bind: RawPluginSet,
    /// `bind`.
    #[serde(default)]
    pub bind: RawPluginSet,
    /// `postBind`.
    #[serde(default)]
    pub post_bind: RawPluginSet,
    /// `multiPoint`.
    #[serde(default)]
    pub multi_point: RawPluginSet,
}

/// `{enabled, disabled}` of one extension point.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RawPluginSet {
    /// Plugins to enable, in order.
    #[serde(default)]
    pub enabled: Vec<RawPlugin>,
    /// Plugins to disable (`*`: every default).
    #[serde(default)]
    pub disabled: Vec<RawPlugin>,
}

/// A plugin by name, with its score weight.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct RawPlugin {
    /// The plugin's name.
    pub name: String,
    /// Its score weight (0 or absent: the default).
    #[serde(default)]
    pub weight: Option<i64>,
}

/// One `pluginConfig[]` entry.
#[derive(Debug, Deserialize)]
pub struct RawPluginConfig {
    /// The plugin's name.
    pub name: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Option<Value>,
}

fn yaml_to_json(yaml: Yaml) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Integer(i) => Value::Number(i.into()),
        Yaml::Real(text) => {
            let f: f64 = text.parse().map_err(|_| format!("bad number {text:?}"))?;
            Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(|| format!("bad number {text:?}"))?
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Array(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (key, value) in hash {
                let key = match key {
                    Yaml::String(s) | Yaml::Real(s) => s,
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => return Err(format!("unsupported map key {other:?}")),
                };
                map.insert(key, yaml_to_json(value)?);
            }
            Value::Object(map)
        }
        Yaml::Alias(_) => return Err("YAML aliases are not supported".to_owned()),
        Yaml::BadValue => return Err("invalid YAML value".to_owned()),
    })
}

/// The document in `text` (JSON, or YAML's first document) as JSON.
pub fn document(text: &str) -> Result<Value, ConfigError> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| ConfigError::Decode(e.to_string()));
    }
    let docs = YamlLoader::load_from_str(text).map_err(|e| ConfigError::Decode(e.to_string()))?;
    let first = docs.into_iter().next().unwrap_or(Yaml::Null);
    yaml_to_json(first).map_err(ConfigError::Decode)
}

/// Checks `apiVersion` and `kind`, then decodes the raw configuration.
pub fn raw(value: Value) -> Result<RawConfig, ConfigError> {
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let api_version = field("apiVersion");
    if api_version != API_VERSION {
        return Err(ConfigError::Invalid {
            field: "apiVersion".to_owned(),
            message: format!(
                "Unsupported value: {api_version:?}: supported values: {API_VERSION:?}"
            ),
        });
    }
    let kind = field("kind");
    if kind != KIND {
        return Err(ConfigError::Invalid {
            field: "kind".to_owned(),
            message: format!("Unsupported value: {kind:?}: supported values: {KIND:?}"),
        });
    }
    serde_json::from_value(value).map_err(|e| ConfigError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_decode_alike() {
        let yaml = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: a
  plugins:
    score:
      enabled:
      - name: ImageLocality
        weight: 5
"#;
        let json = r#"{
            "apiVersion": "kubescheduler.config.k8s.io/v1",
            "kind": "KubeSchedulerConfiguration",
            "profiles": [{"schedulerName": "a", "plugins": {"score": {"enabled": [
                {"name": "ImageLocality", "weight": 5}]}}}]}"#;
        for text in [yaml, json] {
            let config = raw(document(text).expect("document")).expect("config");
            assert_eq!(config.profiles[0].scheduler_name.as_deref(), Some("a"));
            assert_eq!(config.profiles[0].plugins.score.enabled[0].weight, Some(5));
        }
    }

    #[test]
    fn wrong_version_or_kind_names_the_field() {
        let old = raw(document(
            "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n",
        )
        .expect("doc"))
        .expect_err("old version");
        assert!(
            old.to_string().starts_with("apiVersion: Unsupported value"),
            "{old}"
        );
        let kind = raw(
            document("apiVersion: kubescheduler.config.k8s.io/v1\nkind: Scheduler\n").expect("doc"),
        )
        .expect_err("kind");
        assert!(kind.to_string().starts_with("kind: "), "{kind}");
        assert!(document("a: [").is_err());
    }
}
