//! Facts: the collector `rust`.
//!
//! `facts collect`, `template render` and `apply` run every collector with
//! the config `{}`, so every property of the config is optional, and a
//! collector reports what it cannot find as a missing key, not as an error.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::{self, PluginError};
use crate::exports::driftless::plugin::facts::{CollectorDefinition, Guest};
use crate::host::{self, Level};
use crate::tasks::{self, PINNED};
use crate::{Plugin, PLUGIN_NAME, PLUGIN_VERSION};

/// The wit-bindgen version in Cargo.toml (a fact users may want in templates).
const WIT_BINDGEN_VERSION: &str = "0.63.0";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RustFacts {
    /// Whether to include the host's clock (`timestamp`).
    #[serde(default = "yes")]
    timestamp: bool,
}

fn yes() -> bool {
    true
}

/// The versions pin-version keeps in state, by application: the state's
/// keys are read a page at a time, up to MAX_PINNED of them.
fn pinned_versions() -> Result<Map<String, Value>, PluginError> {
    const PAGE: u32 = 100;
    const MAX_PINNED: usize = 1000;
    let mut out = Map::new();
    let mut after: Option<String> = None;
    while out.len() < MAX_PINNED {
        let keys = host::state_keys(PINNED, after.as_deref(), PAGE);
        for key in &keys {
            let name = key.strip_prefix(PINNED).unwrap_or(key);
            if let Some(version) = tasks::pinned(name)? {
                out.insert(name.to_string(), json!(version));
            }
        }
        if keys.len() < PAGE as usize {
            break;
        }
        after = keys.last().cloned();
    }
    Ok(out)
}

impl Guest for Plugin {
    fn collectors() -> Vec<CollectorDefinition> {
        vec![CollectorDefinition {
            name: "rust".into(),
            description: "What this plugin was built with (language, plugin version, wit-bindgen \
                          version, target), the host's clock, and the versions pin-version pinned."
                .into(),
            config_schema: json!({
                "type": "object",
                "properties": {
                    "timestamp": { "type": "boolean", "default": true, "description": "Include host.timestamp()." }
                },
                "additionalProperties": false
            })
            .to_string(),
        }]
    }

    fn collect(name: String, config: String) -> Result<String, PluginError> {
        if name != "rust" {
            return Err(error::not_found("facts collector", &name));
        }
        let c: RustFacts = error::config("rust", &config)?;
        let mut facts = Map::new();
        facts.insert("language".into(), json!("rust"));
        facts.insert("plugin".into(), json!(PLUGIN_NAME));
        facts.insert("version".into(), json!(PLUGIN_VERSION));
        facts.insert("wit_bindgen".into(), json!(WIT_BINDGEN_VERSION));
        facts.insert("target".into(), json!("wasm32-wasip2"));
        if c.timestamp {
            facts.insert("timestamp".into(), json!(host::timestamp()));
        }
        facts.insert("pinned".into(), Value::Object(pinned_versions()?));
        host::log(Level::Debug, &format!("collected {} facts", facts.len()));
        error::to_json(&Value::Object(facts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn collects() {
        let v: Value = serde_json::from_str(&Plugin::collect("rust".into(), "{}".into()).unwrap()).unwrap();
        assert_eq!(v["language"], "rust");
        assert_eq!(v["plugin"], "rust-plugin");
        assert_eq!(v["timestamp"], host::TEST_TIME);
        let v: Value =
            serde_json::from_str(&Plugin::collect("rust".into(), r#"{"timestamp": false}"#.into()).unwrap())
                .unwrap();
        assert!(v.get("timestamp").is_none());
        assert_eq!(v["pinned"], json!({}));
        for i in 0..250 {
            host::state_set(&format!("pinned/app{i:03}"), b"1.0.0").unwrap();
        }
        host::state_set("other", b"x").unwrap();
        let v: Value = serde_json::from_str(&Plugin::collect("rust".into(), "{}".into()).unwrap()).unwrap();
        let pinned = v["pinned"].as_object().unwrap();
        assert_eq!(pinned.len(), 250);
        assert_eq!(pinned["app249"], "1.0.0");
        assert_eq!(
            Plugin::collect("rust".into(), r#"{"x": 1}"#.into()).unwrap_err().kind,
            ErrorKind::InvalidConfig
        );
        assert_eq!(Plugin::collect("go".into(), "".into()).unwrap_err().kind, ErrorKind::NotFound);
    }
}
