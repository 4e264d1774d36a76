package registrytest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/offkit/offkit/internal/registrytest"
)

func TestStartStop(t *testing.T) {
	r := registrytest.New(t)
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + r.Host + "/v2/")
	if err != nil {
		t.Fatalf("GET /v2/: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/: %s, want 200 OK", resp.Status)
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("Stop: %v\n%s", err, r.Log())
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if resp, err := client.Get("http://" + r.Host + "/v2/"); err == nil {
		resp.Body.Close()
		t.Fatalf("GET /v2/ after Stop: %s, want a connection error", resp.Status)
	}
}

func TestTwoRegistries(t *testing.T) {
	a, b := registrytest.Start(t), registrytest.Start(t)
	if a == b {
		t.Fatalf("two registries on the same host %s", a)
	}
}
