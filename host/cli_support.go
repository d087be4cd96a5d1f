package host

// CheckName reports why name cannot be a plugin name (letters, digits,
// '-' and '_', starting with a letter or digit, at most 128 characters),
// or nil. The CLI and playbooks check names with it before they build a
// path from one (plugins/NAME.wasm) or split a PLUGIN.TASK reference.
func CheckName(name string) error { return checkName(name) }
