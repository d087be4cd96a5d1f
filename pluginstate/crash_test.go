package pluginstate

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv makes the test binary a committer that TestCrashSafety
// kills: its value is the database.
const crashChildEnv = "PLUGINSTATE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

// crashChild commits transactions until it is killed, from where the
// database is: transaction i sets "counter" and three keys "a", "b", "c" to
// i, adds "k<i>" with a value of a few KiB (so that commits span pages),
// and deletes "k<i-20>". It prints i once Commit has returned.
func crashChild(path string) {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	lim := DefaultLimits()
	out := bufio.NewWriter(os.Stdout)
	for {
		tx := s.Begin("crash", lim)
		v, _, err := tx.Get("counter")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		i := 0
		if v != nil {
			i, _ = strconv.Atoi(string(v))
		}
		i++
		val := []byte(strconv.Itoa(i))
		for _, k := range []string{"counter", "a", "b", "c"} {
			tx.Set(k, val)
		}
		tx.Set(fmt.Sprintf("k%d", i), []byte(strings.Repeat(strconv.Itoa(i%10), 3000+i%5000)))
		tx.Delete(fmt.Sprintf("k%d", i-20))
		if err := tx.Commit(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Fprintln(out, i)
		out.Flush()
	}
}

// kill -9 at random points of a stream of commits loses no commit that
// returned, leaves no commit half done, and corrupts nothing.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 14))
	reported := 0
	for round := range 8 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan int, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if n, err := strconv.Atoi(sc.Text()); err == nil {
					lines <- n
				}
			}
		}()
		// Kill after the first commit of the round, at a random time.
		first, ok := <-lines
		if !ok {
			cmd.Wait()
			t.Fatalf("round %d: the child committed nothing: %s", round, stderr.String())
		}
		reported = max(reported, first)
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for n := range lines {
			reported = max(reported, n)
		}
		cmd.Wait()
		if s := stderr.String(); s != "" {
			t.Fatalf("round %d: the child failed: %s", round, s)
		}
		reported = checkCrashed(t, path, reported, round)
	}
}

// checkCrashed checks the database after a kill and returns the last
// committed transaction.
func checkCrashed(t *testing.T, path string, reported, round int) int {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("round %d: open after the kill: %v", round, err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Check(ctx); err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	got := stored(t, s, "crash")
	n, err := strconv.Atoi(got["counter"])
	if err != nil {
		t.Fatalf("round %d: counter %q", round, got["counter"])
	}
	// Every commit that returned is there; at most the one in flight
	// (committed, killed before it printed) is beyond.
	if n < reported || n > reported+1 {
		t.Fatalf("round %d: the store holds commit %d, the child reported %d", round, n, reported)
	}
	// All of the last transaction, and nothing of a later one.
	for _, k := range []string{"a", "b", "c"} {
		if got[k] != got["counter"] {
			t.Fatalf("round %d: %s = %q, counter = %q: a commit was applied in part", round, k, got[k], got["counter"])
		}
	}
	keys := 0
	for k, v := range got {
		if !strings.HasPrefix(k, "k") {
			continue
		}
		keys++
		i, _ := strconv.Atoi(k[1:])
		if i <= n-20 || i > n || len(v) != 3000+i%5000 {
			t.Fatalf("round %d: key %s (%d bytes) after commit %d", round, k, len(v), n)
		}
	}
	if keys != min(n, 20) {
		t.Fatalf("round %d: %d k-keys after commit %d", round, keys, n)
	}
	// The usage the store keeps is the entries' own.
	u, err := s.Usage(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	var bytes int64
	for k, v := range got {
		bytes += int64(len(k) + len(v))
	}
	if u.Keys != int64(len(got)) || u.Bytes != bytes {
		t.Fatalf("round %d: usage %+v, entries %d keys %d bytes", round, u, len(got), bytes)
	}
	t.Logf("round %d: killed after commit %d (reported %d)", round, n, reported)
	return n
}
