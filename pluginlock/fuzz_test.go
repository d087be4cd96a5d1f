package pluginlock

import (
	"reflect"
	"testing"
)

// FuzzParse: any input parses or is refused with a *Error, never a panic;
// what parses writes back to the same lock.
func FuzzParse(f *testing.F) {
	f.Add([]byte("version = 1\n\n[plugins.hello]\nsource = \"registry\"\nregistry = \"team\"\nref = \"oci://r/p/hello@sha256:x\"\nversion = \"1.0.0\"\nsha256 = \"" + sum + "\"\nsize = 10\nkey = \"sha256:" + sum + "\"\n"))
	f.Add([]byte("version = 1\n[plugins.a]\nsource = 'file'\nref = 'file:///a'\nsha256 = '" + sum + "'\nsize = 1\nupstream = 'b'\n"))
	f.Add([]byte("version = 1\nx = [[[[[[[[[1]]]]]]]]]\n"))
	f.Add([]byte("version = 1\n[plugins.a]\nsize = '''\n'''\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse("plugins.lock", data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not a *Error", err, err)
			}
			return
		}
		back, err := Parse("plugins.lock", l.Marshal())
		if err != nil {
			t.Fatalf("the marshalled lock does not parse: %v\n%s", err, l.Marshal())
		}
		if !reflect.DeepEqual(back, l) {
			t.Fatalf("round trip differs:\n%+v\n%+v", l, back)
		}
	})
}
