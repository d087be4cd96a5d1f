// Package testtool finds, for tests, the external programs that
// `make tools-registries` builds and links into build/tools/: a real OCI
// registry (distribution's `registry`), Sigstore's `cosign` and
// bytecodealliance's `wkg`; and starts the registry for a test. A test
// whose tool is missing is skipped, naming the make target that builds it;
// with DRIFTLESS_REQUIRE_EXAMPLES=1 (set by `make test`) it fails instead,
// so that CI never passes by skipping.
package testtool

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/driftless-dev/driftless/internal/builtexample"
)

// Root returns the repository's root directory.
func Root() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(self)))
}

// Path returns the absolute path of build/tools/NAME ("registry", "cosign"
// or "wkg"), or skips the test (fails it under DRIFTLESS_REQUIRE_EXAMPLES=1)
// when it is not built.
func Path(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(Root(), "build", "tools", name)
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("%s is not built; run `make tools-registries` (make test builds it)", p)
		if builtexample.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// Registry is a running distribution registry.
type Registry struct {
	// Host is its HOST:PORT on the loopback interface.
	Host string
	// Dir is its storage directory.
	Dir string

	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
}

// RegistryOptions configure StartRegistry.
type RegistryOptions struct {
	// User and Password, if set, make the registry require them (htpasswd
	// basic auth): requests without them get 401.
	User, Password string
}

// StartRegistry starts a real OCI registry on a free loopback port with a
// temporary storage directory; it stops when the test ends.
func StartRegistry(t testing.TB, opts RegistryOptions) *Registry {
	t.Helper()
	bin := Path(t, "registry")
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	auth := ""
	if opts.User != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(opts.Password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(opts.User+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: driftless-test\n    path: %s\n", htpasswd)
	}
	for attempt := 0; ; attempt++ {
		host := freeAddr(t)
		config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: driftless-test-secret
%s`, storage, host, auth)
		cfgPath := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		r := &Registry{Host: host, Dir: storage, stderr: &syncBuffer{}, done: make(chan struct{})}
		r.cmd = exec.Command(bin, "serve", cfgPath)
		r.cmd.Stdout, r.cmd.Stderr = r.stderr, r.stderr
		r.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { r.cmd.Wait(); close(r.done) }()
		if err := r.waitReady(10 * time.Second); err != nil {
			r.Stop()
			if attempt < 2 {
				continue // the port may have been taken between freeAddr and serve
			}
			t.Fatalf("registry did not start: %v\n%s", err, r.stderr.String())
		}
		t.Cleanup(func() {
			r.Stop()
			if t.Failed() {
				t.Logf("registry output:\n%s", r.stderr.String())
			}
		})
		return r
	}
}

// URL returns the oci:// URL of namespace ns in the registry.
func (r *Registry) URL(ns string) string { return "oci://" + r.Host + "/" + ns }

func (r *Registry) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return fmt.Errorf("exited: %v", r.cmd.ProcessState)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Host+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 || resp.StatusCode == 401 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no answer on %s within %s", r.Host, limit)
}

// Stop stops the registry (idempotent).
func (r *Registry) Stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// FreeAddr returns a loopback HOST:PORT nothing listens on (for "registry
// down" tests).
func FreeAddr(t testing.TB) string { return freeAddr(t) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
