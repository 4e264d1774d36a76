package policy

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/schemas"
	"github.com/offkit/offkit/sign"
)

// APIVersion is the policy format this package reads.
const APIVersion = "offkit.dev/policy/v1"

// MaxSize bounds a policy file.
const MaxSize = 1 << 20

// MaxSkew is how far in the future a kit's creation time may be, for
// clocks that disagree, before a policy with a maximum age refuses it.
const MaxSkew = 5 * time.Minute

// Policy is a parsed trust policy.
type Policy struct {
	File        string          // where it was read from
	Digest      manifest.Digest // of the file's bytes, for the report
	Description string

	Name       string        // kit name pin, or ""
	Version    string        // exact version pin, or ""
	MinVersion string        // lowest acceptable version, or ""
	MaxAge     time.Duration // 0: no limit
	MaxAgeText string        // MaxAge as written

	Keys      []*sign.Verifier // trusted keys, loaded relative to the file
	Threshold int              // 0: not set

	Components     []Requirement
	ComponentSBOMs bool
	Labels         map[string]string
	AllowPending   bool
}

// Requirement is a component the kit must carry.
type Requirement struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	SBOM bool   `yaml:"sbom"`
}

func (q Requirement) String() string {
	var s []string
	if q.Name != "" {
		s = append(s, "name "+q.Name)
	}
	if q.Type != "" {
		s = append(s, "type "+q.Type)
	}
	d := "a component with " + strings.Join(s, " and ")
	if q.SBOM {
		d += ", with its own SBOM"
	}
	return d
}

// Load reads the policy file at path. Key files it names are read relative
// to the policy's directory. A policy that breaks the schema is reported as
// a *manifest.FieldError wrapping manifest.ErrMalformed, naming the field
// and its line.
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(data, path, filepath.Dir(path))
}

// Parse parses a policy document; file names it in errors, and key files
// are read relative to dir.
func Parse(data []byte, file, dir string) (*Policy, error) {
	if len(data) > MaxSize {
		return nil, &manifest.FieldError{File: file, Err: fmt.Errorf("%w: larger than %d bytes", manifest.ErrMalformed, MaxSize)}
	}
	root, lines, err := manifest.DecodeYAML(data, file, schemas.Policy)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Description string `yaml:"description"`
		Kit         struct {
			Name       string `yaml:"name"`
			Version    string `yaml:"version"`
			MinVersion string `yaml:"minVersion"`
			MaxAge     string `yaml:"maxAge"`
		} `yaml:"kit"`
		Trust struct {
			Keys      []string `yaml:"keys"`
			Threshold int      `yaml:"threshold"`
		} `yaml:"trust"`
		Require struct {
			Components     []Requirement     `yaml:"components"`
			ComponentSBOMs bool              `yaml:"componentSBOMs"`
			Labels         map[string]string `yaml:"labels"`
			AllowPending   bool              `yaml:"allowPending"`
		} `yaml:"require"`
	}
	if err := root.Decode(&raw); err != nil {
		return nil, &manifest.FieldError{File: file, Err: fmt.Errorf("%w: %v", manifest.ErrMalformed, err)}
	}
	p := &Policy{
		File: file, Digest: manifest.SHA256(data), Description: raw.Description,
		Name: raw.Kit.Name, Version: raw.Kit.Version, MinVersion: raw.Kit.MinVersion, MaxAgeText: raw.Kit.MaxAge,
		Threshold:  raw.Trust.Threshold,
		Components: raw.Require.Components, ComponentSBOMs: raw.Require.ComponentSBOMs,
		Labels: raw.Require.Labels, AllowPending: raw.Require.AllowPending,
	}
	if raw.Kit.MaxAge != "" {
		p.MaxAge = parseAge(raw.Kit.MaxAge)
	}
	if p.Threshold > 0 && len(raw.Trust.Keys) > 0 && p.Threshold > len(raw.Trust.Keys) {
		return nil, &manifest.FieldError{File: file, Line: lines["trust.threshold"], Field: "trust.threshold",
			Err: fmt.Errorf("%w: %d is more than the %d key(s) listed: no kit could pass", manifest.ErrMalformed, p.Threshold, len(raw.Trust.Keys))}
	}
	if p.Version != "" && p.MinVersion != "" && manifest.CompareVersions(p.Version, p.MinVersion) < 0 {
		return nil, &manifest.FieldError{File: file, Line: lines["kit.version"], Field: "kit.version",
			Err: fmt.Errorf("%w: %s is below kit.minVersion %s: no kit could pass", manifest.ErrMalformed, p.Version, p.MinVersion)}
	}
	seen := map[string]bool{}
	for i, k := range raw.Trust.Keys {
		field := fmt.Sprintf("trust.keys[%d]", i)
		kp := k
		if !filepath.IsAbs(kp) {
			kp = filepath.Join(dir, kp)
		}
		v, err := sign.LoadPublicKey(kp)
		if err != nil {
			return nil, &manifest.FieldError{File: file, Line: lines[field], Field: field, Err: err}
		}
		if seen[v.KeyID()] {
			return nil, &manifest.FieldError{File: file, Line: lines[field], Field: field,
				Err: fmt.Errorf("%w: key %s is listed twice", manifest.ErrMalformed, v.KeyID())}
		}
		seen[v.KeyID()] = true
		p.Keys = append(p.Keys, v)
	}
	return p, nil
}

// parseAge reads a duration the schema has already checked: digits and
// one unit of s, m, h or d. The schema allows up to 9999999d, beyond what a
// time.Duration holds (about 106751d): such an age saturates rather than
// overflowing to a negative or zero MaxAge, which would drop the gate.
func parseAge(s string) time.Duration {
	n, _ := strconv.ParseInt(s[:len(s)-1], 10, 64)
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[s[len(s)-1]]
	if n <= 0 || unit == 0 {
		return 0
	}
	if n > int64(math.MaxInt64/unit) {
		return math.MaxInt64
	}
	return time.Duration(n) * unit
}

// Gate is one rule of the policy, evaluated against a kit.
type Gate struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Input is what a policy is evaluated on: the kit's manifest, the key IDs
// of the distinct trusted keys whose signatures verified, and the time.
type Input struct {
	Manifest *manifest.Manifest
	Signers  []string
	Now      time.Time
}

// ErrFailed is returned by Evaluate when a gate does not pass.
var ErrFailed = errors.New("policy not met")

// Evaluate checks every gate of the policy, in the order of the file, and
// returns them all. The error wraps ErrFailed and names the first gate
// that failed, or is nil when all pass.
func (p *Policy) Evaluate(in Input) ([]Gate, error) {
	var gates []Gate
	add := func(name string, ok bool, detail string, args ...any) {
		gates = append(gates, Gate{Name: name, OK: ok, Detail: fmt.Sprintf(detail, args...)})
	}
	m := in.Manifest
	if p.Name != "" {
		add("kit.name", m.Name == p.Name, "kit name %q, policy requires %q", m.Name, p.Name)
	}
	if p.Version != "" {
		add("kit.version", m.Version == p.Version, "kit version %s, policy requires exactly %s", m.Version, p.Version)
	}
	if p.MinVersion != "" {
		add("kit.minVersion", manifest.CompareVersions(m.Version, p.MinVersion) >= 0, "kit version %s, policy requires at least %s", m.Version, p.MinVersion)
	}
	if p.MaxAge > 0 {
		created, err := m.CreatedTime()
		switch age := in.Now.Sub(created); {
		case err != nil:
			add("kit.maxAge", false, "creation time %q: %v", m.Created, err)
		case age < -MaxSkew:
			add("kit.maxAge", false, "created %s, in the future (now %s)", m.Created, in.Now.UTC().Format(time.RFC3339))
		default:
			add("kit.maxAge", age <= p.MaxAge, "created %s, %s ago; policy allows at most %s", m.Created, roundAge(age), p.MaxAgeText)
		}
	}
	if p.Threshold > 0 || len(p.Keys) > 0 {
		need := max(p.Threshold, 1)
		n, of := len(in.Signers), "the trusted keys"
		if len(p.Keys) > 0 {
			n, of = 0, fmt.Sprintf("the policy's %d key(s)", len(p.Keys))
			for _, k := range p.Keys {
				if slices.Contains(in.Signers, k.KeyID()) {
					n++
				}
			}
		}
		add("trust.threshold", n >= need, "signed by %d of %s, policy requires %d", n, of, need)
	}
	for _, q := range p.Components {
		ok, why := false, "no such component"
		for _, c := range m.Components {
			if (q.Name != "" && c.Name != q.Name) || (q.Type != "" && c.Type != q.Type) {
				continue
			}
			switch {
			case c.Pending && !p.AllowPending:
				why = fmt.Sprintf("%s is a pending placeholder, not delivered", c.Name)
			case q.SBOM && c.SBOM == nil:
				why = fmt.Sprintf("%s carries no SBOM of its own", c.Name)
			default:
				ok, why = true, "present: "+c.Name
			}
			if ok {
				break
			}
		}
		add("require.components", ok, "%s: %s", q, why)
	}
	if p.ComponentSBOMs {
		var without []string
		for _, c := range m.Components {
			if c.SBOM == nil && !c.Pending {
				without = append(without, c.Name)
			}
		}
		if len(without) == 0 {
			add("require.componentSBOMs", true, "every delivered component carries its own SBOM")
		} else {
			add("require.componentSBOMs", false, "without an SBOM of their own: %s", strings.Join(without, ", "))
		}
	}
	for _, k := range sortedKeys(p.Labels) {
		got, ok := m.Labels[k]
		switch {
		case !ok:
			add("require.labels", false, "label %s is absent, policy requires %q", k, p.Labels[k])
		default:
			add("require.labels", got == p.Labels[k], "label %s is %q, policy requires %q", k, got, p.Labels[k])
		}
	}
	if !p.AllowPending {
		var pending []string
		for _, c := range m.Components {
			if c.Pending {
				pending = append(pending, c.Name)
			}
		}
		if len(pending) == 0 {
			add("require.allowPending", true, "no pending placeholders")
		} else {
			add("require.allowPending", false, "pending placeholders, not delivered: %s", strings.Join(pending, ", "))
		}
	}
	for _, g := range gates {
		if !g.OK {
			return gates, fmt.Errorf("%w: %s: %s", ErrFailed, g.Name, g.Detail)
		}
	}
	return gates, nil
}

// roundAge writes an age as people read one: "29d 0h", "2h 0m 1s",
// "5m 3s", in the policy's own units (d, h, m, s).
func roundAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	days, h, m, sec := s/86400, s%86400/3600, s%3600/60, s%60
	switch {
	case days > 0:
		if m == 0 && sec == 0 {
			return fmt.Sprintf("%dd %dh", days, h)
		}
		return fmt.Sprintf("%dd %dh %dm %ds", days, h, m, sec)
	case h > 0:
		return fmt.Sprintf("%dh %dm %ds", h, m, sec)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, sec)
	}
	return fmt.Sprintf("%ds", sec)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
