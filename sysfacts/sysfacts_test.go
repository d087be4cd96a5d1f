package sysfacts

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"
)

func TestCollect(t *testing.T) {
	f := Collect()
	if f["os"] != runtime.GOOS || f["go_arch"] != runtime.GOARCH || f["cpu_count"] != runtime.NumCPU() {
		t.Fatalf("os/go_arch/cpu_count wrong: %v", f)
	}
	if _, err := json.Marshal(f); err != nil {
		t.Fatalf("facts are not JSON-ready: %v", err)
	}
	known := map[string]bool{}
	for _, k := range Keys {
		known[k] = true
	}
	for k := range f {
		if !known[k] {
			t.Errorf("key %q is not listed in Keys", k)
		}
	}
	if runtime.GOOS == "linux" {
		for _, k := range []string{"hostname", "kernel", "memory_total_bytes", "user"} {
			if _, ok := f[k]; !ok {
				t.Errorf("linux facts miss %q", k)
			}
		}
		if n, _ := f["memory_total_bytes"].(int64); n <= 0 {
			t.Errorf("memory_total_bytes = %v", f["memory_total_bytes"])
		}
	}
}

func TestCollectIsFast(t *testing.T) {
	start := time.Now()
	Collect()
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Collect took %s", d)
	}
}

func TestParseOSRelease(t *testing.T) {
	got := parseOSRelease(`PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
# a comment
VERSION_ID="12"
VERSION_CODENAME=bookworm
ID=debian
ID_LIKE='rhel fedora'
garbage line
`)
	want := map[string]string{"name": "Debian GNU/Linux 12 (bookworm)", "version": "12", "codename": "bookworm", "id": "debian", "like": "rhel fedora"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %q", k, got[k], v)
		}
	}
}

func TestParseMemTotal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"MemTotal:       24682416 kB\nMemFree: 1 kB\n", 24682416 * 1024, true},
		{"MemFree: 1 kB\n", 0, false},
		{"MemTotal: lots kB\n", 0, false},
		{"", 0, false},
	} {
		got, ok := parseMemTotal(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parseMemTotal(%q) = %d, %v", c.in, got, ok)
		}
	}
}

func TestParseUptime(t *testing.T) {
	if n, ok := parseUptime("2781.23 1469.46\n"); !ok || n != 2781 {
		t.Errorf("got %d %v", n, ok)
	}
	if _, ok := parseUptime("x"); ok {
		t.Error("accepted garbage")
	}
}

func TestTimeFacts(t *testing.T) {
	loc := time.FixedZone("XST", -(5*3600 + 30*60))
	f := timeFacts(time.Date(2024, 1, 2, 3, 4, 5, 0, loc))
	if f["utc_offset"] != "-05:30" || f["zone"] != "XST" || f["iso8601"] != "2024-01-02T03:04:05-05:30" {
		t.Errorf("got %v", f)
	}
}

func TestMachine(t *testing.T) {
	if machine("amd64") != "x86_64" || machine("arm64") != "aarch64" || machine("riscv64") != "riscv64" {
		t.Error("wrong machine names")
	}
}
