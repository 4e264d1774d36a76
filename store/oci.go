package store

// # The OCI registry medium (oci://HOST[:PORT]/REPOSITORY)
//
// A kit is published as an OCI artifact: ONE blob, the kit file byte for
// byte, described by an OCI image manifest
// (application/vnd.oci.image.manifest.v1+json, schemaVersion 2) that is
// tagged with the kit's version:
//
//	{
//	  "schemaVersion": 2,
//	  "mediaType": "application/vnd.oci.image.manifest.v1+json",
//	  "artifactType": "application/vnd.offkit.kit.v1",
//	  "config": {
//	    "mediaType": "application/vnd.oci.empty.v1+json",
//	    "size": 2,
//	    "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
//	  },
//	  "layers": [{
//	    "mediaType": "application/vnd.offkit.kit.v1.tar+zstd",
//	    "size": 20971520,
//	    "digest": "sha256:<the kit file's SHA-256>",
//	    "annotations": {"org.opencontainers.image.title": "concelier-lnm-1.4.0+build.7.tar.zst"}
//	  }],
//	  "annotations": {
//	    "dev.offkit.kit.name": "concelier-lnm",
//	    "org.opencontainers.image.version": "1.4.0+build.7"
//	  }
//	}
//
//   - artifactType is application/vnd.offkit.kit.v1; the config is the
//     OCI empty descriptor (the 2-byte blob "{}").
//   - The one layer's media type names the kit file's compression:
//     application/vnd.offkit.kit.v1.tar+zstd (.tar.zst),
//     application/vnd.offkit.kit.v1.tar+gzip (.tar.gz) or
//     application/vnd.offkit.kit.v1.tar (.tar). Its
//     org.opencontainers.image.title annotation is the kit file's name
//     (KitFile), so that `oras pull` writes the file under that name.
//   - The manifest's annotations carry the kit's name
//     (dev.offkit.kit.name) and version (org.opencontainers.image.version):
//     offkit reads them, not the tag. No org.opencontainers.image.created:
//     publishing the same kit twice gives the same manifest, byte for byte.
//   - The tag is the version with '+' mapped to '_' (Helm's convention:
//     OCI tags are [A-Za-z0-9_][A-Za-z0-9._-]{0,127} and semantic versions
//     have no '_', so the mapping is one to one). A tag holds one kit:
//     publish one kit name per repository.
//
// The release record is a referrer of the kit's manifest: an image
// manifest with artifactType application/vnd.offkit.release-record.v1+json,
// the empty config, one layer (the record's bytes, media type
// application/vnd.offkit.release-record.v1+json, title RecordFile), the
// same two annotations, and subject = the kit manifest's descriptor. It is
// pushed by digest, untagged. A registry with the referrers API (OCI
// distribution spec 1.1) lists it itself; for one without (it answers the
// manifest PUT without an OCI-Subject header, and GET /v2/<repo>/referrers/
// <digest> without an image index), offkit maintains the spec's referrers
// tag schema: the tag sha256-<hex of the kit manifest's digest> points at
// an image index listing the referrers, each entry with its artifactType
// and annotations. (go-containerregistry's remote.Put maintains that index
// too, but fills each entry's artifactType with the config's media type,
// application/vnd.oci.empty.v1+json for an artifact; so offkit PUTs the
// referrer itself and writes the entry as the spec says. When reading,
// entries with that type or none are looked at too.)
//
// Publishing streams the kit once, in one chunked blob upload (POST, then
// a PATCH per ChunkSize bytes, then the PUT with the digest computed as the
// bytes went by), so memory holds one chunk. Commit then pushes the config
// blob, checks that the tag is still absent and PUTs the manifest by tag:
// only then is the kit visible. Then the release record. Abort deletes the
// upload session; a blob uploaded by a Commit that found the tag taken
// stays, untagged, for the registry's garbage collector (it may be the
// published kit's own blob, so it is never deleted).
//
// Create-only, as far as a registry allows: registry tags are mutable and
// the distribution API has no conditional PUT, so two publishers of one
// version that both pass the check before either PUTs the manifest both
// succeed, and the last one's manifest holds the tag. The window is one
// HEAD and one PUT of a small manifest, after the whole kit has been
// uploaded. The same race exists between two PutRecord calls (two record
// referrers: Record returns the one with the lowest digest) and between
// two updates of the referrers fallback index (the last one wins and the
// other referrer is unlisted; a registry with the referrers API has no
// such race).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The media types and annotations of the OCI artifacts.
const (
	OCIKitArtifactType    = "application/vnd.offkit.kit.v1"
	OCIRecordArtifactType = "application/vnd.offkit.release-record.v1+json"

	ociEmptyType      = "application/vnd.oci.empty.v1+json"
	ociManifestType   = "application/vnd.oci.image.manifest.v1+json"
	ociIndexType      = "application/vnd.oci.image.index.v1+json"
	annotationTitle   = "org.opencontainers.image.title"
	annotationVersion = "org.opencontainers.image.version"
	annotationName    = "dev.offkit.kit.name"
)

// ociKitTypes maps a kit file extension to its layer media type.
var ociKitTypes = map[string]string{
	".tar.zst": OCIKitArtifactType + ".tar+zstd",
	".tar.gz":  OCIKitArtifactType + ".tar+gzip",
	".tar":     OCIKitArtifactType + ".tar",
}

// ociEmpty is the OCI empty descriptor's content.
var ociEmpty = []byte("{}")

// ChunkSize is the size of each PATCH of a blob upload, and so of the one
// buffer an Upload holds.
const ChunkSize = 16 << 20

// maxReferrers bounds the referrers of a kit offkit looks at: the index
// comes from the registry.
const maxReferrers = 64

var (
	ociTagRE      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	ociFallbackRE = regexp.MustCompile(`^sha256-[0-9a-f]{64}$`)
	// cosign's signature, attestation and SBOM tags: not kits.
	cosignTagRE = regexp.MustCompile(`^sha256-[0-9a-f]{64}\.(sig|att|sbom)$`)
)

// OCI is a store in an OCI registry repository (oci://).
type OCI struct {
	repo      name.Repository
	base      http.RoundTripper
	chunkSize int // ChunkSize; smaller in tests

	mu  sync.Mutex
	rts map[string]http.RoundTripper // authenticated transports by scope
}

// NewOCI returns the store in repo, "registry.site[:port]/path/to/repo".
// Credentials come from the Docker config (authn.DefaultKeychain).
// insecure allows plain HTTP and unverified TLS (loopback registries are
// plain HTTP already).
func NewOCI(repo string, insecure bool) (*OCI, error) {
	host, path, _ := strings.Cut(repo, "/")
	if path == "" || !strings.ContainsAny(host, ".:") {
		// go-containerregistry would read it as a Docker Hub repository.
		return nil, fmt.Errorf("store: OCI repository %q: want HOST[:PORT]/REPOSITORY, with a registry host (one with a '.' or a ':port')", repo)
	}
	opts := []name.Option{name.StrictValidation}
	if insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.NewRepository(repo, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: OCI repository %q: %w", repo, err)
	}
	base := remote.DefaultTransport
	if insecure {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // the caller asked for it
		base = t
	}
	return &OCI{repo: r, base: transport.NewUserAgent(&boundedTransport{next: base}, "offkit"), chunkSize: ChunkSize, rts: map[string]http.RoundTripper{}}, nil
}

// transport returns the authenticated transport for scope (pull, or push
// and pull), made on first use: that pings the registry and, if it wants
// a token, gets one.
func (o *OCI) transport(ctx context.Context, scope string) (http.RoundTripper, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if rt := o.rts[scope]; rt != nil {
		return rt, nil
	}
	auth, err := authn.DefaultKeychain.Resolve(o.repo)
	if err != nil {
		return nil, fmt.Errorf("%s: credentials: %w", o.URL("", ""), err)
	}
	rt, err := transport.NewWithContext(ctx, o.repo.Registry, auth, o.base, []string{o.repo.Scope(scope)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.URL("", ""), err)
	}
	o.rts[scope] = rt
	return rt, nil
}

func (o *OCI) remoteOptions(ctx context.Context, rt http.RoundTripper) []remote.Option {
	// rt is a transport.Wrapper: remote uses it as it is.
	return []remote.Option{remote.WithContext(ctx), remote.WithTransport(rt)}
}

// url returns the URL of /v2/<repository>/<p>.
func (o *OCI) url(p string) *url.URL {
	return &url.URL{Scheme: o.repo.Scheme(), Host: o.repo.RegistryStr(), Path: "/v2/" + o.repo.RepositoryStr() + "/" + p}
}

// do sends a request to the registry; body may be nil.
func do(ctx context.Context, rt http.RoundTripper, method string, u *url.URL, hdr http.Header, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return (&http.Client{Transport: rt}).Do(req)
}

// check returns nil if resp has one of codes, else the registry's error,
// closing the body.
func check(resp *http.Response, what string, codes ...int) error {
	if err := transport.CheckError(resp, codes...); err != nil {
		resp.Body.Close()
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func isStatus(err error, codes ...int) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	for _, c := range codes {
		if terr.StatusCode == c {
			return true
		}
	}
	return false
}

// ociTag returns the tag of version: '+' mapped to '_'. A URL may name a
// kit by its tag, so a tag is its own tag.
func ociTag(version string) (string, error) {
	tag := strings.ReplaceAll(version, "+", "_")
	if !ociTagRE.MatchString(tag) {
		return "", fmt.Errorf("store: version %q is not an OCI tag once '+' is mapped to '_' (tags are [A-Za-z0-9_][A-Za-z0-9._-]{0,127})", version)
	}
	return tag, nil
}

// URL implements Store: oci://HOST/REPOSITORY:TAG, or oci://HOST/REPOSITORY
// when name is "".
func (o *OCI) URL(name, version string) string {
	u := "oci://" + o.repo.Name()
	if name == "" && version == "" {
		return u
	}
	tag, err := ociTag(version)
	if err != nil {
		tag = version
	}
	return u + ":" + tag
}

// ociManifest is an OCI image manifest, with the fields of image-spec 1.1
// that go-containerregistry's v1.Manifest lacks.
type ociManifest struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

func emptyDescriptor() v1.Descriptor {
	h, n, _ := v1.SHA256(bytes.NewReader(ociEmpty))
	return v1.Descriptor{MediaType: ociEmptyType, Size: n, Digest: h}
}

// kitManifest is the manifest of kit name/version whose file ends in ext.
func kitManifest(name, version, ext string, layer v1.Hash, size int64) ([]byte, error) {
	m := ociManifest{
		SchemaVersion: 2,
		MediaType:     ociManifestType,
		ArtifactType:  OCIKitArtifactType,
		Config:        emptyDescriptor(),
		Layers: []v1.Descriptor{{
			MediaType: types.MediaType(ociKitTypes[ext]), Size: size, Digest: layer,
			Annotations: map[string]string{annotationTitle: KitFile(name, version, ext)},
		}},
		Annotations: map[string]string{annotationName: name, annotationVersion: version},
	}
	return json.Marshal(m)
}

// ociKit is a kit's manifest as read from the registry.
type ociKit struct {
	desc          v1.Descriptor // the manifest's
	name, version string
	ext           string
	layer         v1.Descriptor
}

// parseKit reads raw, the manifest desc, as an offkit kit's.
func parseKit(raw []byte, desc v1.Descriptor) (*ociKit, error) {
	if desc.MediaType != ociManifestType {
		return nil, fmt.Errorf("a %s, not an OCI image manifest", desc.MediaType)
	}
	var m ociManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.ArtifactType != OCIKitArtifactType {
		return nil, fmt.Errorf("artifactType %q, not %s", m.ArtifactType, OCIKitArtifactType)
	}
	if len(m.Layers) != 1 {
		return nil, fmt.Errorf("%d layers, not one", len(m.Layers))
	}
	k := &ociKit{desc: desc, name: m.Annotations[annotationName], version: m.Annotations[annotationVersion], layer: m.Layers[0]}
	for ext, mt := range ociKitTypes {
		if string(k.layer.MediaType) == mt {
			k.ext = ext
		}
	}
	if k.ext == "" {
		return nil, fmt.Errorf("layer media type %q is not an offkit kit's", k.layer.MediaType)
	}
	if k.layer.Size < 0 {
		return nil, fmt.Errorf("layer size %d", k.layer.Size)
	}
	if err := CheckRelease(k.name, k.version); err != nil {
		return nil, fmt.Errorf("annotations %s and %s: %w", annotationName, annotationVersion, err)
	}
	return k, nil
}

// resolve reads the kit name/version. name "" is whatever kit the tag
// version (a URL's tag, or a version) holds.
func (o *OCI) resolve(ctx context.Context, rt http.RoundTripper, name, version string) (*ociKit, error) {
	if name != "" {
		if err := CheckRelease(name, version); err != nil {
			return nil, err
		}
	}
	tag, err := ociTag(version)
	if err != nil {
		return nil, err
	}
	url := o.URL(name, version)
	d, err := remote.Get(o.repo.Tag(tag), o.remoteOptions(ctx, rt)...)
	if isStatus(err, http.StatusNotFound) {
		return nil, notFound(url)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	k, err := parseKit(d.Manifest, d.Descriptor)
	if err != nil {
		return nil, fmt.Errorf("%s (%s) is not an offkit kit: %v", url, d.Digest, err)
	}
	if name != "" && (k.name != name || k.version != version) {
		return nil, fmt.Errorf("%s holds the kit %s %s, not %s %s", url, k.name, k.version, name, version)
	}
	return k, nil
}

// Begin implements Store. It starts a chunked blob upload; if the tag is
// taken already, the Upload takes the bytes, stores none and its Commit
// returns ErrExists.
func (o *OCI) Begin(ctx context.Context, name, version, ext string) (Upload, error) {
	if err := CheckRelease(name, version); err != nil {
		return nil, err
	}
	if err := checkExt(ext); err != nil {
		return nil, err
	}
	tag, err := ociTag(version)
	if err != nil {
		return nil, err
	}
	rt, err := o.transport(ctx, transport.PushScope)
	if err != nil {
		return nil, err
	}
	url := o.URL(name, version)
	if taken, err := o.tagged(ctx, rt, tag); err != nil {
		return nil, err
	} else if taken {
		return existing{url: url}, nil
	}
	resp, err := do(ctx, rt, http.MethodPost, o.url("blobs/uploads/"), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: start blob upload: %w", url, err)
	}
	if err := check(resp, url+": start blob upload", http.StatusAccepted); err != nil {
		return nil, err
	}
	resp.Body.Close()
	loc, err := location(resp)
	if err != nil {
		return nil, fmt.Errorf("%s: start blob upload: %w", url, err)
	}
	return &ociUpload{ctx: ctx, o: o, rt: rt, name: name, version: version, ext: ext, tag: tag, url: url,
		loc: loc, buf: make([]byte, 0, o.chunkSize), h: sha256.New()}, nil
}

// tagged reports whether the repository has a manifest tagged tag.
func (o *OCI) tagged(ctx context.Context, rt http.RoundTripper, tag string) (bool, error) {
	_, err := remote.Head(o.repo.Tag(tag), o.remoteOptions(ctx, rt)...)
	if isStatus(err, http.StatusNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s:%s: %w", o.URL("", ""), tag, err)
	}
	return true, nil
}

// location is the upload session URL a response gives, resolved against
// the request's.
func location(resp *http.Response) (*url.URL, error) {
	l := resp.Header.Get("Location")
	if l == "" {
		return nil, fmt.Errorf("%s %s: no Location in the answer", resp.Request.Method, resp.Request.URL.Redacted())
	}
	return resp.Request.URL.Parse(l)
}

// ociUpload is a chunked blob upload. The Writes send their chunks under
// the context given to Begin, as io.Writer takes none.
type ociUpload struct {
	ctx     context.Context
	o       *OCI
	rt      http.RoundTripper
	name    string
	version string
	ext     string
	tag     string
	url     string

	loc  *url.URL // the upload session, nil once finished or deleted
	buf  []byte
	sent int64
	h    hash.Hash
	err  error // the first error; Writes return it
	done bool  // committed or aborted
}

var errUploadDone = errors.New("upload already committed or aborted")

func (u *ociUpload) Write(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	if u.done {
		return 0, fmt.Errorf("%s: %w", u.url, errUploadDone)
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), cap(u.buf)-len(u.buf))
		u.buf = append(u.buf, p[:k]...)
		u.h.Write(p[:k])
		p, n = p[k:], n+k
		if len(u.buf) == cap(u.buf) {
			if err := u.flush(u.ctx); err != nil {
				u.err = err
				return n, err
			}
		}
	}
	return n, nil
}

// flush PATCHes the buffered bytes to the upload session.
func (u *ociUpload) flush(ctx context.Context) error {
	if len(u.buf) == 0 {
		return nil
	}
	end := u.sent + int64(len(u.buf)) - 1
	hdr := http.Header{
		"Content-Type":  {"application/octet-stream"},
		"Content-Range": {fmt.Sprintf("%d-%d", u.sent, end)},
	}
	what := fmt.Sprintf("%s: upload bytes %d-%d", u.url, u.sent, end)
	resp, err := do(ctx, u.rt, http.MethodPatch, u.loc, hdr, u.buf)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := check(resp, what, http.StatusAccepted, http.StatusNoContent, http.StatusCreated); err != nil {
		return err
	}
	resp.Body.Close()
	// The registry says how much it holds: "0-<last byte>".
	if r := resp.Header.Get("Range"); r != "" && r != fmt.Sprintf("0-%d", end) && r != fmt.Sprintf("bytes=0-%d", end) {
		return fmt.Errorf("%s: the registry holds %q", what, r)
	}
	loc, err := location(resp)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	u.loc, u.sent, u.buf = loc, end+1, u.buf[:0]
	return nil
}

// Commit implements Upload.
func (u *ociUpload) Commit(ctx context.Context, record []byte) error {
	if u.done {
		return fmt.Errorf("%s: %w", u.url, errUploadDone)
	}
	if u.err != nil {
		return u.err
	}
	if err := u.flush(ctx); err != nil {
		u.err = err
		return err
	}
	layer := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(u.h.Sum(nil))}
	if err := u.finish(ctx, layer); err != nil {
		u.err = err
		return err
	}
	o := u.o
	if err := remote.WriteLayer(o.repo, static.NewLayer(ociEmpty, ociEmptyType), o.remoteOptions(ctx, u.rt)...); err != nil {
		return fmt.Errorf("%s: push the config blob: %w", u.url, err)
	}
	raw, err := kitManifest(u.name, u.version, u.ext, layer, u.sent)
	if err != nil {
		return err
	}
	// Another publisher may have won since Begin. (Between this check and
	// the PUT, one still can: see the top of this file.)
	if taken, err := o.tagged(ctx, u.rt, u.tag); err != nil {
		return err
	} else if taken {
		u.done = true
		return fmt.Errorf("%s: %w (published while this upload ran; left untouched)", u.url, ErrExists)
	}
	if _, err := o.putManifest(ctx, u.rt, u.tag, raw); err != nil {
		return fmt.Errorf("%s: %w", u.url, err)
	}
	u.done = true
	if record != nil {
		h, n, _ := v1.SHA256(bytes.NewReader(raw))
		k := &ociKit{desc: v1.Descriptor{MediaType: ociManifestType, Digest: h, Size: n}, name: u.name, version: u.version}
		if err := o.pushRecord(ctx, u.rt, k, record); err != nil {
			return fmt.Errorf("%w: %w", ErrNoRecord, err)
		}
	}
	return nil
}

// finish ends the blob upload with its digest. A registry that refuses
// because it has the blob already is fine.
func (u *ociUpload) finish(ctx context.Context, layer v1.Hash) error {
	q := u.loc.Query()
	q.Set("digest", layer.String())
	put := *u.loc
	put.RawQuery = q.Encode()
	what := fmt.Sprintf("%s: finish the upload of %s (%d bytes)", u.url, layer, u.sent)
	resp, err := do(ctx, u.rt, http.MethodPut, &put, http.Header{"Content-Type": {"application/octet-stream"}}, []byte{})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	perr := check(resp, what, http.StatusCreated, http.StatusNoContent, http.StatusAccepted)
	if perr == nil {
		resp.Body.Close()
		u.loc = nil
		if d := resp.Header.Get("Docker-Content-Digest"); d != "" && d != layer.String() {
			return fmt.Errorf("%s: the registry computed %s", what, d)
		}
		return nil
	}
	if size, err := u.o.blobSize(ctx, u.rt, layer); err == nil && size == u.sent {
		return nil
	}
	return perr
}

// blobSize HEADs blob h.
func (o *OCI) blobSize(ctx context.Context, rt http.RoundTripper, h v1.Hash) (int64, error) {
	resp, err := do(ctx, rt, http.MethodHead, o.url("blobs/"+h.String()), nil, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := check(resp, "blob "+h.String(), http.StatusOK); err != nil {
		return 0, err
	}
	return resp.ContentLength, nil
}

// Abort implements Upload: it deletes the upload session. A registry that
// has forgotten it, or cannot delete sessions, is fine: nothing was tagged.
func (u *ociUpload) Abort() error {
	if u.done {
		return nil
	}
	u.done = true
	if u.err == nil {
		u.err = fmt.Errorf("%s: %w", u.url, errUploadDone)
	}
	if u.loc == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := do(ctx, u.rt, http.MethodDelete, u.loc, nil, nil)
	if err != nil {
		return fmt.Errorf("%s: delete the upload session: %w", u.url, err)
	}
	u.loc = nil
	if err := check(resp, u.url+": delete the upload session", http.StatusNoContent, http.StatusOK, http.StatusAccepted,
		http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented); err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// putManifest PUTs the image manifest raw as ref (a tag or a digest) and
// returns the answer's headers.
func (o *OCI) putManifest(ctx context.Context, rt http.RoundTripper, ref string, raw []byte) (http.Header, error) {
	what := "PUT manifest " + ref
	resp, err := do(ctx, rt, http.MethodPut, o.url("manifests/"+ref), http.Header{"Content-Type": {ociManifestType}}, raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := check(resp, what, http.StatusCreated, http.StatusOK, http.StatusAccepted); err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp.Header, nil
}

// pull resolves the kit name/version with a pull-scoped transport.
func (o *OCI) pull(ctx context.Context, name, version string) (http.RoundTripper, *ociKit, error) {
	rt, err := o.transport(ctx, transport.PullScope)
	if err != nil {
		return nil, nil, err
	}
	k, err := o.resolve(ctx, rt, name, version)
	if err != nil {
		return nil, nil, err
	}
	return rt, k, nil
}

// Open implements Store. name "" opens whatever kit the tag version holds.
func (o *OCI) Open(ctx context.Context, name, version string) (Object, error) {
	rt, k, err := o.pull(ctx, name, version)
	if err != nil {
		return nil, err
	}
	return &ociObject{o: o, rt: rt, layer: k.layer.Digest, size: k.layer.Size, url: o.URL(k.name, k.version)}, nil
}

type ociObject struct {
	o     *OCI
	rt    http.RoundTripper
	layer v1.Hash
	size  int64
	url   string
}

func (ob *ociObject) Size() int64 { return ob.size }
func (ob *ociObject) URL() string { return ob.url }

// Range implements Object: a GET of the blob with a Range header.
func (ob *ociObject) Range(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	n, err := clampRange(ob.url, off, n, ob.size)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	what := fmt.Sprintf("%s: blob %s bytes %d-%d", ob.url, ob.layer, off, off+n-1)
	resp, err := do(ctx, ob.rt, http.MethodGet, ob.o.url("blobs/"+ob.layer.String()),
		http.Header{"Range": {fmt.Sprintf("bytes=%d-%d", off, off+n-1)}}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := check(resp, what, http.StatusPartialContent, http.StatusOK); err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusPartialContent {
		if cr := resp.Header.Get("Content-Range"); !strings.HasPrefix(cr, fmt.Sprintf("bytes %d-", off)) {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: the registry answered the range %q", what, cr)
		}
	} else if off > 0 {
		// A registry (or a proxy before it) that ignores Range sends the
		// whole blob: skip to off.
		if _, err := io.CopyN(io.Discard, resp.Body, off); err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: skip to the range in a whole blob: %w", what, err)
		}
	}
	return &rangeBody{r: io.LimitReader(resp.Body, n), c: resp.Body, left: n, what: what}, nil
}

// rangeBody reads n bytes of a response, and says so if it ends early.
type rangeBody struct {
	r    io.Reader
	c    io.Closer
	left int64
	what string
}

func (b *rangeBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		return n, fmt.Errorf("%s: %d bytes short: %w", b.what, b.left, io.ErrUnexpectedEOF)
	}
	return n, err
}

func (b *rangeBody) Close() error { return b.c.Close() }

// recordManifest is the release record referrer of kit k.
func recordManifest(k *ociKit, record []byte) ([]byte, error) {
	h, n, _ := v1.SHA256(bytes.NewReader(record))
	subject := v1.Descriptor{MediaType: k.desc.MediaType, Size: k.desc.Size, Digest: k.desc.Digest}
	m := ociManifest{
		SchemaVersion: 2,
		MediaType:     ociManifestType,
		ArtifactType:  OCIRecordArtifactType,
		Config:        emptyDescriptor(),
		Layers: []v1.Descriptor{{
			MediaType: OCIRecordArtifactType, Size: n, Digest: h,
			Annotations: map[string]string{annotationTitle: RecordFile(k.name, k.version)},
		}},
		Subject:     &subject,
		Annotations: map[string]string{annotationName: k.name, annotationVersion: k.version},
	}
	return json.Marshal(m)
}

// pushRecord pushes record as a referrer of k, and lists it in the
// referrers fallback index if the registry has no referrers API.
func (o *OCI) pushRecord(ctx context.Context, rt http.RoundTripper, k *ociKit, record []byte) error {
	opts := o.remoteOptions(ctx, rt)
	if err := remote.WriteLayer(o.repo, static.NewLayer(ociEmpty, ociEmptyType), opts...); err != nil {
		return fmt.Errorf("%s: push the config blob: %w", o.URL(k.name, k.version), err)
	}
	if err := remote.WriteLayer(o.repo, static.NewLayer(record, OCIRecordArtifactType), opts...); err != nil {
		return fmt.Errorf("%s: push the release record blob: %w", o.URL(k.name, k.version), err)
	}
	raw, err := recordManifest(k, record)
	if err != nil {
		return err
	}
	h, n, _ := v1.SHA256(bytes.NewReader(raw))
	hdr, err := o.putManifest(ctx, rt, h.String(), raw)
	if err != nil {
		return fmt.Errorf("%s: release record: %w", o.URL(k.name, k.version), err)
	}
	if hdr.Get("OCI-Subject") != "" {
		return nil // the registry lists referrers itself
	}
	if _, ok, err := o.referrersAPI(ctx, rt, k.desc.Digest); err != nil {
		return err
	} else if ok {
		return nil
	}
	entry := v1.Descriptor{MediaType: ociManifestType, Size: n, Digest: h, ArtifactType: OCIRecordArtifactType,
		Annotations: map[string]string{annotationName: k.name, annotationVersion: k.version}}
	return o.addFallback(ctx, rt, k.desc.Digest, entry)
}

func fallbackTag(d v1.Hash) string { return d.Algorithm + "-" + d.Hex }

// referrersAPI asks the referrers API for the referrers of d; ok is false
// if the registry has no such API.
func (o *OCI) referrersAPI(ctx context.Context, rt http.RoundTripper, d v1.Hash) (idx *v1.IndexManifest, ok bool, err error) {
	what := fmt.Sprintf("%s: referrers of %s", o.URL("", ""), d)
	resp, err := do(ctx, rt, http.MethodGet, o.url("referrers/"+d.String()), http.Header{"Accept": {ociIndexType}}, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	if err := check(resp, what, http.StatusOK, http.StatusNotFound, http.StatusBadRequest, http.StatusNotAcceptable, http.StatusMethodNotAllowed); err != nil {
		return nil, false, err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ociIndexType) {
		return nil, false, nil
	}
	idx, err = v1.ParseIndexManifest(io.LimitReader(resp.Body, MaxRecordSize))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", what, err)
	}
	return idx, true, nil
}

// fallbackIndex reads the referrers fallback index of d, nil if there is
// none.
func (o *OCI) fallbackIndex(ctx context.Context, rt http.RoundTripper, d v1.Hash) (*v1.IndexManifest, error) {
	tag := fallbackTag(d)
	what := fmt.Sprintf("%s:%s (the referrers of %s)", o.URL("", ""), tag, d)
	resp, err := do(ctx, rt, http.MethodGet, o.url("manifests/"+tag), http.Header{"Accept": {ociIndexType}}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	if err := check(resp, what, http.StatusOK, http.StatusNotFound); err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	idx, err := v1.ParseIndexManifest(io.LimitReader(resp.Body, MaxRecordSize))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if idx.SchemaVersion != 2 || idx.MediaType != ociIndexType {
		return nil, fmt.Errorf("%s: not an OCI image index (schemaVersion %d, mediaType %q)", what, idx.SchemaVersion, idx.MediaType)
	}
	return idx, nil
}

// addFallback adds entry to the referrers fallback index of d: read,
// append, PUT (see the top of this file for the race).
func (o *OCI) addFallback(ctx context.Context, rt http.RoundTripper, d v1.Hash, entry v1.Descriptor) error {
	idx, err := o.fallbackIndex(ctx, rt, d)
	if err != nil {
		return err
	}
	if idx == nil {
		idx = &v1.IndexManifest{SchemaVersion: 2, MediaType: ociIndexType}
	}
	for _, m := range idx.Manifests {
		if m.Digest == entry.Digest {
			return nil
		}
	}
	idx.Manifests = append(idx.Manifests, entry)
	sort.Slice(idx.Manifests, func(i, j int) bool { return idx.Manifests[i].Digest.String() < idx.Manifests[j].Digest.String() })
	raw, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	tag := fallbackTag(d)
	what := fmt.Sprintf("%s:%s (the referrers of %s)", o.URL("", ""), tag, d)
	resp, err := do(ctx, rt, http.MethodPut, o.url("manifests/"+tag), http.Header{"Content-Type": {ociIndexType}}, raw)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := check(resp, what, http.StatusCreated, http.StatusOK, http.StatusAccepted); err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// referrers lists the referrers of d: the referrers API's answer, else
// the fallback index.
func (o *OCI) referrers(ctx context.Context, rt http.RoundTripper, d v1.Hash) ([]v1.Descriptor, error) {
	idx, ok, err := o.referrersAPI(ctx, rt, d)
	if err != nil {
		return nil, err
	}
	if !ok {
		if idx, err = o.fallbackIndex(ctx, rt, d); err != nil || idx == nil {
			return nil, err
		}
	}
	return idx.Manifests, nil
}

// ociRecord is a release record referrer.
type ociRecord struct {
	manifest v1.Hash
	layer    v1.Descriptor
}

// records returns the release record referrers of k, sorted by digest.
func (o *OCI) records(ctx context.Context, rt http.RoundTripper, k *ociKit) ([]ociRecord, error) {
	refs, err := o.referrers(ctx, rt, k.desc.Digest)
	if err != nil {
		return nil, err
	}
	var out []ociRecord
	looked := 0
	for _, r := range refs {
		// go-containerregistry writes the config's media type into the
		// fallback index: look at those too.
		if r.MediaType != ociManifestType || (r.ArtifactType != OCIRecordArtifactType && r.ArtifactType != ociEmptyType && r.ArtifactType != "") {
			continue
		}
		if looked++; looked > maxReferrers {
			return nil, fmt.Errorf("%s: more than %d referrers", o.URL(k.name, k.version), maxReferrers)
		}
		d, err := remote.Get(o.repo.Digest(r.Digest.String()), o.remoteOptions(ctx, rt)...)
		if isStatus(err, http.StatusNotFound) {
			continue // listed, since deleted
		}
		if err != nil {
			return nil, fmt.Errorf("%s: referrer %s: %w", o.URL(k.name, k.version), r.Digest, err)
		}
		var m ociManifest
		if d.MediaType != ociManifestType || json.Unmarshal(d.Manifest, &m) != nil ||
			m.ArtifactType != OCIRecordArtifactType || m.Subject == nil || m.Subject.Digest != k.desc.Digest ||
			len(m.Layers) != 1 || m.Layers[0].MediaType != OCIRecordArtifactType {
			continue
		}
		out = append(out, ociRecord{manifest: r.Digest, layer: m.Layers[0]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].manifest.String() < out[j].manifest.String() })
	return out, nil
}

// Record implements Store. name "" reads the record of whatever kit the
// tag version holds.
func (o *OCI) Record(ctx context.Context, name, version string) ([]byte, error) {
	rt, k, err := o.pull(ctx, name, version)
	if err != nil {
		return nil, err
	}
	recs, err := o.records(ctx, rt, k)
	if err != nil {
		return nil, err
	}
	url := o.URL(k.name, k.version)
	if len(recs) == 0 {
		return nil, notFound(url + " release record")
	}
	l := recs[0].layer
	what := fmt.Sprintf("%s: release record %s", url, l.Digest)
	if l.Size > MaxRecordSize {
		return nil, fmt.Errorf("%s: release record larger than %d bytes", what, MaxRecordSize)
	}
	resp, err := do(ctx, rt, http.MethodGet, o.url("blobs/"+l.Digest.String()), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	if err := check(resp, what, http.StatusOK); err != nil {
		return nil, err
	}
	b, err := readLimited(resp.Body, what)
	if err != nil {
		return nil, err
	}
	if h, n, _ := v1.SHA256(bytes.NewReader(b)); h != l.Digest || n != l.Size {
		return nil, fmt.Errorf("%s: the registry sent %d bytes with digest %s", what, n, h)
	}
	return b, nil
}

// PutRecord implements Store.
func (o *OCI) PutRecord(ctx context.Context, name, version string, record []byte) error {
	if err := CheckRelease(name, version); err != nil {
		return err
	}
	rt, err := o.transport(ctx, transport.PushScope)
	if err != nil {
		return err
	}
	k, err := o.resolve(ctx, rt, name, version)
	if err != nil {
		return err
	}
	recs, err := o.records(ctx, rt, k)
	if err != nil {
		return err
	}
	if len(recs) > 0 {
		return fmt.Errorf("%s release record: %w", o.URL(name, version), ErrExists)
	}
	return o.pushRecord(ctx, rt, k, record)
}

// listWorkers bounds the manifests List reads at once.
const listWorkers = 4

// List implements Store: every tag whose manifest is an offkit kit's, and
// whose tag is its version's (other tags naming a kit are aliases).
// Registries keep no time of writing: Modified is zero.
func (o *OCI) List(ctx context.Context) ([]Release, error) {
	rt, err := o.transport(ctx, transport.PullScope)
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(o.repo, o.remoteOptions(ctx, rt)...)
	if isStatus(err, http.StatusNotFound) {
		return nil, nil // no repository yet
	}
	if err != nil {
		return nil, fmt.Errorf("%s: list tags: %w", o.URL("", ""), err)
	}
	var (
		mu       sync.Mutex
		out      []Release
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan string)
	)
	for range listWorkers {
		wg.Go(func() {
			for tag := range next {
				r, err := o.listTag(ctx, rt, tag)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if r != nil {
					out = append(out, *r)
				}
				mu.Unlock()
			}
		})
	}
	for _, tag := range tags {
		if ociFallbackRE.MatchString(tag) || cosignTagRE.MatchString(tag) {
			continue
		}
		next <- tag
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	sortReleases(out)
	return out, nil
}

// listTag returns the kit tag holds, nil if it holds none.
func (o *OCI) listTag(ctx context.Context, rt http.RoundTripper, tag string) (*Release, error) {
	d, err := remote.Get(o.repo.Tag(tag), o.remoteOptions(ctx, rt)...)
	if isStatus(err, http.StatusNotFound) {
		return nil, nil // deleted since listed
	}
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", o.URL("", ""), tag, err)
	}
	k, err := parseKit(d.Manifest, d.Descriptor)
	if err != nil {
		return nil, nil // not an offkit kit
	}
	if t, _ := ociTag(k.version); t != tag {
		return nil, nil // an alias
	}
	recs, err := o.records(ctx, rt, k)
	if err != nil {
		return nil, err
	}
	return &Release{Name: k.name, Version: k.version, URL: o.URL(k.name, k.version), File: KitFile(k.name, k.version, k.ext),
		Size: k.layer.Size, Record: len(recs) > 0}, nil
}

var _ Store = (*OCI)(nil)
