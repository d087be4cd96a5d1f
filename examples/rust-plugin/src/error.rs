//! Building `plugin-error`s, and reading the JSON texts the host passes in.
//!
//! Configs have been checked by the host against the item's config-schema
//! before the plugin runs; parsing them into typed structs here
//! (`deny_unknown_fields`) is a second line of defence that costs nothing and
//! turns every surprise into an `invalid-config` error instead of a panic.

use serde::de::DeserializeOwned;

pub(crate) use crate::driftless::plugin::types::{ErrorKind, PluginError};

pub(crate) fn invalid_config(message: impl Into<String>) -> PluginError {
    PluginError { kind: ErrorKind::InvalidConfig, message: message.into() }
}

pub(crate) fn invalid_input(message: impl Into<String>) -> PluginError {
    PluginError { kind: ErrorKind::InvalidInput, message: message.into() }
}

/// The error for a name none of the plugin's items has; `what` is e.g.
/// "task" or "template filter".
pub(crate) fn not_found(what: &str, name: &str) -> PluginError {
    PluginError { kind: ErrorKind::NotFound, message: format!("no {what} named \"{name}\"") }
}

/// Parses `text`, the config of `item`, into `T`. An empty config is `{}`.
pub(crate) fn config<T: DeserializeOwned>(item: &str, text: &str) -> Result<T, PluginError> {
    let text = if text.trim().is_empty() { "{}" } else { text };
    serde_json::from_str(text).map_err(|e| invalid_config(format!("{item}: config: {e}")))
}

/// Parses `text`, a JSON value the template or pipeline passed in (`what`
/// names it in the message), into `T`.
pub(crate) fn input<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, PluginError> {
    serde_json::from_str(text).map_err(|e| invalid_input(format!("{what}: {e}")))
}

/// The JSON text of a value the plugin built itself.
pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, PluginError> {
    serde_json::to_string(value)
        .map_err(|e| PluginError { kind: ErrorKind::Failed, message: format!("cannot encode JSON: {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct C {
        #[serde(default)]
        a: u32,
    }

    #[test]
    fn configs() {
        assert_eq!(config::<C>("x", "").unwrap(), C { a: 0 });
        assert_eq!(config::<C>("x", r#"{"a": 2}"#).unwrap(), C { a: 2 });
        let e = config::<C>("x", r#"{"b": 2}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidConfig);
        assert!(e.message.starts_with("x: config: unknown field `b`"), "{}", e.message);
        assert_eq!(config::<C>("x", "[").unwrap_err().kind, ErrorKind::InvalidConfig);
    }

    #[test]
    fn inputs() {
        assert_eq!(input::<String>("value", r#""s""#).unwrap(), "s");
        let e = input::<String>("value", "1").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.starts_with("value: invalid type"), "{}", e.message);
    }
}
