package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// Format 2 (FORMAT §20): an OCI image layout at images/, built by hand so
// that its index.json and indexes can be as large and as repetitive as the
// checker accepts. The layout is valid: every descriptor names a blob that
// is present with its size (except children an index filtered by platform
// leaves out, which are absent), every blob is referenced, and the images
// are exactly the pinned ones.

const (
	mtIndex    = "application/vnd.oci.image.index.v1+json"
	mtManifest = "application/vnd.oci.image.manifest.v1+json"
	mtConfig   = "application/vnd.oci.image.config.v1+json"
	mtLayer    = "application/vnd.oci.image.layer.v1.tar"

	annRole      = "dev.offkit.image.role"
	annSubject   = "dev.offkit.image.subject"
	annPlatforms = "dev.offkit.image.platforms"
	annRefName   = "org.opencontainers.image.ref.name"
)

// layout collects the files of an image layout.
type layout struct {
	files map[string][]byte // relative to images/
}

func newLayout() *layout {
	return &layout{files: map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}` + "\n")}}
}

// blob adds a blob and returns its descriptor's digest.
func (l *layout) blob(b []byte) string {
	d := digestOf(b)
	l.files["blobs/sha256/"+strings.TrimPrefix(d, "sha256:")] = b
	return d
}

func desc(mt string, b []byte, d string, extra string) string {
	return fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":%q%s}`, mt, len(b), d, extra)
}

// image adds a one-layer image and returns its manifest and digest.
func (l *layout) image() ([]byte, string) {
	layer := []byte("hostile layer\n")
	ld := l.blob(layer)
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + ld + `"]}}`)
	cd := l.blob(config)
	m := []byte(`{"schemaVersion":2,"mediaType":"` + mtManifest + `","config":` + desc(mtConfig, config, cd, "") +
		`,"layers":[` + desc(mtLayer, layer, ld, "") + `]}`)
	return m, l.blob(m)
}

// put adds the layout to k: its files in the payload and in the
// manifest's images.
func (l *layout) put(k *kit) {
	var names []string
	for n := range l.files {
		names = append(names, "images/"+n)
	}
	sort.Strings(names)
	k.m.Images = &Images{Path: "images", Files: []File{}}
	for _, n := range names {
		b := l.files[strings.TrimPrefix(n, "images/")]
		k.m.Images.Files = append(k.m.Images.Files, File{Path: n, Size: int64(len(b)), Mode: modeFile, Digest: digestOf(b)})
		k.payload = append(k.payload, pfile{path: n, data: b, mode: modeFile})
	}
}

// indexJSON writes index.json from its entries, up to limit bytes.
func indexJSON(entries func(i int) string, limit int) ([]byte, int) {
	var b bytes.Buffer
	b.WriteString(`{"schemaVersion":2,"mediaType":"` + mtIndex + `","manifests":[`)
	n := 0
	for ; ; n++ {
		e := entries(n)
		if e == "" || b.Len()+len(e)+4 > limit {
			break
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(e)
	}
	b.WriteString("]}\n")
	return b.Bytes(), n
}

// imagesPlatforms: index.json lists the one pinned index n times (as many
// as fit in MaxManifestSize if n is 0), each entry with a different
// platform filter. The index (MaxManifestSize too) has K children for
// linux/amd64, all the one manifest that is present, and as many children
// for linux/arm64 with distinct digests, absent because filtered out. Each
// filter makes the checker parse the index again and, for each absent
// child, scan the K selected ones.
func (g *gen) imagesPlatforms(n int) *kit {
	l := newLayout()
	m, md := l.image()
	var x bytes.Buffer
	x.WriteString(`{"schemaVersion":2,"mediaType":"` + mtIndex + `","manifests":[`)
	sel := desc(mtManifest, m, md, `,"platform":{"architecture":"amd64","os":"linux"}`)
	absent := func(i int) string {
		h := sha256Hex([]byte(fmt.Sprintf("absent %d", i)))
		return fmt.Sprintf(`{"mediaType":%q,"size":%d,"digest":"sha256:%s","platform":{"architecture":"arm64","os":"linux"}}`, mtManifest, len(m), h)
	}
	limit := g.lim(maxManifestSize)
	x.WriteString(sel)
	for i := 0; x.Len()+len(sel)+len(absent(i))+8 <= limit; i++ {
		x.WriteString("," + sel + "," + absent(i))
	}
	x.WriteString("]}")
	xb := x.Bytes()
	xd := l.blob(xb)
	entry := func(i int) string {
		if n > 0 && i >= n {
			return ""
		}
		return desc(mtIndex, xb, xd, fmt.Sprintf(`,"annotations":{%q:"linux/amd64,linux/z%05d",%q:"image"}`, annPlatforms, i, annRole))
	}
	idx, count := indexJSON(entry, g.lim(maxManifestSize))
	l.files["index.json"] = idx
	g.log("images-platforms: index.json %d entries, index %d bytes", count, len(xb))

	k := newKit(2)
	c := k.component("app", "image", "images")
	c.Image = &ImageRef{Reference: "oci:layout:app", Repository: "", Digest: xd, MediaType: mtIndex, Platforms: []string{"linux/amd64"}}
	l.put(k)
	k.signers = g.signers(true, 1)
	return k
}

// imagesArtifacts: the manifest lists as many artifacts as the statement
// holds (4096 per image component, the schema's limit, over as many
// components, all pinning the one image), and index.json holds as many
// signature entries as fit, all the same descriptor. The verifier looks
// each artifact up among all the entries.
func (g *gen) imagesArtifacts() *kit {
	l := newLayout()
	_, md := l.image()
	mb := l.files["blobs/sha256/"+strings.TrimPrefix(md, "sha256:")]
	tag := "sha256-" + strings.TrimPrefix(md, "sha256:") + ".sig"
	img := desc(mtManifest, mb, md, fmt.Sprintf(`,"annotations":{%q:"image"}`, annRole))
	sig := desc(mtManifest, mb, md, fmt.Sprintf(`,"annotations":{%q:"signature",%q:%q,%q:%q}`, annRole, annSubject, md, annRefName, tag))
	idx, count := indexJSON(func(i int) string {
		if i == 0 {
			return img
		}
		return sig
	}, g.lim(maxManifestSize))
	l.files["index.json"] = idx
	g.log("images-artifacts: index.json %d entries", count)

	art := Artifact{Role: "signature", Subject: md, Digest: md, Tag: tag}
	mk := func(n int) *kit {
		k := newKit(2)
		for i := 0; n > 0; i++ {
			c := k.component(fmt.Sprintf("img%04d", i), "image", "images")
			a := min(n, maxArtifacts)
			n -= a
			arts := make([]Artifact, a)
			for j := range arts {
				arts[j] = art
			}
			c.Image = &ImageRef{Reference: "oci:layout:app", Repository: "", Digest: md, MediaType: mtManifest, Artifacts: arts}
			if i == maxComponents-1 {
				break
			}
		}
		l.put(k)
		k.signers = g.signers(true, 1)
		return k
	}
	return g.fill("images-artifacts", 1, maxComponents*maxArtifacts, mk)
}
