package images

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option configures ParseSource, Resolve and Push.
type Option func(*config) error

type config struct {
	insecure   bool
	transport  http.RoundTripper
	keychain   authn.Keychain
	repository string
}

func newConfig(opts []Option) (*config, error) {
	c := &config{keychain: authn.DefaultKeychain}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// InsecureRegistry lets registry references use plain HTTP, and HTTPS
// without certificate checks, for any registry (name.Insecure). Loopback
// registries ("localhost", 127.0.0.1) use plain HTTP without it.
func InsecureRegistry() Option {
	return func(c *config) error { c.insecure = true; return nil }
}

// WithTransport sends registry requests through rt instead of
// remote.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *config) error {
		if rt == nil {
			return errors.New("images: WithTransport: nil transport")
		}
		c.transport = rt
		return nil
	}
}

// WithKeychain authenticates to registries with kc instead of
// authn.DefaultKeychain (the Docker config and credential helpers).
func WithKeychain(kc authn.Keychain) Option {
	return func(c *config) error {
		if kc == nil {
			return errors.New("images: WithKeychain: nil keychain")
		}
		c.keychain = kc
		return nil
	}
}

// WithRepository sets the repository path ("team/app") recorded for an
// image, under which Push places it. It is needed for oci: and
// docker-archive: sources whose reference names no repository, and
// overrides the one a source names.
func WithRepository(repo string) Option {
	return func(c *config) error {
		if err := CheckRepositoryPath(repo); err != nil {
			return fmt.Errorf("images: WithRepository: %w", err)
		}
		c.repository = repo
		return nil
	}
}

func (c *config) nameOptions() []name.Option {
	if c.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

func (c *config) remoteOptions(ctx context.Context) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(c.keychain)}
	if c.transport != nil {
		opts = append(opts, remote.WithTransport(c.transport))
	}
	return opts
}
