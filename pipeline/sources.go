package pipeline

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/logs"
	"github.com/driftless-dev/driftless/host"
)

const (
	// chunkSize is what one read of a line source asks for.
	chunkSize = 256 << 10
	// MaxLine is the longest line a built-in source passes on; a longer
	// line is split into pieces of MaxLine bytes.
	MaxLine = 1 << 20
)

// source produces batches until its input ends, the pipeline is stopped
// (rn.stop: it sends what it has read and returns) or aborted.
type source interface {
	run(rn *runner, out chan<- *batch) error
	close()
}

// lineSource reads lines from a file or standard input.
type lineSource struct {
	label   string
	r       io.Reader
	closer  io.Closer // nil for standard input, which the pipeline does not own
	regular bool      // a regular file: reads never wait for input
}

func (s *lineSource) close() {
	if s.closer != nil {
		s.closer.Close()
	}
}

// run reads chunks on a goroutine of their own (a read of a pipe or a
// terminal may wait for ever; stopping must not) and cuts them into lines.
// Lines are substrings of the chunk they were read in: a line costs no
// allocation, except one that spans two chunks or is not valid UTF-8
// (invalid bytes become U+FFFD, as components only take UTF-8).
//
// When the input is not a regular file, a partial batch is sent as soon as
// no more input is waiting, so that lines arriving slowly go through the
// pipeline at once. On stop, the lines read so far are sent; an incomplete
// last line (no newline yet) is not.
func (s *lineSource) run(rn *runner, out chan<- *batch) error {
	chunks := make(chan []byte, 4)
	var readErr error
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(chunks)
		buf := make([]byte, chunkSize)
		for {
			n, err := s.r.Read(buf)
			if n > 0 {
				var c []byte
				if n < chunkSize/4 {
					// A short read (a pipe, a terminal): keep only what was
					// read and reuse the buffer.
					c = make([]byte, n)
					copy(c, buf[:n])
				} else {
					c = buf[:n]
					buf = make([]byte, chunkSize)
				}
				select {
				case chunks <- c:
				case <-done:
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err // read by run after chunks is closed
				}
				return
			}
		}
	}()

	cur := rn.newLineBatch(s.label)
	var carry []byte
	flush := func() bool {
		if len(cur.lines) == 0 {
			return true
		}
		rn.stats.linesIn.Add(uint64(len(cur.lines)))
		ok := rn.send(out, cur)
		cur = rn.newLineBatch(s.label)
		return ok
	}
	add := func(line string) bool {
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if !utf8.ValidString(line) {
			line = strings.ToValidUTF8(line, "\uFFFD")
		}
		for len(line) > MaxLine {
			cur.lines = append(cur.lines, line[:MaxLine])
			line = line[MaxLine:]
			if len(cur.lines) == cap(cur.lines) && !flush() {
				return false
			}
		}
		cur.lines = append(cur.lines, line)
		if len(cur.lines) == cap(cur.lines) {
			return flush()
		}
		return true
	}
	for {
		select {
		case <-rn.stop:
			flush()
			return nil
		default:
		}
		var chunk []byte
		var ok bool
		select {
		case chunk, ok = <-chunks:
		case <-rn.stop:
			flush()
			return nil
		case <-rn.abort:
			return nil
		}
		if !ok {
			if readErr != nil {
				flush()
				return readErr
			}
			if len(carry) > 0 && !add(string(carry)) {
				return nil
			}
			flush()
			return nil
		}
		str := unsafe.String(&chunk[0], len(chunk))
		for len(str) > 0 {
			i := strings.IndexByte(str, '\n')
			if i < 0 {
				carry = append(carry, str...)
				if len(carry) >= MaxLine {
					if !add(string(carry)) {
						return nil
					}
					carry = carry[:0]
				}
				break
			}
			line := str[:i]
			if len(carry) > 0 {
				carry = append(carry, line...)
				line = string(carry)
				carry = carry[:0]
			}
			str = str[i+1:]
			if !add(line) {
				return nil
			}
		}
		if !s.regular && len(chunks) == 0 && !flush() {
			return nil
		}
	}
}

// pluginSource takes entries from a plugin's log source.
type pluginSource struct {
	key, label string
	src        *host.LogSource
	// g restarts a resumable source (resume = true) after a trap or a
	// limit and retries its call; nil: a failure stops the pipeline.
	g *guard
}

// next is one call of the source, through its guard when it has one.
func (s *pluginSource) next(rn *runner) ([]logs.LogEntry, error) {
	if s.g == nil {
		return s.src.Next(rn.work, rn.batchSize)
	}
	var es []logs.LogEntry
	retried, err := s.g.call(rn.work, 0, func() error {
		var err error
		es, err = s.src.Next(rn.work, rn.batchSize)
		return err
	})
	if err != nil && retried {
		return nil, fmt.Errorf("failed again after a restart on a fresh instance: %w", err)
	}
	return es, err
}

func (s *pluginSource) close() {}

func (s *pluginSource) run(rn *runner, out chan<- *batch) error {
	for {
		select {
		case <-rn.stop:
			return nil
		case <-rn.abort:
			return nil
		default:
		}
		es, err := s.next(rn)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return nil
		}
		for i := range es {
			if es[i].Source == "" {
				es[i].Source = s.label
			}
		}
		rn.stats.linesIn.Add(uint64(len(es)))
		if !rn.send(out, &batch{source: s.label, entries: es, parsed: true}) {
			return nil
		}
	}
}
