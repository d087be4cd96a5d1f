//! rust-plugin: a Driftless component plugin in Rust (wit-bindgen guest).
//!
//! World `driftless-examples:rust-plugin/rust-plugin` (wit/world.wit): imports
//! `driftless:plugin/host`, exports metadata, tasks and templates.
//!
//! * task `bump-version` (check mode supported): bumps the major, minor or patch part of a
//!   semantic version; in check mode it reports the diff of what it would do and changes
//!   nothing (it keeps no state either way: the new version is its output).
//! * template filter `truncate(length, suffix?)`.

wit_bindgen::generate!({
    world: "driftless-examples:rust-plugin/rust-plugin@0.1.0",
    // The contract first, then this example's own world that refers to it.
    path: ["../../wit", "wit"],
    // Generate bindings for every interface the world uses (incl. driftless:plugin/types).
    generate_all,
});

use driftless::plugin::host;
use driftless::plugin::types::{ErrorKind, Level, PluginError};
use exports::driftless::plugin::metadata::{Guest as MetadataGuest, PluginInfo};
use exports::driftless::plugin::tasks::{Guest as TasksGuest, TaskDefinition, TaskKind, TaskResult};
use exports::driftless::plugin::templates::{
    Argument, ExtensionDefinition, ExtensionKind, Guest as TemplatesGuest,
};
use serde_json::{json, Map, Value};

const PLUGIN_NAME: &str = "rust-plugin";
const PLUGIN_VERSION: &str = "0.1.0";

struct Plugin;

fn err(kind: ErrorKind, message: impl Into<String>) -> PluginError {
    PluginError { kind, message: message.into() }
}

/// A config as a JSON object; an empty config is `{}`.
fn parse_config(text: &str) -> Result<Map<String, Value>, PluginError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(err(ErrorKind::InvalidConfig, "config must be a JSON object")),
        Err(e) => Err(err(ErrorKind::InvalidConfig, format!("config is not valid JSON: {e}"))),
    }
}

fn parse_json(text: &str, what: &str) -> Result<Value, PluginError> {
    serde_json::from_str(text).map_err(|e| err(ErrorKind::InvalidInput, format!("{what} is not valid JSON: {e}")))
}

impl MetadataGuest for Plugin {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            description: "Example Rust plugin: task bump-version (check mode) and template filter truncate."
                .into(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// tasks

#[derive(Clone, Copy)]
enum Part {
    Major,
    Minor,
    Patch,
}

fn parse_version(s: &str) -> Option<(u64, u64, u64)> {
    let mut it = s.split('.');
    let v = (it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?);
    if it.next().is_some() {
        return None;
    }
    Some(v)
}

fn bump_version(config: &str, check_mode: bool) -> Result<TaskResult, PluginError> {
    let c = parse_config(config)?;
    for k in c.keys() {
        if k != "version" && k != "part" {
            return Err(err(ErrorKind::InvalidConfig, format!("bump-version: unknown config property \"{k}\"")));
        }
    }
    let version = c
        .get("version")
        .and_then(Value::as_str)
        .ok_or_else(|| err(ErrorKind::InvalidConfig, "bump-version: \"version\" (string) is required"))?;
    let (major, minor, patch) = parse_version(version).ok_or_else(|| {
        err(ErrorKind::InvalidConfig, format!("bump-version: \"{version}\" is not MAJOR.MINOR.PATCH"))
    })?;
    let part = match c.get("part").map(|v| v.as_str()) {
        None | Some(Some("patch")) => Part::Patch,
        Some(Some("minor")) => Part::Minor,
        Some(Some("major")) => Part::Major,
        _ => return Err(err(ErrorKind::InvalidConfig, "bump-version: \"part\" must be major, minor or patch")),
    };
    let next = match part {
        Part::Major => (major + 1, 0, 0),
        Part::Minor => (major, minor + 1, 0),
        Part::Patch => (major, minor, patch + 1),
    };
    let next = format!("{}.{}.{}", next.0, next.1, next.2);
    let diff = format!("--- version\n+++ version\n-{version}\n+{next}\n");
    let message = if check_mode {
        format!("would bump {version} to {next}")
    } else {
        format!("bumped {version} to {next}")
    };
    host::log(Level::Info, &message);
    Ok(TaskResult {
        changed: true,
        message,
        output: json!({ "previous": version, "version": next, "check_mode": check_mode }).to_string(),
        diff: Some(diff),
    })
}

impl TasksGuest for Plugin {
    fn definitions() -> Vec<TaskDefinition> {
        vec![TaskDefinition {
            name: "bump-version".into(),
            kind: TaskKind::Apply,
            description: "Bumps the major, minor or patch part of a MAJOR.MINOR.PATCH version.".into(),
            config_schema: json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "version": { "type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$" },
                    "part": { "type": "string", "enum": ["major", "minor", "patch"], "default": "patch" }
                },
                "required": ["version"],
                "additionalProperties": false
            })
            .to_string(),
            supports_check_mode: true,
        }]
    }

    fn execute(name: String, config: String, check_mode: bool) -> Result<TaskResult, PluginError> {
        match name.as_str() {
            "bump-version" => bump_version(&config, check_mode),
            _ => Err(err(ErrorKind::NotFound, format!("no task named \"{name}\""))),
        }
    }
}

// ---------------------------------------------------------------------------------------
// templates

const EMPTY_OBJECT_SCHEMA: &str = r#"{"type":"object","properties":{},"additionalProperties":false}"#;

fn truncate(value: &str, args: &[String]) -> Result<String, PluginError> {
    let v = parse_json(value, "truncate: value")?;
    let s = v.as_str().ok_or_else(|| err(ErrorKind::InvalidInput, "truncate: value must be a string"))?;
    if args.is_empty() || args.len() > 2 {
        return Err(err(ErrorKind::InvalidInput, "truncate: takes one or two arguments (length, suffix?)"));
    }
    let length = parse_json(&args[0], "truncate: length")?
        .as_u64()
        .ok_or_else(|| err(ErrorKind::InvalidInput, "truncate: length must be a non-negative integer"))?;
    let suffix = match args.get(1) {
        None => "...".to_string(),
        Some(a) => parse_json(a, "truncate: suffix")?
            .as_str()
            .ok_or_else(|| err(ErrorKind::InvalidInput, "truncate: suffix must be a string"))?
            .to_string(),
    };
    let chars: Vec<char> = s.chars().collect();
    let out = if (chars.len() as u64) <= length {
        s.to_string()
    } else {
        let mut t: String = chars[..length as usize].iter().collect();
        t.push_str(&suffix);
        t
    };
    Ok(Value::String(out).to_string())
}

impl TemplatesGuest for Plugin {
    fn extensions() -> Vec<ExtensionDefinition> {
        vec![ExtensionDefinition {
            name: "truncate".into(),
            kind: ExtensionKind::Filter,
            description: "Shortens a string to at most `length` characters, then appends `suffix`.".into(),
            category: "string".into(),
            arguments: vec![
                Argument { name: "length".into(), description: "Characters to keep.".into(), required: true },
                Argument {
                    name: "suffix".into(),
                    description: "Appended when the string was cut (default \"...\").".into(),
                    required: false,
                },
            ],
            config_schema: EMPTY_OBJECT_SCHEMA.into(),
        }]
    }

    fn apply_filter(name: String, config: String, value: String, args: Vec<String>) -> Result<String, PluginError> {
        match name.as_str() {
            "truncate" => {
                parse_config(&config)?;
                truncate(&value, &args)
            }
            _ => Err(err(ErrorKind::NotFound, format!("no template filter named \"{name}\""))),
        }
    }

    fn call_function(name: String, _config: String, _args: Vec<String>) -> Result<String, PluginError> {
        Err(err(ErrorKind::NotFound, format!("no template function named \"{name}\"")))
    }
}

export!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates() {
        assert_eq!(truncate("\"hello world\"", &["5".into()]).unwrap(), "\"hello...\"");
        assert_eq!(truncate("\"héllo\"", &["2".into(), "\"~\"".into()]).unwrap(), "\"hé~\"");
        assert_eq!(truncate("\"hi\"", &["5".into()]).unwrap(), "\"hi\"");
        assert!(matches!(truncate("1", &["5".into()]).unwrap_err().kind, ErrorKind::InvalidInput));
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("1.2.3"), Some((1, 2, 3)));
        assert_eq!(parse_version("1.2"), None);
        assert_eq!(parse_version("1.2.3.4"), None);
    }
}
