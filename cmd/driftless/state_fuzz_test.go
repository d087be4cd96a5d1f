package main

import (
	"encoding/json"
	"testing"
)

// FuzzStateDoc: any input is a document or an error, never a panic, and a
// document parsed is one that export could have written.
func FuzzStateDoc(f *testing.F) {
	f.Add([]byte(`{"format":"driftless-state/1","plugin":"p","entries":[{"key":"k","value":"AAE="}]}`))
	f.Add([]byte(`{"format":"driftless-state/1","plugin":"p","entries":[]}`))
	f.Add([]byte(`{"format":"x"}`))
	f.Add([]byte(`[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseStateDoc("fuzz", data, 1<<16)
		if err != nil {
			return
		}
		if doc.Format != stateDocFormat {
			t.Fatalf("format %q accepted", doc.Format)
		}
		again, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseStateDoc("again", again, 1<<20); err != nil {
			t.Fatalf("a parsed document does not parse again: %v", err)
		}
	})
}
