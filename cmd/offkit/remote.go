package main

import (
	"context"
	"errors"

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
