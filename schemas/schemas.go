package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Names of the embedded schemas.
const (
	KitSpec  = "kit.schema.json"
	Manifest = "manifest.schema.json"
	Policy   = "policy.schema.json"
)

//go:embed *.schema.json
var files embed.FS

// Raw returns the bytes of the named embedded schema.
func Raw(name string) ([]byte, error) { return files.ReadFile(name) }

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// Get returns the compiled schema with the given name (KitSpec, Manifest or Policy).
func Get(name string) (*jsonschema.Schema, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := compiled[name]; ok {
		return s, nil
	}
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	s, err := c.Compile(name)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	compiled[name] = s
	return s, nil
}
