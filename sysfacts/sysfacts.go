// Package sysfacts gathers Driftless's built-in facts: what every run knows
// about the machine without any plugin (host name, operating system,
// kernel, architecture, CPUs, memory, user, time zone, addresses).
//
// Only what is reliable and fast is gathered: no DNS lookups, no external
// commands, nothing that can hang. A fact that cannot be read on this
// system (e.g. memory_total_bytes without /proc) is left out rather than
// guessed. The result is a JSON-ready map: strings, ints, []string and
// nested map[string]any.
package sysfacts

import (
	"bufio"
	"net"
	"os"
	"os/user"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/internal/safefile"
)

// Keys lists every top-level key Collect may return, in documentation
// order.
var Keys = []string{
	"hostname", "os", "kernel", "architecture", "go_arch", "distribution",
	"cpu_count", "memory_total_bytes", "uptime_seconds", "user", "time",
	"ipv4_addresses", "ipv6_addresses", "go_version",
}

// readSmall reads a system file the facts come from: /etc files may be
// links to anything, so the type is checked without blocking and at most
// 64 KiB is read (/proc files say they are empty and are read to the end).
func readSmall(path string) ([]byte, error) {
	return safefile.ReadFile(path, 64<<10)
}

// Collect returns the built-in facts of the machine it runs on.
func Collect() map[string]any {
	f := map[string]any{
		"os":           runtime.GOOS,
		"architecture": machine(runtime.GOARCH),
		"go_arch":      runtime.GOARCH,
		"cpu_count":    runtime.NumCPU(),
		"go_version":   runtime.Version(),
		"time":         timeFacts(time.Now()),
	}
	if h, err := os.Hostname(); err == nil {
		f["hostname"] = h
	}
	if b, err := readSmall("/proc/sys/kernel/osrelease"); err == nil {
		f["kernel"] = strings.TrimSpace(string(b))
	}
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, err := readSmall(p); err == nil {
			if d := parseOSRelease(string(b)); len(d) > 0 {
				f["distribution"] = d
			}
			break
		}
	}
	if b, err := readSmall("/proc/meminfo"); err == nil {
		if n, ok := parseMemTotal(string(b)); ok {
			f["memory_total_bytes"] = n
		}
	}
	if b, err := readSmall("/proc/uptime"); err == nil {
		if n, ok := parseUptime(string(b)); ok {
			f["uptime_seconds"] = n
		}
	}
	if u := userFacts(); len(u) > 0 {
		f["user"] = u
	}
	v4, v6 := addresses()
	f["ipv4_addresses"] = v4
	f["ipv6_addresses"] = v6
	return f
}

// machine names an architecture the way uname -m does (Ansible's
// ansible_architecture), from Go's GOARCH.
func machine(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "386":
		return "i386"
	case "arm64":
		return "aarch64"
	}
	return goarch
}

// parseOSRelease reads the fields of an os-release(5) file that identify
// the distribution.
func parseOSRelease(text string) map[string]any {
	keys := map[string]string{"ID": "id", "VERSION_ID": "version", "PRETTY_NAME": "name", "VERSION_CODENAME": "codename", "ID_LIKE": "like"}
	out := map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		name, known := keys[k]
		if !known {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `"'`)
		}
		if v != "" {
			out[name] = v
		}
	}
	return out
}

// parseMemTotal reads MemTotal from /proc/meminfo, in bytes.
func parseMemTotal(text string) (int64, bool) {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			n, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || n < 0 {
				return 0, false
			}
			if len(fields) >= 3 && strings.EqualFold(fields[2], "kB") {
				n *= 1024
			}
			return n, true
		}
	}
	return 0, false
}

// parseUptime reads the whole seconds of /proc/uptime.
func parseUptime(text string) (int64, bool) {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return 0, false
	}
	secs, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || secs < 0 {
		return 0, false
	}
	return int64(secs), true
}

func userFacts() map[string]any {
	out := map[string]any{}
	if u, err := user.Current(); err == nil {
		out["name"] = u.Username
		out["uid"] = u.Uid
		out["gid"] = u.Gid
		out["home"] = u.HomeDir
		return out
	}
	if n := os.Getenv("USER"); n != "" {
		out["name"] = n
	}
	out["uid"] = strconv.Itoa(os.Getuid())
	out["gid"] = strconv.Itoa(os.Getgid())
	if h, err := os.UserHomeDir(); err == nil {
		out["home"] = h
	}
	return out
}

func timeFacts(now time.Time) map[string]any {
	zone, offset := now.Zone()
	sign := "+"
	if offset < 0 {
		sign, offset = "-", -offset
	}
	return map[string]any{
		"timezone":   timezone(now),
		"zone":       zone,
		"utc_offset": sign + twoDigits(offset/3600) + ":" + twoDigits(offset%3600/60),
		"epoch":      now.Unix(),
		"iso8601":    now.Format(time.RFC3339),
	}
}

// timezone names the local time zone as the TZ database does
// ("Europe/Paris"): from $TZ, else the /etc/localtime link, else
// /etc/timezone, else the zone's abbreviation.
func timezone(now time.Time) string {
	if name := now.Location().String(); name != "Local" {
		return name
	}
	if tz := strings.TrimPrefix(os.Getenv("TZ"), ":"); tz != "" {
		return tz
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok && name != "" {
			return name
		}
	}
	if b, err := readSmall("/etc/timezone"); err == nil {
		if name := strings.TrimSpace(string(b)); name != "" {
			return name
		}
	}
	zone, _ := now.Zone()
	return zone
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// addresses returns the machine's IPv4 and IPv6 addresses, loopback and
// link-local ones left out, sorted.
func addresses() (v4, v6 []string) {
	v4, v6 = []string{}, []string{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return v4, v6
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		if ip4 := ipn.IP.To4(); ip4 != nil {
			v4 = append(v4, ip4.String())
		} else {
			v6 = append(v6, ipn.IP.String())
		}
	}
	sort.Strings(v4)
	sort.Strings(v6)
	return v4, v6
}
