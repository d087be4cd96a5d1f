package registry

import (
	"strings"
	"testing"
)

// FuzzParseIndex: any index.json is parsed or refused, never a panic, and
// what parses has only valid entries.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"schema":1,"plugins":{"hello":{"description":"d","versions":{"1.0.0":{"url":"a.wasm","sha256":"` + strings.Repeat("a", 64) + `","size":3,"signature":"a.sig"}}}}}`))
	f.Add([]byte(`{"schema":1,"plugins":{}}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Add([]byte(`{"schema":1,"plugins":{"a":{"versions":{"v1.2.3-rc.1+b":{"url":"x","sha256":"` + strings.Repeat("0", 64) + `","size":1}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := ParseIndex("index.json", data)
		if err != nil {
			return
		}
		for name, p := range idx.Plugins {
			if !nameOK(name) {
				t.Fatalf("accepted plugin name %q", name)
			}
			for v, e := range p.Versions {
				if versionKey(v) == "" || !hexSHA256.MatchString(e.SHA256) || e.Size <= 0 || e.URL == "" {
					t.Fatalf("accepted entry %q %+v", v, e)
				}
			}
		}
		_ = highest(sortedKeys(idx.Plugins))
	})
}
