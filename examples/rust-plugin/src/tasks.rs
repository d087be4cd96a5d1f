//! Tasks: `bump-version`, `ensure-line` and `pin-version`.
//!
//! Each computes a desired state from its config and reports whether it
//! differs from the current one (`changed`), with a diff. In check mode they
//! say what they *would* do and change nothing; the host only passes
//! `check_mode = true` to tasks whose definition says `supports_check_mode`.
//! `pin-version` keeps what it applied in the plugin's state, so it knows
//! the current state across calls and runs.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde_json::json;

use crate::error::{self, PluginError};
use crate::exports::driftless::plugin::tasks::{Guest, TaskDefinition, TaskKind, TaskResult};
use crate::host::{self, Level};
use crate::Plugin;

impl Guest for Plugin {
    fn definitions() -> Vec<TaskDefinition> {
        vec![
            TaskDefinition {
                name: "bump-version".into(),
                kind: TaskKind::Apply,
                description: "Bumps the major, minor or patch part of a MAJOR.MINOR.PATCH version; \
                              the new version is the task's output."
                    .into(),
                config_schema: json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "object",
                    "properties": {
                        "version": {
                            "type": "string",
                            "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$",
                            "description": "The version to bump, MAJOR.MINOR.PATCH."
                        },
                        "part": {
                            "type": "string",
                            "enum": ["major", "minor", "patch"],
                            "default": "patch",
                            "description": "Which part to bump."
                        }
                    },
                    "required": ["version"],
                    "additionalProperties": false
                })
                .to_string(),
                supports_check_mode: true,
            },
            TaskDefinition {
                name: "ensure-line".into(),
                kind: TaskKind::Apply,
                description: "Makes sure a line is present in (or absent from) a text, like \
                              Ansible's lineinfile; the resulting text is the task's output."
                    .into(),
                config_schema: json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "object",
                    "properties": {
                        "text": { "type": "string", "description": "The text, lines separated by \\n." },
                        "line": { "type": "string", "minLength": 1, "description": "The line, without a line break." },
                        "state": {
                            "type": "string",
                            "enum": ["present", "absent"],
                            "default": "present",
                            "description": "Whether the line must be in the text or not."
                        }
                    },
                    "required": ["text", "line"],
                    "additionalProperties": false
                })
                .to_string(),
                supports_check_mode: true,
            },
            TaskDefinition {
                name: "pin-version".into(),
                kind: TaskKind::Apply,
                description: "Pins an application to a version: changed only when the version differs \
                              from the one last pinned, which the plugin keeps in its state."
                    .into(),
                config_schema: json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string",
                            "pattern": "^[A-Za-z0-9._-]{1,100}$",
                            "description": "The application."
                        },
                        "version": {
                            "type": "string",
                            "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$",
                            "description": "The version to pin it to, MAJOR.MINOR.PATCH."
                        }
                    },
                    "required": ["name", "version"],
                    "additionalProperties": false
                })
                .to_string(),
                supports_check_mode: true,
            },
        ]
    }

    fn execute(name: String, config: String, check_mode: bool) -> Result<TaskResult, PluginError> {
        let result = match name.as_str() {
            "bump-version" => bump_version(&config, check_mode)?,
            "ensure-line" => ensure_line(&config, check_mode)?,
            "pin-version" => pin_version(&config, check_mode)?,
            _ => return Err(error::not_found("task", &name)),
        };
        host::log(Level::Info, &format!("{name}: {}", result.message));
        Ok(result)
    }
}

// ---------------------------------------------------------------------------------------
// bump-version

#[derive(Deserialize, Clone, Copy, Default, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Part {
    Major,
    Minor,
    #[default]
    Patch,
}

impl FromStr for Part {
    type Err = PluginError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "major" => Ok(Part::Major),
            "minor" => Ok(Part::Minor),
            "patch" => Ok(Part::Patch),
            _ => Err(error::invalid_input(format!("part \"{s}\" is not major, minor or patch"))),
        }
    }
}

/// A MAJOR.MINOR.PATCH version.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
}

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("\"{s}\" is not a MAJOR.MINOR.PATCH version");
        let mut parts = s.split('.').map(|p| {
            // u64::from_str takes a leading '+', which a version may not have.
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse::<u64>().map_err(|_| bad())
        });
        let mut next = || parts.next().unwrap_or_else(|| Err(bad()));
        let v = Version { major: next()?, minor: next()?, patch: next()? };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Version {
    /// The next version, or `None` when the part is already u64::MAX.
    pub(crate) fn bump(self, part: Part) -> Option<Version> {
        Some(match part {
            Part::Major => Version { major: self.major.checked_add(1)?, minor: 0, patch: 0 },
            Part::Minor => Version { minor: self.minor.checked_add(1)?, patch: 0, ..self },
            Part::Patch => Version { patch: self.patch.checked_add(1)?, ..self },
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BumpVersion {
    version: String,
    #[serde(default)]
    part: Part,
}

fn bump_version(config: &str, check_mode: bool) -> Result<TaskResult, PluginError> {
    let c: BumpVersion = error::config("bump-version", config)?;
    let from: Version = c.version.parse().map_err(|e| error::invalid_config(format!("bump-version: {e}")))?;
    let to = from
        .bump(c.part)
        .ok_or_else(|| error::invalid_config(format!("bump-version: {from} cannot be bumped further")))?;
    let verb = if check_mode { "would bump" } else { "bumped" };
    Ok(TaskResult {
        changed: true,
        message: format!("{verb} {from} to {to}"),
        output: error::to_json(&json!({
            "previous": from.to_string(),
            "version": to.to_string(),
            "check_mode": check_mode,
        }))?,
        diff: Some(format!("--- version\n+++ version\n-{from}\n+{to}\n")),
    })
}

// ---------------------------------------------------------------------------------------
// pin-version

/// The state key under which pin-version keeps an application's version.
pub(crate) const PINNED: &str = "pinned/";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PinVersion {
    name: String,
    version: String,
}

/// The version pinned for `name`, if any.
pub(crate) fn pinned(name: &str) -> Result<Option<String>, PluginError> {
    match host::state_get(&format!("{PINNED}{name}")) {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| PluginError {
            kind: error::ErrorKind::Failed,
            message: format!("pin-version: the state of {name} is not UTF-8 text"),
        }),
    }
}

fn pin_version(config: &str, check_mode: bool) -> Result<TaskResult, PluginError> {
    let c: PinVersion = error::config("pin-version", config)?;
    let version: Version =
        c.version.parse().map_err(|e| error::invalid_config(format!("pin-version: {e}")))?;
    let version = version.to_string();
    let previous = pinned(&c.name)?;
    let changed = previous.as_deref() != Some(version.as_str());
    let message = match (&previous, changed, check_mode) {
        (_, false, _) => format!("{} is already pinned to {version}", c.name),
        (None, true, true) => format!("would pin {} to {version}", c.name),
        (None, true, false) => format!("pinned {} to {version}", c.name),
        (Some(p), true, true) => format!("would pin {} to {version} (from {p})", c.name),
        (Some(p), true, false) => format!("pinned {} to {version} (from {p})", c.name),
    };
    // The host would discard a write in check mode anyway; a plugin that
    // changes nothing there does not rely on it.
    if changed && !check_mode {
        host::state_set(&format!("{PINNED}{}", c.name), version.as_bytes()).map_err(|e| PluginError {
            kind: e.kind,
            message: format!("pin-version: cannot keep the version of {}: {}", c.name, e.message),
        })?;
    }
    let diff = changed.then(|| {
        let before = previous.as_ref().map(|p| format!("-{p}\n")).unwrap_or_default();
        format!("--- {name}\n+++ {name}\n{before}+{version}\n", name = c.name)
    });
    Ok(TaskResult {
        changed,
        message,
        output: error::to_json(&json!({
            "name": c.name,
            "version": version,
            "previous": previous,
            "check_mode": check_mode,
        }))?,
        diff,
    })
}

// ---------------------------------------------------------------------------------------
// ensure-line

#[derive(Deserialize, Clone, Copy, Default, PartialEq, Debug)]
#[serde(rename_all = "lowercase")]
enum LineState {
    #[default]
    Present,
    Absent,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnsureLine {
    text: String,
    line: String,
    #[serde(default)]
    state: LineState,
}

fn ensure_line(config: &str, check_mode: bool) -> Result<TaskResult, PluginError> {
    let c: EnsureLine = error::config("ensure-line", config)?;
    if c.line.is_empty() || c.line.contains('\n') {
        return Err(error::invalid_config("ensure-line: \"line\" must be one non-empty line"));
    }
    let lines: Vec<&str> = c.text.lines().collect();
    let (text, diff, message) = match c.state {
        LineState::Present if lines.contains(&c.line.as_str()) => {
            (c.text.clone(), None, "line already present".to_string())
        }
        LineState::Present => {
            let mut text = c.text.clone();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&c.line);
            text.push('\n');
            let verb = if check_mode { "would add" } else { "added" };
            (text, Some(format!("--- text\n+++ text\n+{}\n", c.line)), format!("{verb} line \"{}\"", c.line))
        }
        LineState::Absent => {
            let removed = lines.iter().filter(|l| **l == c.line).count();
            if removed == 0 {
                (c.text.clone(), None, "line already absent".to_string())
            } else {
                let mut text: String =
                    lines.iter().filter(|l| **l != c.line).map(|l| format!("{l}\n")).collect();
                if !c.text.ends_with('\n') && !text.is_empty() {
                    text.pop();
                }
                let verb = if check_mode { "would remove" } else { "removed" };
                let diff = format!("--- text\n+++ text\n{}", format!("-{}\n", c.line).repeat(removed));
                (text, Some(diff), format!("{verb} line \"{}\" ({removed}x)", c.line))
            }
        }
    };
    Ok(TaskResult {
        changed: diff.is_some(),
        message,
        output: error::to_json(&json!({ "text": text, "check_mode": check_mode }))?,
        diff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use serde_json::Value;

    fn run(name: &str, config: &str, check: bool) -> Result<TaskResult, PluginError> {
        <Plugin as Guest>::execute(name.into(), config.into(), check)
    }

    fn output(r: &TaskResult) -> Value {
        serde_json::from_str(&r.output).expect("output is JSON")
    }

    #[test]
    fn versions() {
        let v: Version = "1.2.3".parse().unwrap();
        assert_eq!(v.bump(Part::Major).unwrap().to_string(), "2.0.0");
        assert_eq!(v.bump(Part::Minor).unwrap().to_string(), "1.3.0");
        assert_eq!(v.bump(Part::Patch).unwrap().to_string(), "1.2.4");
        for bad in ["1.2", "1.2.3.4", "", "a.b.c", "1.-2.3", "+1.2.3", "1..3", "99999999999999999999.0.0"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
        let max: Version = format!("1.{}.0", u64::MAX).parse().unwrap();
        assert_eq!(max.bump(Part::Minor), None);
    }

    #[test]
    fn bump_version_task() {
        let r = run("bump-version", r#"{"version": "1.2.3", "part": "minor"}"#, false).unwrap();
        assert!(r.changed);
        assert_eq!(r.message, "bumped 1.2.3 to 1.3.0");
        assert_eq!(output(&r)["version"], "1.3.0");
        assert_eq!(r.diff.as_deref(), Some("--- version\n+++ version\n-1.2.3\n+1.3.0\n"));
        assert_eq!(
            host::take_logged(),
            vec![(Level::Info, "bump-version: bumped 1.2.3 to 1.3.0".to_string())]
        );

        let r = run("bump-version", r#"{"version": "1.2.3"}"#, true).unwrap();
        assert_eq!(r.message, "would bump 1.2.3 to 1.2.4");
        assert_eq!(output(&r)["check_mode"], true);

        for (config, want) in [
            (r#"{"version": "1.2"}"#, "bump-version: \"1.2\" is not a MAJOR.MINOR.PATCH version"),
            (r#"{"version": "1.2.3", "part": "huge"}"#, "bump-version: config: unknown variant `huge`"),
            (r#"{"version": "1.2.3", "extra": 1}"#, "bump-version: config: unknown field `extra`"),
            (r#"{}"#, "bump-version: config: missing field `version`"),
            ("[1]", "bump-version: config: invalid type"),
        ] {
            let e = run("bump-version", config, false).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidConfig, "{config}");
            assert!(e.message.starts_with(want), "{config}: {}", e.message);
        }
    }

    #[test]
    fn ensure_line_task() {
        let r = run("ensure-line", r#"{"text": "a\nb\n", "line": "c"}"#, false).unwrap();
        assert!(r.changed);
        assert_eq!(output(&r)["text"], "a\nb\nc\n");
        assert_eq!(r.diff.as_deref(), Some("--- text\n+++ text\n+c\n"));
        assert_eq!(r.message, "added line \"c\"");

        let r = run("ensure-line", r#"{"text": "a\nb", "line": "c"}"#, true).unwrap();
        assert_eq!(output(&r)["text"], "a\nb\nc\n");
        assert_eq!(r.message, "would add line \"c\"");

        let r = run("ensure-line", r#"{"text": "a\nc\n", "line": "c"}"#, false).unwrap();
        assert!(!r.changed);
        assert_eq!(r.diff, None);
        assert_eq!(r.message, "line already present");

        let r = run("ensure-line", r#"{"text": "c\na\nc", "line": "c", "state": "absent"}"#, false).unwrap();
        assert!(r.changed);
        assert_eq!(output(&r)["text"], "a");
        assert_eq!(r.diff.as_deref(), Some("--- text\n+++ text\n-c\n-c\n"));

        let r = run("ensure-line", r#"{"text": "", "line": "c", "state": "absent"}"#, false).unwrap();
        assert!(!r.changed);

        let e = run("ensure-line", r#"{"text": "", "line": "a\nb"}"#, false).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidConfig);
    }

    #[test]
    fn pin_version_task() {
        let config = r#"{"name": "web", "version": "1.2.3"}"#;
        // Check mode: would pin, and keeps nothing.
        let r = run("pin-version", config, true).unwrap();
        assert!(r.changed);
        assert_eq!(r.message, "would pin web to 1.2.3");
        assert_eq!(r.diff.as_deref(), Some("--- web\n+++ web\n+1.2.3\n"));
        assert_eq!(pinned("web").unwrap(), None);

        let r = run("pin-version", config, false).unwrap();
        assert!(r.changed);
        assert_eq!(r.message, "pinned web to 1.2.3");
        assert_eq!(output(&r)["previous"], Value::Null);
        assert_eq!(pinned("web").unwrap().as_deref(), Some("1.2.3"));

        // The same version again: nothing to do.
        let r = run("pin-version", config, false).unwrap();
        assert!(!r.changed);
        assert_eq!(r.diff, None);
        assert_eq!(r.message, "web is already pinned to 1.2.3");

        let r = run("pin-version", r#"{"name": "web", "version": "1.3.0"}"#, true).unwrap();
        assert_eq!(r.message, "would pin web to 1.3.0 (from 1.2.3)");
        assert_eq!(r.diff.as_deref(), Some("--- web\n+++ web\n-1.2.3\n+1.3.0\n"));
        assert_eq!(output(&r)["previous"], "1.2.3");

        host::state_set("pinned/bad", &[0xff]).unwrap();
        let e = run("pin-version", r#"{"name": "bad", "version": "1.0.0"}"#, false).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Failed);
        assert_eq!(e.message, "pin-version: the state of bad is not UTF-8 text");
        let e = run("pin-version", r#"{"name": "web"}"#, false).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidConfig);
    }

    #[test]
    fn unknown_task() {
        let e = run("nope", "{}", false).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.message, "no task named \"nope\"");
    }

    #[test]
    fn schemas_are_json() {
        for d in <Plugin as Guest>::definitions() {
            let v: Value = serde_json::from_str(&d.config_schema).unwrap();
            assert_eq!(v["additionalProperties"], false, "{}", d.name);
        }
    }
}
