package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/offkit/offkit/bundle"
	"github.com/offkit/offkit/manifest"
	"github.com/offkit/offkit/policy"
	"github.com/offkit/offkit/sign"
)

// Sentinel errors, tested with errors.Is.
var (
	ErrVerification = errors.New("verification failed")
	// ErrNotIntact: the kit is corrupt, malformed, truncated or tampered
	// with, or a signature by a given key does not verify.
	ErrNotIntact = fmt.Errorf("%w: the kit is not intact", ErrVerification)
	// ErrUntrusted: the kit is intact as far as it was read, but not
	// acceptable: too few trusted signers, a pin, the policy or the
	// rollback state refuses it.
	ErrUntrusted = fmt.Errorf("%w: the kit is not trusted", ErrVerification)
)

// ReportVersion identifies the JSON form of Report.
const ReportVersion = "offkit.dev/verify-report/v1"

// Report is the outcome of a verification, for people and machines alike.
type Report struct {
	SchemaVersion string            `json:"schemaVersion"`
	Kit           *KitInfo          `json:"kit,omitempty"`
	Verified      bool              `json:"verified"`
	Checks        []Check           `json:"checks"`
	Signers       []SignatureReport `json:"signers"`
	Trust         TrustInfo         `json:"trust"`
	Policy        *PolicyReport     `json:"policy,omitempty"`
	State         *StateReport      `json:"state,omitempty"`
	Images        []ImageReport     `json:"images,omitempty"` // a kit with images: each image component
	Output        string            `json:"output,omitempty"` // unpack: the directory the kit now is in
	Error         string            `json:"error,omitempty"`
}

// KitInfo identifies the kit verified.
type KitInfo struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Created     string `json:"created"`
	Compression string `json:"compression"`
	Files       int    `json:"files"`
	Bytes       int64  `json:"bytes"`
	Statement   string `json:"statement"` // digest of the signed statement: the kit's identity across co-signing
}

// Check is one step of the verification algorithm (docs/FORMAT.md).
type Check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"` // not run, because an earlier check failed
	Detail  string `json:"detail"`
}

// SignatureReport is what the report says of one signature found in the
// kit (not a key that signs: that is sign.Signer, or manifest.Signer).
type SignatureReport struct {
	Index         int    `json:"index"` // 1-based, in envelope order
	KeyID         string `json:"keyid"`
	SumsSignature string `json:"sumsSignature"` // the SHA256SUMS signature file
	Trusted       bool   `json:"trusted"`
	Key           string `json:"key,omitempty"` // the trusted key file that verified it
	Problem       string `json:"problem,omitempty"`
}

// TrustInfo is what the trust decision was made on.
type TrustInfo struct {
	Keys           []string `json:"keys"`           // key IDs of the trusted keys given
	Threshold      int      `json:"threshold"`      // distinct trusted signers required
	TrustedSigners []string `json:"trustedSigners"` // key IDs of the distinct trusted keys that signed
	Name           string   `json:"name,omitempty"` // --name pin
	Version        string   `json:"version,omitempty"`
}

// PolicyReport is the policy applied and each of its gates.
type PolicyReport struct {
	File        string        `json:"file"`
	Digest      string        `json:"digest"`
	Description string        `json:"description,omitempty"`
	Passed      bool          `json:"passed"`
	Gates       []policy.Gate `json:"gates"`
}

// Extractor receives a kit's content as it is verified: offkit unpack's
// staging directory. Nothing reaches it before the kit's head is checked
// and trusted.
type Extractor interface {
	// Start is called once the head is intact and trusted, before the
	// first payload byte is read. It receives the head's files.
	Start(h *bundle.Head) error
	// Entry receives each payload entry in archive order. For a file it
	// must read e to its end: the final read fails if the content does not
	// match its digest, and the error must be returned.
	Entry(e *bundle.Entry) error
	// Commit makes the extraction visible. It is called only when every
	// check has held.
	Commit() error
	// Abort discards everything written. It is called on any failure after
	// Start, including cancellation.
	Abort()
}

// Option configures Verify.
type Option func(*config) error

type config struct {
	keys           []*sign.Verifier
	threshold      int
	name, version  string
	policy         *policy.Policy
	state          *State
	allowDowngrade bool
	now            func() time.Time
	extract        Extractor
	sink           Sink
	imageKeys      []imageKey
}

// WithKeys trusts the given public keys.
func WithKeys(keys ...*sign.Verifier) Option {
	return func(c *config) error { c.keys = append(c.keys, keys...); return nil }
}

// WithThreshold requires at least n distinct trusted keys to have signed
// (default 1). Several signatures by one key count once.
func WithThreshold(n int) Option {
	return func(c *config) error { c.threshold = n; return nil } // checked with the keys (configure)
}

// WithName requires the kit to have this name.
func WithName(name string) Option {
	return func(c *config) error { c.name = name; return nil }
}

// WithVersion requires the kit to have exactly this version.
func WithVersion(version string) Option {
	return func(c *config) error { c.version = version; return nil }
}

// WithPolicy applies a trust policy: its keys are trusted too, and each of
// its gates must pass.
func WithPolicy(p *policy.Policy) Option {
	return func(c *config) error { c.policy = p; return nil }
}

// WithState protects against rollback: the kit's version must be at least
// the highest version of its name the state records, and on success the
// state records it. allowDowngrade accepts older versions (and a different
// kit under a recorded version) and leaves the record alone.
func WithState(s *State, allowDowngrade bool) Option {
	return func(c *config) error { c.state, c.allowDowngrade = s, allowDowngrade; return nil }
}

// WithNow sets the clock a policy's maximum age is measured by.
func WithNow(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}

// Sink receives the kit's bytes exactly as they are read, from the first,
// while they are verified: offkit publish's upload, offkit pull's output
// file. Nothing it receives may be made visible until Verify has returned
// nil: the caller commits it then, and discards it otherwise.
type Sink interface {
	// Write takes the next bytes of the kit. An error stops the
	// verification; Verify returns it as an operational error (not a
	// verdict on the kit).
	io.Writer
	// Start is called once the head is intact and trusted, before the
	// first payload entry: the bytes written so far include the whole
	// head. A sink that must know the kit (its name, version or
	// compression) before storing anything buffers until then.
	//
	// Write and Start are never called at once, and never after Verify
	// has returned, although the kit reader reads ahead in a goroutine of
	// its own: the caller may discard the sink as soon as Verify returns.
	Start(h *bundle.Head) error
}

// WithSink sends every byte of the kit, as it is read, to s. Verify reads
// the input to its end, so when it returns nil s has received the whole
// kit file, and nothing after it.
func WithSink(s Sink) Option {
	return func(c *config) error { c.sink = s; return nil }
}

// WithExtractor hands the kit's content to x as it is verified.
func WithExtractor(x Extractor) Option {
	return func(c *config) error { c.extract = x; return nil }
}

func (r *Report) check(name string, err error, ok string) {
	c := Check{Name: name, OK: err == nil, Detail: ok}
	if err != nil {
		c.Detail = err.Error()
	}
	r.Checks = append(r.Checks, c)
}

func (r *Report) skip(name, why string) {
	r.Checks = append(r.Checks, Check{Name: name, Skipped: true, Detail: why})
}

// Verify reads the kit in r once and reports whether it is intact and
// acceptable: signed by enough trusted keys, matching the pins, passing the
// policy and the rollback state. The trust decision is made on the head,
// before any payload byte is read, so an untrusted kit is refused without
// reading (or extracting) its payload.
//
// The error is nil only when every check holds; otherwise it wraps
// ErrNotIntact or ErrUntrusted, or is an operational error (I/O,
// cancellation, the state directory). The report is returned in every case.
func Verify(ctx context.Context, r io.Reader, opts ...Option) (*Report, error) {
	rep := &Report{SchemaVersion: ReportVersion, Checks: []Check{}, Signers: []SignatureReport{}}
	err := run(ctx, r, rep, opts)
	if err != nil && ctx.Err() != nil {
		// Cancelled: whatever the reading failed with (a pipe closed by the
		// same Ctrl-C looks like truncation) is not the kit's fault.
		err = interrupted(ctx)
	}
	rep.Verified = err == nil
	if err != nil {
		rep.Error = err.Error()
	}
	return rep, err
}

// interrupted is the error of a cancelled verification: it wraps ctx.Err()
// and names the cause (the signal) when there is one.
func interrupted(ctx context.Context) error {
	if cause := context.Cause(ctx); cause != nil && cause.Error() != ctx.Err().Error() {
		return fmt.Errorf("interrupted: %v: %w", cause, ctx.Err())
	}
	return fmt.Errorf("interrupted: %w", ctx.Err())
}

// ConfigError is a verification configuration that cannot be used, found
// before any kit is read: no trusted key, a threshold out of range. Field
// names the option ("keys", "threshold"); the command line words it as
// its flags.
type ConfigError struct {
	Field string
	Keys  int // the distinct trusted keys, keys and policy's together
	Why   string
}

func (e *ConfigError) Error() string { return "verify: " + e.Why }

// CheckOptions validates opts as Verify will, without a kit: the one place
// the trust configuration's rules are. It returns a *ConfigError, or the
// error of an option that does not apply.
func CheckOptions(opts ...Option) error {
	_, _, err := configure(opts)
	return err
}

// configure applies opts and checks the result; keys are the distinct
// trusted keys, given and from the policy.
func configure(opts []Option) (config, []*sign.Verifier, error) {
	cfg := config{threshold: 1, now: time.Now}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return cfg, nil, err
		}
	}
	keys := cfg.keys
	if cfg.policy != nil {
		keys = append(slices.Clone(keys), cfg.policy.Keys...)
	}
	keys = dedupKeys(keys)
	if len(keys) == 0 {
		return cfg, nil, &ConfigError{Field: "keys", Why: "no trusted keys given"}
	}
	if cfg.threshold < 1 || cfg.threshold > len(keys) || cfg.threshold > manifest.MaxSignatures {
		return cfg, nil, &ConfigError{Field: "threshold", Keys: len(keys),
			Why: fmt.Sprintf("threshold %d must be between 1 and the %d distinct trusted key(s) (a kit carries at most %d signatures)", cfg.threshold, len(keys), manifest.MaxSignatures)}
	}
	return cfg, keys, nil
}

func run(ctx context.Context, r io.Reader, rep *Report, opts []Option) error {
	cfg, keys, err := configure(opts)
	if err != nil {
		return err
	}
	rep.Trust = TrustInfo{Threshold: cfg.threshold, TrustedSigners: []string{}, Name: cfg.name, Version: cfg.version}
	for _, k := range keys {
		rep.Trust.Keys = append(rep.Trust.Keys, k.KeyID())
	}

	// The signatures are checked as the head is read: the envelope's
	// before the statement is parsed, SHA256SUMS's before the SBOMs are
	// read. An untrusted kit is refused having read only its envelope.
	var tee *teeReader
	if cfg.sink != nil {
		tee = &teeReader{r: r, w: cfg.sink}
		defer tee.close()
		r = tee
	}
	auth := &authenticator{keys: keys, threshold: cfg.threshold, rep: rep}
	rd, err := bundle.Open(r, bundle.WithAuthenticator(auth))
	if err := tee.failed(); err != nil {
		rep.skip("payload", "not read: "+err.Error())
		return err
	}
	if err != nil {
		switch {
		case !auth.envelopeDone:
			rep.check("envelope", notIntact(err), "")
		case auth.failed:
			// The signatures or the threshold: reported by the authenticator.
		default:
			rep.check("metadata", notIntact(err), "")
		}
		rep.skip("payload", "not read: "+authSkipWhy(err))
		if errors.Is(err, ErrUntrusted) {
			return err
		}
		return notIntact(err)
	}
	defer rd.Close()
	rep.check("metadata", nil, "statement, manifest, SHA256SUMS and SBOMs are well-formed, canonical and agree")
	h := rd.Head
	m := h.Manifest
	stmt := manifest.SHA256(h.Payload).String()
	rep.Kit = &KitInfo{Name: m.Name, Version: m.Version, Created: m.Created, Compression: string(h.Compression), Files: m.FileCount, Bytes: m.TotalSize, Statement: stmt}
	signers := auth.signers
	rep.Trust.TrustedSigners = signers
	if err := trust(&cfg, h, stmt, rep); err != nil {
		rep.skip("payload", "not read: the kit is not trusted")
		return err
	}

	if cfg.extract != nil {
		if err := cfg.extract.Start(h); err != nil {
			rep.skip("payload", "not read: "+err.Error())
			return err
		}
	}
	if cfg.sink != nil {
		// The reader reads ahead in its own goroutine, so the sink may be
		// taking bytes right now: Start runs between two of its Writes.
		if err := tee.start(h, cfg.sink); err != nil {
			rep.skip("payload", "not read: "+err.Error())
			return err
		}
	}
	ic := newImageCheck(m)
	if ic != nil {
		rep.Images = ic.reports()
	}
	n, err := payload(ctx, rd, cfg.extract, ic)
	if err == nil && tee != nil {
		// The reader has checked the stream's end; whatever follows it
		// would reach the sink too, so the input must end there.
		if k, derr := io.Copy(io.Discard, io.LimitReader(tee, 1)); derr != nil {
			err = derr
		} else if k > 0 {
			err = fmt.Errorf("%w: data after the end of the compressed stream", bundle.ErrCorrupt)
		}
	}
	if terr := tee.failed(); terr != nil {
		rep.skip("payload", "not finished: "+terr.Error())
		if cfg.extract != nil {
			cfg.extract.Abort()
		}
		return terr
	}
	rep.check("payload", notIntact(err), fmt.Sprintf("%d file(s), every digest matches SHA256SUMS; nothing missing, nothing extra", n))
	if err == nil && ic != nil {
		err = checkImages(ctx, ic, cfg.imageKeys, rep)
	} else if ic != nil {
		rep.skip("images", "not checked: the payload is not intact")
	}
	if err == nil && cfg.extract != nil {
		err = cfg.extract.Commit()
		rep.check("extract", err, "every file written, then moved into place")
	}
	if err != nil {
		if cfg.extract != nil {
			cfg.extract.Abort()
		}
		if errors.Is(err, ErrUntrusted) {
			return err
		}
		return notIntact(err)
	}
	if cfg.state != nil {
		err := cfg.state.Record(m.Name, m.Version, stmt, cfg.allowDowngrade, cfg.now())
		rep.check("state", err, "accepted version recorded in "+cfg.state.Dir())
		if errors.As(err, new(*RollbackError)) {
			// Another run recorded a different kit under this version
			// since the check: refused like any rollback (exit 4).
			return fmt.Errorf("%w: %w", ErrUntrusted, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// teeReader copies what is read from r to w, remembering w's first error
// (the sink's, not the kit's). The bundle reader reads ahead in a
// goroutine of its own, so Read and start may run at once: mu orders
// them, and every Write of the sink.
type teeReader struct {
	r   io.Reader
	w   io.Writer
	mu  sync.Mutex
	err error
}

func (t *teeReader) Read(p []byte) (int, error) {
	if err := t.failed(); err != nil {
		return 0, err
	}
	n, err := t.r.Read(p)
	if n > 0 {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.err != nil { // closed while the read was under way
			return 0, t.err
		}
		if _, werr := t.w.Write(p[:n]); werr != nil {
			t.err = werr
			return n, werr
		}
	}
	return n, err
}

func (t *teeReader) failed() error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// close makes the sink receive nothing more: the reader's read-ahead may
// outlive a failed Verify. It waits for a Write in progress.
func (t *teeReader) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = errSinkClosed
	}
}

var errSinkClosed = errors.New("verify: the verification is over")

// start calls s.Start between two of the sink's Writes.
func (t *teeReader) start(h *bundle.Head, s Sink) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return s.Start(h)
}

// checkImages checks the image layout as a whole and, with image keys,
// the images' signatures.
func checkImages(ctx context.Context, ic *imageCheck, keys []imageKey, rep *Report) error {
	if err := ic.finish(); err != nil {
		rep.check("images", err, "")
		return err
	}
	layout := fmt.Sprintf("%d image(s); the OCI layout is complete, every blob referenced, every image the manifest names present", len(rep.Images))
	if len(keys) == 0 {
		rep.check("images", nil, layout+"; signatures not checked (no image keys)")
		return nil
	}
	n, err := ic.verifySignatures(ctx, keys, rep)
	rep.check("images", err, fmt.Sprintf("%s; %d image(s) signed by a trusted image key", layout, n))
	return err
}

// payload streams the payload through the reader's checks, into x if given,
// and the files of the image layout through ic.
func payload(ctx context.Context, rd *bundle.Reader, x Extractor, ic *imageCheck) (int, error) {
	var n int
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err == nil {
			layoutDone := ic.tee(e)
			if x != nil {
				err = x.Entry(e)
			} else {
				_, err = io.Copy(io.Discard, e)
			}
			if err == nil && layoutDone != nil {
				err = layoutDone()
			}
		}
		if err != nil {
			return n, err
		}
		if !e.Dir {
			n++
		}
	}
}

// trust applies the pins, the policy and the rollback state to an intact
// head whose signatures met the threshold.
func trust(cfg *config, h *bundle.Head, stmt string, rep *Report) error {
	m := h.Manifest
	signers := rep.Trust.TrustedSigners
	var first error
	fail := func(name string, err error, ok string) {
		rep.check(name, err, ok)
		if err != nil && first == nil {
			// %w both: errors.As finds the *RollbackError, errors.Is
			// policy.ErrFailed.
			first = fmt.Errorf("%w: %w", ErrUntrusted, err)
		}
	}
	var err error
	if cfg.name != "" || cfg.version != "" {
		var bad []string
		if cfg.name != "" && m.Name != cfg.name {
			bad = append(bad, fmt.Sprintf("name is %q, pinned to %q", m.Name, cfg.name))
		}
		if cfg.version != "" && m.Version != cfg.version {
			bad = append(bad, fmt.Sprintf("version is %q, pinned to %q", m.Version, cfg.version))
		}
		err = nil
		if bad != nil {
			err = errors.New("pinned identity: " + strings.Join(bad, "; "))
		}
		fail("pins", err, fmt.Sprintf("kit is %s %s as pinned", m.Name, m.Version))
	}

	if p := cfg.policy; p != nil {
		gates, err := p.Evaluate(policy.Input{Manifest: m, Signers: signers, Now: cfg.now()})
		rep.Policy = &PolicyReport{File: p.File, Digest: p.Digest.String(), Description: p.Description, Passed: err == nil, Gates: gates}
		passed := 0
		for _, g := range gates {
			if g.OK {
				passed++
			}
		}
		fail("policy", err, fmt.Sprintf("all %d gate(s) of %s pass", passed, p.File))
	}

	if s := cfg.state; s != nil {
		prev, err := s.Check(m.Name, m.Version, stmt, cfg.allowDowngrade)
		rep.State = &StateReport{Dir: s.Dir(), Previous: prev, AllowDowngrade: cfg.allowDowngrade}
		var rb *RollbackError
		if errors.As(err, &rb) {
			fail("rollback", err, "")
		} else if err != nil {
			rep.check("rollback", err, "")
			if first == nil {
				first = err // the state directory is unreadable: operational
			}
		} else {
			fail("rollback", nil, rollbackOK(prev, m.Version, cfg.allowDowngrade))
		}
	}
	return first
}

func rollbackOK(prev *Record, version string, allow bool) string {
	switch {
	case prev == nil:
		return "no version of this kit accepted before"
	case allow && manifest.CompareVersions(version, prev.Version) < 0:
		return fmt.Sprintf("downgrade from %s allowed (a deliberate rollback)", prev.Version)
	}
	return fmt.Sprintf("not older than %s, the highest version accepted", prev.Version)
}

// authenticator checks a kit's signatures as bundle.Open reads its head:
// each DSSE signature against the trusted keys, then the threshold, both
// before the statement is parsed; then the SHA256SUMS signature beside
// each trusted DSSE signature.
type authenticator struct {
	keys      []*sign.Verifier
	threshold int
	rep       *Report

	signers      []string // key IDs of the distinct trusted keys that signed
	match        []*sign.Verifier
	sigCheck     int  // index of the signatures check in the report
	envelopeDone bool // the envelope was read
	failed       bool // a signature, the threshold or a SHA256SUMS signature failed
}

// Envelope verifies each DSSE signature against every trusted key (a
// keyid is an unauthenticated hint). It fails with ErrNotIntact if a
// signature names a trusted key but does not verify, or verifies with a key
// its keyid does not name, and with ErrUntrusted if fewer than the
// threshold of distinct trusted keys signed. The payload is hashed once:
// each of at most MaxSignatures signatures then costs one signature check
// per key.
func (a *authenticator) Envelope(env *manifest.Envelope, payload *manifest.Payload) error {
	rep := a.rep
	digest := payload.PAEDigest(env.PayloadType)
	a.match = make([]*sign.Verifier, len(env.Signatures))
	var broken error
	for i, s := range env.Signatures {
		sg := SignatureReport{Index: i + 1, KeyID: s.KeyID, SumsSignature: manifest.SumsSigNameFor(i)}
		var named *sign.Verifier
		for _, k := range a.keys {
			if s.KeyID == k.KeyID() {
				named = k
			}
			if a.match[i] == nil && sign.VerifyPAE(env, i, payload, digest, k) == nil {
				a.match[i] = k
			}
		}
		switch k := a.match[i]; {
		case k != nil && s.KeyID != "" && s.KeyID != k.KeyID():
			sg.Problem = fmt.Sprintf("keyid %q does not name the key that verifies it (%s)", s.KeyID, k.KeyID())
			broken = fmt.Errorf("%w: signature %d: %s", ErrNotIntact, i+1, sg.Problem)
			a.match[i] = nil
		case k != nil:
			sg.Trusted, sg.Key, sg.KeyID = true, k.Source, k.KeyID()
			if !slices.Contains(a.signers, k.KeyID()) {
				a.signers = append(a.signers, k.KeyID())
			}
		case named != nil:
			sg.Problem = fmt.Sprintf("claims trusted key %s (%s) but does not verify with it", s.KeyID, named.Source)
			broken = fmt.Errorf("%w: signature %d: %s", ErrNotIntact, i+1, sg.Problem)
		default:
			sg.Problem = "not signed by any trusted key"
		}
		rep.Signers = append(rep.Signers, sg)
	}
	a.envelopeDone = true
	if a.signers == nil {
		a.signers = []string{}
	}
	rep.Trust.TrustedSigners = a.signers
	a.sigCheck = len(rep.Checks)
	rep.check("signatures", broken, fmt.Sprintf("%d signature(s), %d by trusted keys", len(env.Signatures), len(a.signers)))
	if broken != nil {
		a.failed = true
		return broken
	}
	var err error
	switch {
	case len(env.Signatures) == 0:
		err = errors.New("the kit is unsigned (sign it with offkit sign)")
	case len(a.signers) == 0:
		err = fmt.Errorf("none of the %d signature(s) verifies with the %d trusted key(s)", len(env.Signatures), len(a.keys))
	case len(a.signers) < a.threshold:
		err = fmt.Errorf("signed by %d distinct trusted key(s), %d required", len(a.signers), a.threshold)
	}
	rep.check("threshold", err, fmt.Sprintf("signed by %d distinct trusted key(s), %d required", len(a.signers), a.threshold))
	if err != nil {
		a.failed = true
		return fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	return nil
}

// Sums verifies the SHA256SUMS signature beside each trusted DSSE
// signature with the key that made it, and completes the report's
// signatures check.
func (a *authenticator) Sums(sums []byte, sigs [][]byte) error {
	c := &a.rep.Checks[a.sigCheck]
	for i, k := range a.match {
		if k == nil {
			continue
		}
		sig, err := sign.DecodeSignature(sigs[i])
		if err == nil {
			err = k.Verify(sums, sig)
		}
		if err != nil {
			sg := &a.rep.Signers[i]
			sg.Problem = fmt.Sprintf("%s does not verify with the key that signed the manifest: %v", sg.SumsSignature, err)
			sg.Trusted = false
			err = fmt.Errorf("%w: signature %d: %s", ErrNotIntact, i+1, sg.Problem)
			c.OK, c.Detail = false, err.Error()
			a.failed = true
			return err
		}
	}
	c.Detail += "; DSSE and SHA256SUMS signatures agree"
	return nil
}

// authSkipWhy says why the checks after a failed head were not run.
func authSkipWhy(err error) string {
	switch {
	case errors.Is(err, ErrUntrusted):
		return "the kit is not trusted"
	case errors.Is(err, ErrNotIntact):
		return "a signature is broken"
	}
	return "the head is not intact"
}

// dedupKeys drops keys given twice (by --key and the policy, say).
func dedupKeys(keys []*sign.Verifier) []*sign.Verifier {
	var out []*sign.Verifier
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[k.KeyID()] {
			seen[k.KeyID()] = true
			out = append(out, k)
		}
	}
	return out
}

// notIntact classifies a reading error: corruption becomes ErrNotIntact,
// anything else (I/O) is returned as it is.
func notIntact(err error) error {
	if err == nil || errors.Is(err, ErrNotIntact) {
		return err
	}
	if errors.Is(err, manifest.ErrMalformed) {
		return fmt.Errorf("%w: %w", ErrNotIntact, err)
	}
	return err
}
