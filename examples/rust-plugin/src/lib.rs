//! rust-plugin: the reference Driftless plugin in Rust.
//!
//! It implements every interface of the contract's `plugin` world
//! (`driftless:plugin/plugin@0.1.0`, in the repository's `wit/plugin.wit`):
//!
//! | interface   | what this plugin provides                         | file              |
//! |-------------|---------------------------------------------------|-------------------|
//! | `metadata`  | name, version, description                        | `lib.rs`          |
//! | `tasks`     | `bump-version`, `ensure-line`, `pin-version` (check mode, diffs) | `tasks.rs` |
//! | `facts`     | collector `rust`                                  | `facts.rs`        |
//! | `templates` | filter `truncate`, function `semver_bump`         | `templates.rs`    |
//! | `logs`      | source `sequence`, parser `logfmt`, filter `contains`, output `logfmt-out` | `logs.rs` |
//! | `host`      | imported: `log`, `timestamp`                      | `host.rs`         |
//! | `state`     | imported: `get`, `set`, `keys` (`pin-version`, `rust`) | `host.rs`    |
//!
//! Every failure the plugin can describe is an `Err(PluginError { kind, message })`
//! (helpers in `error.rs`); nothing that comes from the host is `unwrap`ped,
//! because a panic is a trap and the host throws the instance away.

wit_bindgen::generate!({
    // The contract's world that exports everything. The macro reads the WIT
    // from the repository's wit/ directory (a copy of it works as well).
    world: "driftless:plugin/plugin@0.1.0",
    path: "../../wit",
});

mod error;
mod facts;
mod host;
mod logs;
mod tasks;
mod templates;

use exports::driftless::plugin::metadata::{Guest as MetadataGuest, PluginInfo};

/// The plugin's name. Users know a plugin by its file name; keep them equal.
pub(crate) const PLUGIN_NAME: &str = "rust-plugin";
pub(crate) const PLUGIN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The type the exported interfaces are implemented on (one `impl` per
/// interface, in the module of that interface).
pub(crate) struct Plugin;

impl MetadataGuest for Plugin {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: PLUGIN_NAME.into(),
            version: PLUGIN_VERSION.into(),
            description: "The reference Rust plugin: tasks bump-version, ensure-line and \
                          pin-version, facts collector rust, template filter truncate and function semver_bump, \
                          log source sequence, parser logfmt, filter contains and output logfmt-out."
                .into(),
        }
    }
}

// The exported functions the host calls, pointing at the impls above.
export!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_itself() {
        let info = Plugin::describe();
        assert_eq!(info.name, "rust-plugin");
        assert_eq!(info.version, "0.1.0");
    }
}
