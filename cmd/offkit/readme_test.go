package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/offkit/offkit/internal/testtool"
)

// readmeSkip names the console examples of README.md that TestREADME does
// not run, by their first command, with why.
var readmeSkip = map[string]string{
	"offkit verify runner-kit.tar.zst": "needs a kit with images from a registry (cmd/offkit/images_test.go runs this flow)",
}

type readmeCmd struct {
	line int      // README line of the command
	cmd  string   // without "$ "
	want []string // the output lines shown, "..." for any
}

// readmeExamples returns every command of every ```console block.
func readmeExamples(t *testing.T, path string) (blocks [][]readmeCmd) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in, n := false, 0
	var cur []readmeCmd
	for sc.Scan() {
		n++
		line := strings.TrimPrefix(sc.Text(), "  ") // fenced blocks in list items
		switch {
		case !in && strings.HasPrefix(strings.TrimSpace(line), "```console"):
			in, cur = true, nil
		case in && strings.HasPrefix(strings.TrimSpace(line), "```"):
			in = false
			blocks = append(blocks, cur)
		case in && strings.HasPrefix(line, "$ "):
			cur = append(cur, readmeCmd{line: n, cmd: strings.TrimPrefix(line, "$ ")})
		case in && len(cur) > 0:
			cur[len(cur)-1].want = append(cur[len(cur)-1].want, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// normalise makes what differs between runs and machines comparable: key
// IDs, digests, times, offkit's version and runs of spaces.
var readmeNorm = []struct {
	re  *regexp.Regexp
	rep string
}{
	{regexp.MustCompile(`SHA256:[A-Za-z0-9+/]{43}`), "SHA256:<keyid>"},
	{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:<digest>"},
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<hex>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`), "<time>"},
	{regexp.MustCompile(`by offkit \S+`), "by offkit <version>"},
	{regexp.MustCompile(`\s+`), " "},
}

func normalise(s string) string {
	for _, n := range readmeNorm {
		s = n.re.ReplaceAllString(s, n.rep)
	}
	return strings.TrimSpace(s)
}

// TestREADME runs the console examples of README.md, in order, in one
// scratch directory holding a copy of testdata/example, as a reader would
// type them, and requires every output line they show (after normalise) to
// appear in that order in what the command prints. /srv/releases and
// /var/lib/offkit become directories in the scratch directory.
func TestREADME(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	testtool.Need(t, "jq")
	work := t.TempDir()
	if out, err := exec.Command("cp", "-r", filepath.Join(root, "testdata", "example")+"/.", work).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	for _, d := range []string{"srv/releases", "var/lib/offkit"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	paths := strings.NewReplacer("/srv/releases", work+"/srv/releases", "/var/lib/offkit", work+"/var/lib/offkit")

	// One bash script for all of it, so that exports carry over, with a
	// marker before each command's output and its exit status after.
	var script strings.Builder
	var cmds []readmeCmd
	for _, block := range readmeExamples(t, filepath.Join(root, "README.md")) {
		if len(block) == 0 {
			continue
		}
		if why, skip := skipped(block[0].cmd); skip {
			t.Logf("README.md:%d: not run: %s", block[0].line, why)
			continue
		}
		for _, c := range block {
			fmt.Fprintf(&script, "echo '@@CMD %d'\n%s\necho \"@@RC $?\"\n", len(cmds), paths.Replace(c.cmd))
			cmds = append(cmds, c)
		}
	}
	if len(cmds) < 8 {
		t.Fatalf("only %d README commands found", len(cmds))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GIT_DIR="+filepath.Join(root, ".git"), "TZ=UTC")
	out, _ := cmd.CombinedOutput()

	outputs := map[int][]string{}
	codes := map[int]string{}
	i := -1
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "@@CMD "):
			fmt.Sscan(strings.TrimPrefix(line, "@@CMD "), &i)
		case strings.HasPrefix(line, "@@RC "):
			codes[i] = strings.TrimPrefix(line, "@@RC ")
		case i >= 0:
			outputs[i] = append(outputs[i], line)
		}
	}
	back := strings.NewReplacer(work+"/srv/releases", "/srv/releases", work+"/var/lib/offkit", "/var/lib/offkit")
	for n, c := range cmds {
		got := outputs[n]
		if codes[n] != "0" {
			t.Errorf("README.md:%d: %s: exit %s\n%s", c.line, c.cmd, codes[n], strings.Join(got, "\n"))
			continue
		}
		k := 0
		for _, w := range c.want {
			w = normalise(w)
			if w == "" || w == "..." {
				continue
			}
			for k < len(got) && normalise(back.Replace(got[k])) != w {
				k++
			}
			if k == len(got) {
				t.Errorf("README.md:%d: %s: the README shows\n\t%s\nwhich it does not print (in that order); it printed:\n%s", c.line, c.cmd, w, strings.Join(got, "\n"))
				break
			}
			k++
		}
	}
}

func skipped(cmd string) (string, bool) {
	for prefix, why := range readmeSkip {
		if strings.HasPrefix(cmd, prefix) {
			return why, true
		}
	}
	return "", false
}
