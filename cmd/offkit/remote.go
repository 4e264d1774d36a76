package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/offkit/offkit/store"
)

// openRemoteKit opens the published kit a URL names. A URL that cannot
// name a kit is bad usage; a kit that is not there is an operational error.
func openRemoteKit(ctx context.Context, raw string) (store.Object, error) {
	st, name, version, err := store.OpenKit(ctx, raw, store.Options{})
	var ue *store.URLError
	if errors.As(err, &ue) {
		return nil, usageError{err}
	}
	if err != nil {
		return nil, err
	}
	return st.Open(ctx, name, version)
}

// pinURL makes a kit read from a URL the one the URL names: its name and
// version become the --name and --version pins (a store's layout or tag
// is not signed; a kit's manifest is). A pin the user gave must agree.
func pinURL(t *trustFlags, raw string) error {
	if !store.IsURL(raw) {
		return nil
	}
	name, version, err := store.KitPins(raw)
	if err != nil {
		return usageError{err}
	}
	for _, p := range []struct {
		flag      string
		user, url string
		set       *string
	}{{"--name", t.name, name, &t.name}, {"--version", t.version, version, &t.version}} {
		switch {
		case p.url == "":
		case p.user == "":
			*p.set = p.url
		case p.user != p.url:
			return usageError{fmt.Errorf("%s %q contradicts the URL, which names %q", p.flag, p.user, p.url)}
		}
	}
	return nil
}
