package host

import (
	"fmt"
	"testing"
)

// Configs are checked against the definition's config-schema; configs that
// passed are remembered (bounded), failures never are.
func TestSchemaValidateAndRemember(t *testing.T) {
	s, err := compileSchema("p/task/t", `{"type":"object","properties":{"n":{"type":"integer","minimum":1}},"required":["n"]}`)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.validate(`{"n":0}`); err == nil || err.Error() !=
			"config does not match the config-schema: at /n: minimum: got 0, want 1" {
			t.Fatalf("invalid config: %v", err)
		}
		if err := s.validate(`{"n":`); err == nil {
			t.Fatal("invalid JSON passed")
		}
		if err := s.validate(`{"n":2}`); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.passed) != 1 {
		t.Fatalf("%d configs remembered", len(s.passed))
	}
	for i := range 1000 {
		if err := s.validate(fmt.Sprintf(`{"n":%d}`, i+1)); err != nil {
			t.Fatal(err)
		}
		if len(s.passed) > maxPassedConfigs {
			t.Fatalf("%d configs remembered", len(s.passed))
		}
	}
	big := fmt.Sprintf(`{"n":1,"pad":"%0*d"}`, maxPassedConfig, 0)
	if err := s.validate(big); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.passed[big]; ok {
		t.Error("a config over maxPassedConfig was remembered")
	}
}
