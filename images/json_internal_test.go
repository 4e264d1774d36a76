package images

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr string
	}{
		{`{}`, ""},
		{` {"a":1,"b":[1,{"a":2}],"c":{"a":{"b":null}}} `, ""},
		{`[1,2,"x"]`, ""},
		{`"s"`, ""},
		{`{"a":1,"a":2}`, "duplicate key"},
		{`{"a":{"b":1,"b":2}}`, "duplicate key"},
		{`[{"x":1},{"x":1,"x":1}]`, "duplicate key"},
		{`{"a":1}{"b":2}`, "trailing data"},
		{`{"a":1} x`, "trailing data"},
		{`{"a":1`, "json:"},
		{`{"a" 1}`, "json:"},
		{``, "no value"},
		{strings.Repeat("[", 65) + strings.Repeat("]", 65), "nested deeper"},
		{strings.Repeat("[", 64) + strings.Repeat("]", 64), ""},
	} {
		err := checkJSON([]byte(tc.in))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("checkJSON(%.40q): %v", tc.in, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("checkJSON(%.40q): %v, want an error containing %q", tc.in, err, tc.wantErr)
		}
	}
}

// FuzzCheckJSON: checkJSON accepts only what encoding/json accepts.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2,{"b":null}]}`, `{"a":1,"a":2}`, `[1,2]`, `"x"`, `{"a":1}x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if checkJSON(b) == nil && !json.Valid(b) {
			t.Fatalf("checkJSON accepts %q, which is not valid JSON", b)
		}
	})
}
