package templating

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"github.com/nikolalohinski/gonja/v2/loaders"

	"github.com/driftless-dev/driftless/internal/safefile"
)

// MaxTemplateSize bounds a template file (and an {% include %}d,
// {% import %}ed or {% extends %}ed one): a larger one is refused before
// it is read.
const MaxTemplateSize = 1 << 20

// loader serves the template being rendered under rootID and reads the
// templates it includes, imports or extends from files, relative to the
// directory of the template naming them (the root's: dir). Files are
// opened with safefile: a FIFO or a device named in an include cannot
// block or flood the render.
type loader struct {
	dir     string
	rootID  string
	rootSrc []byte
	// check, when set, checks every template read before gonja parses it
	// (call.prescan: its nesting).
	check func(name, src string) error
}

func (l *loader) Resolve(name string) (string, error) {
	if name == l.rootID || filepath.IsAbs(name) {
		return name, nil
	}
	return filepath.Join(l.dir, name), nil
}

func (l *loader) Inherit(from string) (loaders.Loader, error) {
	sub := *l
	if from != "" && from != l.rootID {
		p, err := l.Resolve(from)
		if err != nil {
			return nil, err
		}
		sub.dir = filepath.Dir(p)
	}
	return &sub, nil
}

func (l *loader) Read(name string) (io.Reader, error) {
	if name == l.rootID {
		if l.check != nil {
			if err := l.check(name, string(l.rootSrc)); err != nil {
				return nil, err
			}
		}
		return bytes.NewReader(l.rootSrc), nil
	}
	p, err := l.Resolve(name)
	if err != nil {
		return nil, err
	}
	data, err := safefile.ReadFile(p, MaxTemplateSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", name, safefile.Reason(err))
	}
	if l.check != nil {
		if err := l.check(p, string(data)); err != nil {
			return nil, err
		}
	}
	return bytes.NewReader(data), nil
}
