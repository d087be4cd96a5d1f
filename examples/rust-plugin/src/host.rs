//! The host's functions, as this plugin calls them.
//!
//! In the component they are the `driftless:plugin/host` imports. Unit tests
//! run on the build machine's own target (`cargo test`), where those imports do
//! not exist: there, `log` records the message for the test to read and
//! `timestamp` is a fixed time.

pub(crate) use crate::driftless::plugin::types::Level;

#[cfg(target_arch = "wasm32")]
pub(crate) fn log(level: Level, message: &str) {
    crate::driftless::plugin::host::log(level, message);
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn timestamp() -> u64 {
    crate::driftless::plugin::host::timestamp()
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static LOGGED: std::cell::RefCell<Vec<(Level, String)>> = const { std::cell::RefCell::new(Vec::new()) };
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
