package host

// Host interfaces of the embedder's own (Options.Interfaces), with the
// bindings tools/witgen generates for examples/embedding/wit
// (acme:deploy/secrets), and WAT components importing them.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/driftless-dev/driftless/bindings"
	"github.com/driftless-dev/driftless/examples/embedding/gen/acme/deploy/secrets"
)

// secretsImport is the component import of acme:deploy/secrets, with get's
// result type replaceable (to import it with the wrong type).
func secretsImport(getType string) string {
	if getType == "" {
		getType = `(param "name" string) (result (result string (error $se)))`
	}
	return `
  (import "acme:deploy/secrets@0.1.0" (instance $secrets
    (type $se' (enum "not-found" "denied"))
    (export "secret-error" (type $se (eq $se')))
    (export "get" (func ` + getType + `))))
`
}

// secretsFixture is a task plugin whose "evil" task reads the secret
// called secret through acme:deploy/secrets and returns it as its output
// (secrets here are JSON strings), or fails with "not-found" or "denied".
func secretsFixture(name, secret string) fixture {
	data := secret + strings.Repeat("\x00", 64-len(secret)) + "not-found" + strings.Repeat("\x00", 7) + "denied"
	return fixture{
		name:        name,
		imports:     secretsImport(""),
		lowers:      `(core func $get (canon lower (func $secrets "get") (memory $libc "memory") (realloc (func $libc "realloc"))))`,
		coreImports: `(import "ext" "get" (func $get (param i32 i32 i32)))`,
		extExports:  `(export "get" (func $get))`,
		data:        watBytes([]byte(data)),
		evil: fmt.Sprintf(`(call $get (i32.const 2048) (i32.const %d) (i32.const 600))
	  (if (result i32) (i32.load8_u (i32.const 600))
	    (then (if (result i32) (i32.load8_u (i32.const 604))
	      (then (call $fail (i32.const 4) (i32.const 2128) (i32.const 6)))
	      (else (call $fail (i32.const 4) (i32.const 2112) (i32.const 9)))))
	    (else (call $ok (i32.load (i32.const 604)) (i32.load (i32.const 608)))))`, len(secret)),
	}
}

// vault implements acme:deploy/secrets: each plugin reads only its own
// secrets. It records who called, and can misbehave.
type vault struct {
	mu      sync.Mutex
	secrets map[string]map[string]string // plugin → name → value
	callers []string
	panics  bool
	fails   error
}

func (v *vault) Get(ctx context.Context, name string) (string, error) {
	plugin := CallingPlugin(ctx)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.callers = append(v.callers, plugin)
	switch {
	case v.panics:
		panic("vault exploded on " + name)
	case v.fails != nil:
		return "", v.fails
	}
	mine, ok := v.secrets[plugin]
	if !ok {
		return "", secrets.SecretErrorDenied
	}
	s, ok := mine[name]
	if !ok {
		return "", secrets.SecretErrorNotFound
	}
	return s, nil
}

// secretsInterface is what an embedder registers for acme:deploy/secrets.
func secretsInterface(impl secrets.Imports) Interface {
	return Interface{
		Name:   secrets.InterfaceName,
		Define: func(l *bindings.Linker) error { return secrets.AddToLinker(l, impl) },
		Check:  secrets.CheckImports,
	}
}

// An embedder's interface is linked for the plugins that import it, and the
// implementation knows which plugin calls.
func TestInterfaceLinked(t *testing.T) {
	v := &vault{secrets: map[string]map[string]string{"deployer": {"db-password": `"s3cret"`}}}
	h, err := New(Options{Interfaces: []Interface{secretsInterface(v)}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	p := load(t, h, secretsFixture("deployer", "db-password"))
	res, err := p.ExecuteTask(ctx, "evil", "{}", false)
	if err != nil || res.Output != `"s3cret"` {
		t.Fatalf("the plugin read %q, %v", res.Output, err)
	}
	// The WIT error cases reach the plugin as values.
	p = load(t, h, secretsFixture("deployer", "api-key"))
	_, err = p.ExecuteTask(ctx, "evil", "{}", false)
	wantError(t, err, KindFailed, "plugin deployer: tasks.execute: not-found")
	p = load(t, h, secretsFixture("intruder", "db-password"))
	_, err = p.ExecuteTask(ctx, "evil", "{}", false)
	wantError(t, err, KindFailed, "plugin intruder: tasks.execute: denied")
	if got := strings.Join(v.callers, ","); got != "deployer,deployer,intruder" {
		t.Errorf("CallingPlugin saw %s", got)
	}
	if CallingPlugin(ctx) != "" {
		t.Error("CallingPlugin outside a call is not empty")
	}
	// A plugin that does not import it is not affected.
	echo(t, load(t, h, fixture{name: "plain"}), "plain")
}

// The import policy admits what the host's Interfaces define, nothing else.
func TestInterfacePolicy(t *testing.T) {
	ctx := context.Background()
	v := &vault{}
	plain, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	_, err = plain.LoadBytes(ctx, "deployer", secretsFixture("deployer", "x").wasm(t))
	wantError(t, err, KindLoad, "plugin deployer: load: import acme:deploy/secrets@0.1.0: unknown interface; plugins may import only "+
		"driftless:plugin/host@0.1.0, driftless:plugin/state@0.1.0 and wasi:* (without sockets and http)")

	h, err := New(Options{Interfaces: []Interface{secretsInterface(v)}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	after := bystander(t, h)
	for _, c := range []struct {
		name string
		f    fixture
		want string
	}{
		{"other-interface", fixture{imports: `(import "acme:deploy/shell@0.1.0" (instance (export "run" (func (param "cmd" string)))))`},
			"import acme:deploy/shell@0.1.0: unknown interface; plugins may import only driftless:plugin/host@0.1.0, " +
				"driftless:plugin/state@0.1.0 and wasi:* (without sockets and http), and this host's own acme:deploy/secrets@0.1.0"},
		{"other-version", fixture{imports: strings.Replace(secretsImport(""), "@0.1.0", "@0.2.0", 1)},
			"import acme:deploy/secrets@0.2.0: unknown interface; plugins may import only driftless:plugin/host@0.1.0, " +
				"driftless:plugin/state@0.1.0 and wasi:* (without sockets and http), and this host's own acme:deploy/secrets@0.1.0"},
		{"mistyped", fixture{imports: secretsImport(`(param "name" string) (result string)`)},
			"function acme:deploy/secrets@0.1.0#get has type (string)->string, but the bindings expect (string)->result<string,enum{not-found,denied}>"},
		{"undefined-func", fixture{imports: `(import "acme:deploy/secrets@0.1.0" (instance (export "put" (func (param "name" string)))))`},
			"import acme:deploy/secrets@0.1.0#put: the host does not define it"},
		{"contract-extra", fixture{hostImport: strings.Replace(fixtureHost, `(export "timestamp"`,
			`(export "exec" (func (param "cmd" string))) (export "timestamp"`, 1)},
			"import driftless:plugin/host@0.1.0#exec: the host does not define it"},
		{"root-func", fixture{imports: `(import "get" (func (param "name" string) (result string)))`},
			"import get: unknown interface; plugins may import only driftless:plugin/host@0.1.0, " +
				"driftless:plugin/state@0.1.0 and wasi:* (without sockets and http), and this host's own acme:deploy/secrets@0.1.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.f.name = c.name
			_, err := h.LoadBytes(ctx, c.name, c.f.wasm(t))
			wantError(t, err, KindLoad, "plugin "+c.name+": load: "+c.want)
		})
	}
	after()
}

// An interface whose types live in a types-only interface of the same WIT
// package: the generated AddToLinker declares that one too, and the
// policy admits it.
func TestInterfaceTypesOnly(t *testing.T) {
	types := `
  (import "acme:deploy/types@0.1.0" (instance $dtypes
    (type $se' (enum "not-found" "denied"))
    (export "secret-error" (type (eq $se')))))
  (alias export $dtypes "secret-error" (type $dse))
  (import "acme:deploy/secrets@0.1.0" (instance $secrets
    (export "secret-error" (type $se (eq $dse)))
    (export "get" (func (param "name" string) (result (result string (error $se)))))))
`
	f := secretsFixture("deployer", "db-password")
	f.imports = types
	v := &vault{secrets: map[string]map[string]string{"deployer": {"db-password": `"typed"`}}}
	h, err := New(Options{Interfaces: []Interface{{
		Name: secrets.InterfaceName,
		Define: func(l *bindings.Linker) error {
			if err := l.Instance("acme:deploy/types@0.1.0").Declare(); err != nil {
				return err
			}
			return secrets.AddToLinker(l, v)
		},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	res, err := load(t, h, f).ExecuteTask(context.Background(), "evil", "{}", false)
	if err != nil || res.Output != `"typed"` {
		t.Fatalf("%q, %v", res.Output, err)
	}
}

// The implementation runs outside the sandbox: when it panics or fails
// with an error that is not the WIT's, the plugin's call traps, the
// instance goes, and the host and the plugin go on.
func TestInterfaceImplementationFails(t *testing.T) {
	v := &vault{secrets: map[string]map[string]string{"deployer": {"db-password": `"s3cret"`}}}
	h, err := New(Options{Interfaces: []Interface{secretsInterface(v)}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	p := load(t, h, secretsFixture("deployer", "db-password"))
	v.panics = true
	_, err = p.ExecuteTask(ctx, "evil", "{}", false)
	wantError(t, err, KindTrap, "plugin deployer: tasks.execute: host function acme:deploy/secrets@0.1.0#get panicked: vault exploded on db-password")
	var hp *bindings.HostPanicError
	if !errors.As(err, &hp) {
		t.Errorf("no *bindings.HostPanicError in %#v", err)
	}
	wantFresh(t, p, true)
	v.panics, v.fails = false, errors.New("vault sealed")
	_, err = p.ExecuteTask(ctx, "evil", "{}", false)
	wantErrorPrefix(t, err, KindTrap, "plugin deployer: tasks.execute: ")
	if !strings.Contains(err.Error(), "vault sealed") {
		t.Errorf("the implementation's error is not in %v", err)
	}
	v.fails = nil
	if res, err := p.ExecuteTask(ctx, "evil", "{}", false); err != nil || res.Output != `"s3cret"` {
		t.Fatalf("after the failures: %q, %v", res.Output, err)
	}
}

// New refuses Interfaces it cannot honour, saying what to do.
func TestInterfaceRefused(t *testing.T) {
	v := &vault{}
	good := secretsInterface(v)
	for _, c := range []struct {
		name   string
		ifaces []Interface
		want   string
	}{
		{"no-name", []Interface{{Define: good.Define}},
			`host: Options.Interfaces[0] (""): Name is not an interface name like acme:deploy/secrets@0.1.0 (use the generated InterfaceName)`},
		{"bad-name", []Interface{{Name: "secrets", Define: good.Define}},
			`host: Options.Interfaces[0] ("secrets"): Name is not an interface name like acme:deploy/secrets@0.1.0 (use the generated InterfaceName)`},
		{"driftless", []Interface{{Name: "driftless:plugin/shell@0.1.0", Define: good.Define}},
			`host: Options.Interfaces[0] ("driftless:plugin/shell@0.1.0"): the host provides the driftless: and wasi: interfaces itself; use a namespace of your own`},
		{"wasi", []Interface{{Name: "wasi:sockets/tcp@0.2.0", Define: good.Define}},
			`host: Options.Interfaces[0] ("wasi:sockets/tcp@0.2.0"): the host provides the driftless: and wasi: interfaces itself; use a namespace of your own`},
		{"twice", []Interface{good, good},
			`host: Options.Interfaces[1] ("acme:deploy/secrets@0.1.0"): given twice; give each interface once, with one implementation`},
		{"no-define", []Interface{{Name: secrets.InterfaceName}},
			`host: Options.Interfaces[0] ("acme:deploy/secrets@0.1.0"): Define is nil; it should call the generated AddToLinker with your implementation`},
		{"nil-impl", []Interface{secretsInterface(nil)},
			`host: Options.Interfaces[0] ("acme:deploy/secrets@0.1.0"): Define: witgen: AddToLinker with a nil implementation`},
		{"defines-other", []Interface{{Name: "acme:deploy/vault@0.1.0", Define: good.Define}},
			`host: Options.Interfaces[0] ("acme:deploy/vault@0.1.0"): Define did not define acme:deploy/vault@0.1.0 (it should call the generated AddToLinker of that interface)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := New(Options{Interfaces: c.ifaces})
			if err == nil {
				h.Close()
			}
			if err == nil || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}
