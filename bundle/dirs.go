package bundle

import (
	"sort"
	"strings"
)

// dirTree is the set of directories a kit's payload files imply, as a tree
// keyed by (parent, element): adding a path or looking one up costs time
// linear in its length, however deep it is, where a set keyed by whole
// directory names costs the square of the depth (every ancestor hashed in
// full).
type dirTree struct {
	nodes map[dirKey]int32
	seen  []bool
	up    []dirKey // each node's key, to name it
}

type dirKey struct {
	parent int32 // -1: the kit root
	name   string
}

// addParents adds every directory that contains the file p.
func (t *dirTree) addParents(p string) {
	if t.nodes == nil {
		t.nodes = map[dirKey]int32{}
	}
	parent := int32(-1)
	for {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return
		}
		k := dirKey{parent, p[:i]}
		id, ok := t.nodes[k]
		if !ok {
			id = int32(len(t.seen))
			t.nodes[k] = id
			t.seen = append(t.seen, false)
			t.up = append(t.up, k)
		}
		parent, p = id, p[i+1:]
	}
}

// lookup returns the node of directory d (no trailing slash), or -1.
func (t *dirTree) lookup(d string) int32 {
	id := int32(-1)
	for {
		el, rest, more := strings.Cut(d, "/")
		next, ok := t.nodes[dirKey{id, el}]
		if !ok {
			return -1
		}
		if !more {
			return next
		}
		id, d = next, rest
	}
}

// name returns the path of node id.
func (t *dirTree) name(id int32) string {
	var els []string
	for ; id >= 0; id = t.up[id].parent {
		els = append(els, t.up[id].name)
	}
	for i, j := 0, len(els)-1; i < j; i, j = i+1, j-1 {
		els[i], els[j] = els[j], els[i]
	}
	return strings.Join(els, "/")
}

// unseen returns the directories never marked seen, sorted.
func (t *dirTree) unseen() []string {
	var out []string
	for id, s := range t.seen {
		if !s {
			out = append(out, t.name(int32(id)))
		}
	}
	sort.Strings(out)
	return out
}
