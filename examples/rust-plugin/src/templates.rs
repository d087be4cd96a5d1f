//! Template extensions: the filter `truncate` and the function `semver_bump`.
//!
//! `{{ value | truncate(5) }}` calls `apply_filter("truncate", config, value,
//! ["5"])` and `{{ semver_bump("1.2.3", "minor") }}` calls
//! `call_function("semver_bump", config, ["\"1.2.3\"", "\"minor\""])`: values and
//! arguments are JSON texts, and so is what the extension returns. The host has
//! already checked the argument count against `arguments`; keyword arguments
//! that leave a gap arrive as `null`.

use serde_json::Value;

use crate::error::{self, PluginError};
use crate::exports::driftless::plugin::templates::{Argument, ExtensionDefinition, ExtensionKind, Guest};
use crate::tasks::{Part, Version};
use crate::Plugin;

/// Neither extension takes a config: `{}` only.
const NO_CONFIG: &str = r#"{"type":"object","properties":{},"additionalProperties":false}"#;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoConfig {}

fn arg(name: &str, description: &str, required: bool) -> Argument {
    Argument { name: name.into(), description: description.into(), required }
}

impl Guest for Plugin {
    fn extensions() -> Vec<ExtensionDefinition> {
        vec![
            ExtensionDefinition {
                name: "truncate".into(),
                kind: ExtensionKind::Filter,
                description: "Shortens a string to at most `length` characters, then appends `suffix`."
                    .into(),
                category: "string".into(),
                arguments: vec![
                    arg("length", "Characters to keep (0 to 1000000).", true),
                    arg("suffix", "Appended when the string was cut (default \"...\").", false),
                ],
                config_schema: NO_CONFIG.into(),
            },
            ExtensionDefinition {
                name: "semver_bump".into(),
                kind: ExtensionKind::Function,
                description:
                    "The next MAJOR.MINOR.PATCH version: semver_bump(\"1.2.3\", \"minor\") is \"1.3.0\"."
                        .into(),
                category: "version".into(),
                arguments: vec![
                    arg("version", "A MAJOR.MINOR.PATCH version.", true),
                    arg("part", "major, minor or patch (default patch).", false),
                ],
                config_schema: NO_CONFIG.into(),
            },
        ]
    }

    fn apply_filter(
        name: String,
        config: String,
        value: String,
        args: Vec<String>,
    ) -> Result<String, PluginError> {
        match name.as_str() {
            "truncate" => {
                let _: NoConfig = error::config("truncate", &config)?;
                error::to_json(&truncate(&value, &args)?)
            }
            _ => Err(error::not_found("template filter", &name)),
        }
    }

    fn call_function(name: String, config: String, args: Vec<String>) -> Result<String, PluginError> {
        match name.as_str() {
            "semver_bump" => {
                let _: NoConfig = error::config("semver_bump", &config)?;
                error::to_json(&semver_bump(&args)?)
            }
            _ => Err(error::not_found("template function", &name)),
        }
    }
}

/// The argument at `i`, or `None` when it is absent or `null`.
fn optional(args: &[String], i: usize, what: &str) -> Result<Option<Value>, PluginError> {
    match args.get(i) {
        None => Ok(None),
        Some(text) => match error::input::<Value>(what, text)? {
            Value::Null => Ok(None),
            v => Ok(Some(v)),
        },
    }
}

const MAX_LENGTH: u64 = 1_000_000;

fn truncate(value: &str, args: &[String]) -> Result<String, PluginError> {
    let s: String = error::input("truncate: value must be a string", value)?;
    let length = optional(args, 0, "truncate: length")?
        .and_then(|v| v.as_u64())
        .filter(|n| *n <= MAX_LENGTH)
        .ok_or_else(|| {
            error::invalid_input(format!("truncate: length must be an integer from 0 to {MAX_LENGTH}"))
        })?;
    let suffix = match optional(args, 1, "truncate: suffix")? {
        None => "...".to_string(),
        Some(Value::String(s)) => s,
        Some(_) => return Err(error::invalid_input("truncate: suffix must be a string")),
    };
    // Characters, not bytes: cutting inside a UTF-8 sequence would not be a string.
    match s.char_indices().nth(length as usize) {
        None => Ok(s),
        Some((cut, _)) => Ok(format!("{}{suffix}", &s[..cut])),
    }
}

fn semver_bump(args: &[String]) -> Result<String, PluginError> {
    let version = match optional(args, 0, "semver_bump: version")? {
        Some(Value::String(s)) => s,
        _ => return Err(error::invalid_input("semver_bump: version must be a string")),
    };
    let version: Version = version.parse().map_err(|e| error::invalid_input(format!("semver_bump: {e}")))?;
    let part: Part = match optional(args, 1, "semver_bump: part")? {
        None => Part::Patch,
        Some(Value::String(s)) => s.parse()?,
        Some(_) => return Err(error::invalid_input("semver_bump: part must be a string")),
    };
    version
        .bump(part)
        .map(|v| v.to_string())
        .ok_or_else(|| error::invalid_input(format!("semver_bump: {version} cannot be bumped further")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn filter(value: &str, args: &[&str]) -> Result<String, PluginError> {
        Plugin::apply_filter(
            "truncate".into(),
            "{}".into(),
            value.into(),
            args.iter().map(|a| a.to_string()).collect(),
        )
    }

    fn function(args: &[&str]) -> Result<String, PluginError> {
        Plugin::call_function("semver_bump".into(), "".into(), args.iter().map(|a| a.to_string()).collect())
    }

    #[test]
    fn truncates() {
        assert_eq!(filter(r#""hello world""#, &["5"]).unwrap(), r#""hello...""#);
        assert_eq!(filter(r#""héllo""#, &["2", r#""~""#]).unwrap(), r#""hé~""#);
        assert_eq!(filter(r#""hi""#, &["5"]).unwrap(), r#""hi""#);
        assert_eq!(filter(r#""hello""#, &["0", "null"]).unwrap(), r#""...""#);
        for (value, args) in [
            ("1", vec!["5"]),
            (r#""x""#, vec!["-1"]),
            (r#""x""#, vec!["1.5"]),
            (r#""x""#, vec![]),
            (r#""x""#, vec!["1", "2"]),
            (r#""x""#, vec!["{"]),
        ] {
            assert_eq!(filter(value, &args).unwrap_err().kind, ErrorKind::InvalidInput, "{value} {args:?}");
        }
    }

    #[test]
    fn bumps() {
        assert_eq!(function(&[r#""1.2.3""#]).unwrap(), r#""1.2.4""#);
        assert_eq!(function(&[r#""1.2.3""#, r#""major""#]).unwrap(), r#""2.0.0""#);
        assert_eq!(function(&[r#""1.2.3""#, "null"]).unwrap(), r#""1.2.4""#);
        for args in [vec![], vec!["1"], vec![r#""1.2""#], vec![r#""1.2.3""#, r#""big""#]] {
            assert_eq!(function(&args).unwrap_err().kind, ErrorKind::InvalidInput, "{args:?}");
        }
    }

    #[test]
    fn wrong_names_and_configs() {
        assert_eq!(
            Plugin::apply_filter("semver_bump".into(), "".into(), "1".into(), vec![]).unwrap_err().kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            Plugin::call_function("truncate".into(), "".into(), vec![]).unwrap_err().kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            Plugin::call_function("semver_bump".into(), r#"{"a":1}"#.into(), vec![]).unwrap_err().kind,
            ErrorKind::InvalidConfig
        );
    }
}
