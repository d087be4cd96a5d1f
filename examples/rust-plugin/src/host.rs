//! The host's functions, as this plugin calls them.
//!
//! In the component they are the `driftless:plugin/host` and
//! `driftless:plugin/state` imports. Unit tests run on the build machine's own
//! target (`cargo test`), where those imports do not exist: there, `log`
//! records the message for the test to read, `timestamp` is a fixed time, and
//! the state is a map of the test's thread.

pub(crate) use crate::driftless::plugin::types::{Level, PluginError};

#[cfg(target_arch = "wasm32")]
pub(crate) fn log(level: Level, message: &str) {
    crate::driftless::plugin::host::log(level, message);
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn timestamp() -> u64 {
    crate::driftless::plugin::host::timestamp()
}

/// The plugin's durable state: what `key` holds, if anything.
#[cfg(target_arch = "wasm32")]
pub(crate) fn state_get(key: &str) -> Option<Vec<u8>> {
    crate::driftless::plugin::state::get(key)
}

/// Stores `value` under `key`. The host keeps it only if the call succeeds,
/// and never in check mode; it refuses (kind `failed`) a key or value over
/// its limits.
#[cfg(target_arch = "wasm32")]
pub(crate) fn state_set(key: &str, value: &[u8]) -> Result<(), PluginError> {
    crate::driftless::plugin::state::set(key, value)
}

/// At most `limit` keys starting with `prefix`, in byte order, after `after`.
#[cfg(target_arch = "wasm32")]
pub(crate) fn state_keys(prefix: &str, after: Option<&str>, limit: u32) -> Vec<String> {
    crate::driftless::plugin::state::keys(prefix, after, limit)
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static LOGGED: std::cell::RefCell<Vec<(Level, String)>> = const { std::cell::RefCell::new(Vec::new()) };
    static STATE: std::cell::RefCell<std::collections::BTreeMap<String, Vec<u8>>> =
        const { std::cell::RefCell::new(std::collections::BTreeMap::new()) };
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn state_get(key: &str) -> Option<Vec<u8>> {
    STATE.with(|s| s.borrow().get(key).cloned())
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn state_set(key: &str, value: &[u8]) -> Result<(), PluginError> {
    STATE.with(|s| s.borrow_mut().insert(key.to_string(), value.to_vec()));
    Ok(())
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn state_keys(prefix: &str, after: Option<&str>, limit: u32) -> Vec<String> {
    STATE.with(|s| {
        s.borrow()
            .keys()
            .filter(|k| k.starts_with(prefix) && after.is_none_or(|a| k.as_str() > a))
            .take(limit as usize)
            .cloned()
            .collect()
    })
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn log(level: Level, message: &str) {
    LOGGED.with(|l| l.borrow_mut().push((level, message.to_string())));
}

/// The time unit tests see: 2023-11-14T22:13:20Z.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) const TEST_TIME: u64 = 1_700_000_000;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn timestamp() -> u64 {
    TEST_TIME
}

/// The messages logged on this thread since the last call.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) fn take_logged() -> Vec<(Level, String)> {
    LOGGED.with(|l| std::mem::take(&mut *l.borrow_mut()))
}
