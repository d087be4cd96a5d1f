//! Log components: source `sequence`, parser `logfmt`, filter `contains` and
//! output `logfmt-out`.
//!
//! Each is a resource: `open_*` checks the name and the config and returns a
//! new one; a pipeline keeps it (in an instance of its own) for its whole run
//! and drops it at the end, which runs `Drop`. Methods get `&self`, so state
//! that changes between batches lives in a `Cell` or `RefCell`.

use std::cell::Cell;
use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::json;

use crate::error::{self, PluginError};
use crate::exports::driftless::plugin::logs::{
    ComponentDefinition, ComponentKind, Filter, Guest, GuestFilter, GuestOutput, GuestParser, GuestSource,
    LogEntry, Output, Parser, Source,
};
use crate::host::{self, Level};
use crate::Plugin;

impl Guest for Plugin {
    type Source = Sequence;
    type Parser = LogfmtParser;
    type Filter = Contains;
    type Output = LogfmtOutput;

    fn components() -> Vec<ComponentDefinition> {
        let def = |name: &str, kind, description: &str, schema: serde_json::Value| ComponentDefinition {
            name: name.into(),
            kind,
            description: description.into(),
            config_schema: schema.to_string(),
        };
        vec![
            def(
                "sequence",
                ComponentKind::Source,
                "Emits `count` entries \"MESSAGE N\" (N from 1), with the host's time, level and a field seq=N.",
                json!({
                    "type": "object",
                    "properties": {
                        "count": { "type": "integer", "minimum": 0, "maximum": MAX_COUNT },
                        "message": { "type": "string", "default": "tick" },
                        "level": { "type": "string", "enum": LEVELS, "default": "info" }
                    },
                    "required": ["count"],
                    "additionalProperties": false
                }),
            ),
            def(
                "logfmt",
                ComponentKind::Parser,
                "Parses logfmt lines (key=value key2=\"quoted value\"): `time` (RFC 3339), `level` and `msg` \
                 make the entry, the other pairs its fields. Blank lines are dropped; with strict, a line \
                 without any key=value pair is an error, else it becomes the message.",
                json!({
                    "type": "object",
                    "properties": { "strict": { "type": "boolean", "default": false } },
                    "additionalProperties": false
                }),
            ),
            def(
                "contains",
                ComponentKind::Filter,
                "Keeps the entries whose message (or field `field`) contains `text`; `invert` keeps the others.",
                json!({
                    "type": "object",
                    "properties": {
                        "text": { "type": "string", "minLength": 1 },
                        "field": { "type": "string", "minLength": 1 },
                        "invert": { "type": "boolean", "default": false }
                    },
                    "required": ["text"],
                    "additionalProperties": false
                }),
            ),
            def(
                "logfmt-out",
                ComponentKind::Output,
                "Renders entries as logfmt lines: time=... level=... msg=... then the fields.",
                json!({ "type": "object", "properties": {}, "additionalProperties": false }),
            ),
        ]
    }

    fn open_source(name: String, config: String) -> Result<Source, PluginError> {
        match name.as_str() {
            "sequence" => Ok(Source::new(Sequence::open(&config)?)),
            _ => Err(error::not_found("log source", &name)),
        }
    }

    fn open_parser(name: String, config: String) -> Result<Parser, PluginError> {
        match name.as_str() {
            "logfmt" => Ok(Parser::new(LogfmtParser::open(&config)?)),
            _ => Err(error::not_found("log parser", &name)),
        }
    }

    fn open_filter(name: String, config: String) -> Result<Filter, PluginError> {
        match name.as_str() {
            "contains" => Ok(Filter::new(Contains::open(&config)?)),
            _ => Err(error::not_found("log filter", &name)),
        }
    }

    fn open_output(name: String, config: String) -> Result<Output, PluginError> {
        match name.as_str() {
            "logfmt-out" => Ok(Output::new(LogfmtOutput::open(&config)?)),
            _ => Err(error::not_found("log output", &name)),
        }
    }
}

const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];
const MAX_COUNT: u64 = 10_000_000;

// ---------------------------------------------------------------------------------------
// source: sequence

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SequenceConfig {
    count: u64,
    #[serde(default = "tick")]
    message: String,
    #[serde(default = "info")]
    level: String,
}

fn tick() -> String {
    "tick".into()
}

fn info() -> String {
    "info".into()
}

pub struct Sequence {
    config: SequenceConfig,
    /// How many entries it has emitted so far.
    emitted: Cell<u64>,
}

impl Sequence {
    fn open(config: &str) -> Result<Self, PluginError> {
        let config: SequenceConfig = error::config("sequence", config)?;
        if config.count > MAX_COUNT {
            return Err(error::invalid_config(format!("sequence: count is at most {MAX_COUNT}")));
        }
        if !LEVELS.contains(&config.level.as_str()) {
            return Err(error::invalid_config(format!(
                "sequence: level \"{}\" is not one of {LEVELS:?}",
                config.level
            )));
        }
        Ok(Sequence { config, emitted: Cell::new(0) })
    }
}

impl GuestSource for Sequence {
    fn next(&self, max: u32) -> Result<Vec<LogEntry>, PluginError> {
        let start = self.emitted.get();
        let n = (self.config.count - start).min(u64::from(max));
        let now = host::timestamp().saturating_mul(1_000_000_000);
        let entries = (start + 1..=start + n)
            .map(|i| LogEntry {
                timestamp: now,
                level: Some(self.config.level.clone()),
                message: format!("{} {i}", self.config.message),
                source: String::new(), // the host names it PLUGIN/NAME
                fields: vec![("seq".into(), i.to_string())],
            })
            .collect();
        self.emitted.set(start + n);
        Ok(entries)
    }
}

// ---------------------------------------------------------------------------------------
// parser: logfmt

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogfmtConfig {
    #[serde(default)]
    strict: bool,
}

pub struct LogfmtParser {
    strict: bool,
}

impl LogfmtParser {
    fn open(config: &str) -> Result<Self, PluginError> {
        let c: LogfmtConfig = error::config("logfmt", config)?;
        Ok(LogfmtParser { strict: c.strict })
    }

    fn entry(&self, line: &str) -> Result<Option<LogEntry>, String> {
        if line.trim().is_empty() {
            return Ok(None);
        }
        let pairs = logfmt_pairs(line);
        let mut entry = LogEntry {
            timestamp: 0,
            level: None,
            message: String::new(),
            source: String::new(),
            fields: Vec::new(),
        };
        if pairs.iter().all(|(_, v)| v.is_none()) {
            if self.strict {
                return Err("no key=value pair".into());
            }
            entry.message = line.to_string();
            return Ok(Some(entry));
        }
        for (key, value) in pairs {
            let value = value.unwrap_or_default();
            match key.as_str() {
                "msg" | "message" if entry.message.is_empty() => entry.message = value,
                "level" | "lvl" if entry.level.is_none() => entry.level = Some(value.to_ascii_lowercase()),
                "time" | "ts" if entry.timestamp == 0 => match parse_rfc3339(&value) {
                    Some(ns) => entry.timestamp = ns,
                    None if self.strict => return Err(format!("time \"{value}\" is not RFC 3339")),
                    None => entry.fields.push((key, value)),
                },
                _ => entry.fields.push((key, value)),
            }
        }
        Ok(Some(entry))
    }
}

impl GuestParser for LogfmtParser {
    fn parse(&self, lines: Vec<String>) -> Result<Vec<Option<LogEntry>>, PluginError> {
        // One result per line, in order: the host checks the count.
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                self.entry(line).map_err(|e| {
                    error::invalid_input(format!(
                        "logfmt: line {} of the batch: {e}: {}",
                        i + 1,
                        shorten(line)
                    ))
                })
            })
            .collect()
    }
}

/// At most 80 characters of `s`, for messages.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(80) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}...", &s[..cut]),
    }
}

/// The key=value pairs of a logfmt line, in order. A bare word is a key
/// without a value. Quoted values take \" and \\ escapes; an unterminated
/// quote runs to the end of the line.
fn logfmt_pairs(line: &str) -> Vec<(String, Option<String>)> {
    let mut pairs = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return pairs;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        if chars.next_if_eq(&'=').is_none() {
            pairs.push((key, None));
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => value.push('\n'),
                        Some('t') => value.push('\t'),
                        Some(e) => value.push(e),
                        None => value.push('\\'),
                    },
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                value.push(c);
            }
        }
        pairs.push((key, Some(value)));
    }
}

// ---------------------------------------------------------------------------------------
// filter: contains

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContainsConfig {
    text: String,
    field: Option<String>,
    #[serde(default)]
    invert: bool,
}

pub struct Contains {
    config: ContainsConfig,
}

impl Contains {
    fn open(config: &str) -> Result<Self, PluginError> {
        let config: ContainsConfig = error::config("contains", config)?;
        if config.text.is_empty() {
            return Err(error::invalid_config("contains: text must not be empty"));
        }
        Ok(Contains { config })
    }

    fn matches(&self, e: &LogEntry) -> bool {
        let c = &self.config;
        let found = match &c.field {
            None => e.message.contains(&c.text),
            Some(f) => e.fields.iter().any(|(k, v)| k == f && v.contains(&c.text)),
        };
        found != c.invert
    }
}

impl GuestFilter for Contains {
    fn keep(&self, entries: Vec<LogEntry>) -> Result<Vec<bool>, PluginError> {
        Ok(entries.iter().map(|e| self.matches(e)).collect())
    }
}

// ---------------------------------------------------------------------------------------
// output: logfmt

pub struct LogfmtOutput {
    written: Cell<u64>,
}

impl LogfmtOutput {
    fn open(config: &str) -> Result<Self, PluginError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct NoConfig {}
        let _: NoConfig = error::config("logfmt-out", config)?;
        Ok(LogfmtOutput { written: Cell::new(0) })
    }
}

impl GuestOutput for LogfmtOutput {
    fn write(&self, entries: Vec<LogEntry>) -> Result<Vec<String>, PluginError> {
        self.written.set(self.written.get() + entries.len() as u64);
        Ok(entries.iter().map(render_logfmt).collect())
    }
}

impl Drop for LogfmtOutput {
    // Runs when the pipeline drops the resource at its end.
    fn drop(&mut self) {
        host::log(Level::Info, &format!("logfmt-out: wrote {} entries", self.written.get()));
    }
}

fn render_logfmt(e: &LogEntry) -> String {
    let mut out = String::new();
    let mut pair = |k: &str, v: &str| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(k);
        out.push('=');
        if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '"' || c == '=' || c == '\\') {
            out.push('"');
            for c in v.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
            out.push('"');
        } else {
            out.push_str(v);
        }
    };
    if e.timestamp != 0 {
        pair("time", &format_rfc3339(e.timestamp));
    }
    if let Some(level) = &e.level {
        pair("level", level);
    }
    pair("msg", &e.message);
    for (k, v) in &e.fields {
        pair(k, v);
    }
    out
}

// ---------------------------------------------------------------------------------------
// RFC 3339 times <-> Unix nanoseconds (UTC), without a date library.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2024-05-01T10:00:00Z`, `2024-05-01T12:00:00.25+02:00` -> Unix nanoseconds;
/// `None` for anything else, and for times before 1970 or after 2554.
fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d, h, mi, sec) =
        (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let off = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    u64::try_from(secs).ok()?.checked_mul(1_000_000_000)?.checked_add(nanos as u64)
}

fn format_rfc3339(ns: u64) -> String {
    let secs = (ns / 1_000_000_000) as i64;
    let frac = ns % 1_000_000_000;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let mut s = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem / 60 % 60, rem % 60);
    if frac != 0 {
        let digits = format!("{frac:09}");
        let _ = write!(s, ".{}", digits.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn entry(message: &str) -> LogEntry {
        LogEntry { timestamp: 0, level: None, message: message.into(), source: String::new(), fields: vec![] }
    }

    #[test]
    fn sequence_source() {
        let s = Sequence::open(r#"{"count": 5, "message": "m", "level": "warn"}"#).unwrap();
        let a = s.next(3).unwrap();
        assert_eq!(a.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), ["m 1", "m 2", "m 3"]);
        assert_eq!(a[0].level.as_deref(), Some("warn"));
        assert_eq!(a[0].timestamp, host::TEST_TIME * 1_000_000_000);
        assert_eq!(a[2].fields, vec![("seq".to_string(), "3".to_string())]);
        assert_eq!(s.next(3).unwrap().len(), 2);
        assert!(s.next(3).unwrap().is_empty());
        assert!(s.next(0).unwrap().is_empty());
        for bad in [r#"{}"#, r#"{"count": 1, "level": "loud"}"#, r#"{"count": 20000000}"#, r#"{"count": -1}"#]
        {
            assert_eq!(Sequence::open(bad).err().map(|e| e.kind), Some(ErrorKind::InvalidConfig), "{bad}");
        }
    }

    #[test]
    fn logfmt_parser() {
        let p = LogfmtParser::open("").unwrap();
        let got = p
            .parse(vec![
                r#"time=2024-05-01T10:00:00.5Z level=WARN msg="disk \"full\"" path=/var free=3%"#.into(),
                "".into(),
                "just words".into(),
                "ts=yesterday flag".into(),
            ])
            .unwrap();
        assert_eq!(got.len(), 4);
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.timestamp, 1_714_557_600_500_000_000);
        assert_eq!(e.level.as_deref(), Some("warn"));
        assert_eq!(e.message, "disk \"full\"");
        assert_eq!(e.fields, vec![("path".into(), "/var".into()), ("free".into(), "3%".into())]);
        assert!(got[1].is_none());
        assert_eq!(got[2].as_ref().unwrap().message, "just words");
        let e = got[3].as_ref().unwrap();
        assert_eq!(e.fields, vec![("ts".into(), "yesterday".into()), ("flag".into(), "".into())]);

        let strict = LogfmtParser::open(r#"{"strict": true}"#).unwrap();
        let e = strict.parse(vec!["a=1".into(), "no pairs here".into()]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert_eq!(e.message, "logfmt: line 2 of the batch: no key=value pair: no pairs here");
        assert_eq!(strict.parse(vec!["time=x".into()]).unwrap_err().kind, ErrorKind::InvalidInput);
        assert!(LogfmtParser::open(r#"{"strict": 1}"#).is_err());
    }

    #[test]
    fn pairs() {
        assert_eq!(
            logfmt_pairs(r#"a="x y" b c=\ d="e\\f"#),
            vec![
                ("a".into(), Some("x y".into())),
                ("b".into(), None),
                ("c".into(), Some("\\".into())),
                ("d".into(), Some("e\\f".into())),
            ]
        );
        assert_eq!(logfmt_pairs(r#"a="unterminated"#), vec![("a".into(), Some("unterminated".into()))]);
        assert_eq!(logfmt_pairs("=v"), vec![("".into(), Some("v".into()))]);
    }

    #[test]
    fn contains_filter() {
        let mut with_field = entry("x");
        with_field.fields.push(("path".into(), "/api/users".into()));
        let entries = vec![entry("disk full"), entry("ok"), with_field];
        let f = Contains::open(r#"{"text": "full"}"#).unwrap();
        assert_eq!(f.keep(entries.clone()).unwrap(), [true, false, false]);
        let f = Contains::open(r#"{"text": "full", "invert": true}"#).unwrap();
        assert_eq!(f.keep(entries.clone()).unwrap(), [false, true, true]);
        let f = Contains::open(r#"{"text": "/api", "field": "path"}"#).unwrap();
        assert_eq!(f.keep(entries).unwrap(), [false, false, true]);
        assert!(Contains::open(r#"{"text": ""}"#).is_err());
        assert!(Contains::open(r#"{}"#).is_err());
    }

    #[test]
    fn logfmt_output() {
        host::take_logged();
        let o = LogfmtOutput::open("{}").unwrap();
        let mut e = entry("disk \"full\"");
        e.timestamp = 1_714_557_600_500_000_000;
        e.level = Some("warn".into());
        e.fields = vec![("path".into(), "/var".into()), ("empty".into(), "".into())];
        assert_eq!(
            o.write(vec![e, entry("plain")]).unwrap(),
            [r#"time=2024-05-01T10:00:00.5Z level=warn msg="disk \"full\"" path=/var empty="""#, "msg=plain",]
        );
        drop(o);
        assert_eq!(host::take_logged(), vec![(Level::Info, "logfmt-out: wrote 2 entries".to_string())]);
        assert!(LogfmtOutput::open(r#"{"x": 1}"#).is_err());
    }

    #[test]
    fn round_trip() {
        let p = LogfmtParser::open("").unwrap();
        let o = LogfmtOutput::open("").unwrap();
        let line = r#"time=2024-05-01T10:00:00Z level=error msg="a b" k="x=y" q="\"\\""#;
        let e = p.parse(vec![line.into()]).unwrap().remove(0).unwrap();
        assert_eq!(o.write(vec![e]).unwrap(), [line]);
    }

    #[test]
    fn times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00+02:00"), Some(1_714_557_600_000_000_000));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00.123456789123Z"), Some(951_782_400_123_456_789));
        for bad in [
            "",
            "2024-05-01",
            "2024-05-01T10:00:00",
            "2024-13-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2024-05-01T10:00:00.Z",
            "２024-05-01T10:00:00Z",
            "2024-05-01T10:00:00+0200",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        for ns in [0, 951_782_400_123_456_789, 1_714_557_600_500_000_000, u64::MAX] {
            if let Some(back) = parse_rfc3339(&format_rfc3339(ns)) {
                assert_eq!(back, ns);
            } else {
                panic!("{ns} -> {}", format_rfc3339(ns));
            }
        }
    }
}
