package strictjson

import (
	"fmt"
	"unicode/utf8"
)

// scanner checks one document in a single pass over its bytes.
type scanner struct {
	data   []byte
	i      int
	depth  int
	open   bool   // unknown fields allowed
	global *names // every field name of the destination type
	key    []byte // the current key, unescaped
	fold   []byte // its Fold
	frames [MaxDepth]keySet
}

// keySet is the folded keys of one open object: a list while it is short,
// a map past that. Frames are reused across objects at one depth, so small
// objects cost no allocation beyond their keys.
type keySet struct {
	buf  []byte // folded keys, back to back
	ends []int
	set  map[string]struct{}
}

const keySetListMax = 16

func (k *keySet) reset() {
	k.buf, k.ends, k.set = k.buf[:0], k.ends[:0], nil
}

// add records fold and reports whether it was already there.
func (k *keySet) add(fold []byte) bool {
	if k.set != nil {
		if _, dup := k.set[string(fold)]; dup {
			return true
		}
		k.set[string(fold)] = struct{}{}
		return false
	}
	start := 0
	for _, end := range k.ends {
		if string(k.buf[start:end]) == string(fold) {
			return true
		}
		start = end
	}
	k.buf = append(k.buf, fold...)
	k.ends = append(k.ends, len(k.buf))
	if len(k.ends) > keySetListMax {
		k.set = make(map[string]struct{}, 2*len(k.ends))
		start := 0
		for _, end := range k.ends {
			k.set[string(k.buf[start:end])] = struct{}{}
			start = end
		}
	}
	return false
}

func (s *scanner) fail(format string, args ...any) error {
	return &Error{Offset: int64(s.i), Msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) run(sch *schema) error {
	s.ws()
	if err := s.value(sch); err != nil {
		return err
	}
	s.ws()
	if s.i != len(s.data) {
		return s.fail("data after the JSON value")
	}
	return nil
}

func (s *scanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value(sch *schema) error {
	if s.i >= len(s.data) {
		return s.fail("unexpected end of input")
	}
	switch c := s.data[s.i]; {
	case c == '{':
		return s.object(sch)
	case c == '[':
		return s.array(sch)
	case c == '"':
		_, err := s.str(false)
		return err
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.fail("invalid character %q looking for a value", c)
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.i < len(lit) || string(s.data[s.i:s.i+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) number() error {
	d := s.data
	if d[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(d) && '0' <= d[s.i] && d[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	switch {
	case s.i < len(d) && d[s.i] == '0':
		s.i++
	case digits() == 0:
		return s.fail("invalid number")
	}
	if s.i < len(d) && d[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return s.fail("invalid number: no digits after '.'")
		}
	}
	if s.i < len(d) && (d[s.i] == 'e' || d[s.i] == 'E') {
		s.i++
		if s.i < len(d) && (d[s.i] == '+' || d[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return s.fail("invalid number: no digits in the exponent")
		}
	}
	return nil
}

func (s *scanner) enter() error {
	if s.depth >= MaxDepth {
		return s.fail("nested deeper than %d", MaxDepth)
	}
	s.depth++
	return nil
}

func (s *scanner) array(sch *schema) error {
	if err := s.enter(); err != nil {
		return err
	}
	elem := anySchema
	if sch.kind == kindSlice {
		elem = sch.elem
	}
	s.i++ // [
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if err := s.value(elem); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.data) {
			return s.fail("unexpected end of input in an array")
		}
		switch s.data[s.i] {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("invalid character %q after an array element", s.data[s.i])
		}
	}
}

func (s *scanner) object(sch *schema) error {
	if err := s.enter(); err != nil {
		return err
	}
	keys := &s.frames[s.depth-1]
	keys.reset()
	s.i++ // {
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return s.fail("object key is not a string")
		}
		at := s.i
		if _, err := s.str(true); err != nil {
			return err
		}
		s.fold = appendFold(s.fold[:0], s.key)
		if keys.add(s.fold) {
			return &Error{Offset: int64(at), Msg: fmt.Sprintf("duplicate key %q (keys are compared as encoding/json matches them, ignoring case)", s.key)}
		}
		child, err := s.field(sch, at)
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return s.fail("expected ':' after an object key")
		}
		s.i++
		s.ws()
		if err := s.value(child); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.data) {
			return s.fail("unexpected end of input in an object")
		}
		switch s.data[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("invalid character %q after an object value", s.data[s.i])
		}
	}
}

// field applies the destination type's rules to the key just read (s.key,
// s.fold) and returns the schema of its value.
func (s *scanner) field(sch *schema, at int) (*schema, error) {
	switch sch.kind {
	case kindMap:
		return sch.elem, nil
	case kindStruct:
		if f, ok := sch.fields[string(s.key)]; ok {
			return f, nil
		}
		if name, ok := sch.folds[string(s.fold)]; ok {
			return nil, &Error{Offset: int64(at), Msg: fmt.Sprintf("key %q differs from the field %q only by case", s.key, name)}
		}
		if !s.open && !sch.custom {
			return nil, &Error{Offset: int64(at), Msg: fmt.Sprintf("unknown field %q", s.key)}
		}
	}
	// An unknown key, or a key below one: nothing decodes it by folding
	// unless a custom decoder does, so it may not fold to a known name.
	if s.global.fold[string(s.fold)] && !s.global.exact[string(s.key)] {
		return nil, &Error{Offset: int64(at), Msg: fmt.Sprintf("key %q differs from a field name only by case", s.key)}
	}
	return anySchema, nil
}

// str reads a string. For a key it leaves the unescaped bytes in s.key.
func (s *scanner) str(key bool) (int, error) {
	d := s.data
	start := s.i
	s.i++ // "
	if key {
		s.key = s.key[:0]
	}
	for {
		if s.i >= len(d) {
			return 0, &Error{Offset: int64(start), Msg: "unterminated string"}
		}
		c := d[s.i]
		switch {
		case c == '"':
			s.i++
			return s.i - start, nil
		case c < 0x20:
			return 0, s.fail("control character %#x in a string", c)
		case c == '\\':
			r, err := s.escape()
			if err != nil {
				return 0, err
			}
			if key {
				s.key = utf8.AppendRune(s.key, r)
			}
		case c < utf8.RuneSelf:
			if key {
				s.key = append(s.key, c)
			}
			s.i++
		default:
			r, n := utf8.DecodeRune(d[s.i:])
			if r == utf8.RuneError && n <= 1 {
				return 0, s.fail("invalid UTF-8 in a string")
			}
			if key {
				s.key = append(s.key, d[s.i:s.i+n]...)
			}
			s.i += n
		}
	}
}

// escape reads one escape sequence at s.i and returns the rune it stands
// for. A \u escape of a UTF-16 surrogate must be a high surrogate followed
// by an escaped low one: parsers disagree on lone surrogates.
func (s *scanner) escape() (rune, error) {
	d := s.data
	if s.i+1 >= len(d) {
		return 0, s.fail("unterminated escape")
	}
	c := d[s.i+1]
	s.i += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := s.hex4()
		if err != nil {
			return 0, err
		}
		switch {
		case 0xDC00 <= r && r <= 0xDFFF:
			return 0, s.fail("lone UTF-16 low surrogate")
		case 0xD800 <= r && r <= 0xDBFF:
			if s.i+1 >= len(d) || d[s.i] != '\\' || d[s.i+1] != 'u' {
				return 0, s.fail("lone UTF-16 high surrogate")
			}
			s.i += 2
			lo, err := s.hex4()
			if err != nil {
				return 0, err
			}
			if lo < 0xDC00 || lo > 0xDFFF {
				return 0, s.fail("UTF-16 high surrogate not followed by a low one")
			}
			return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), nil
		}
		return r, nil
	}
	return 0, s.fail("invalid escape \\%c", c)
}

func (s *scanner) hex4() (rune, error) {
	if len(s.data)-s.i < 4 {
		return 0, s.fail("short \\u escape")
	}
	var r rune
	for _, c := range s.data[s.i : s.i+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c-'a') + 10
		case 'A' <= c && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, s.fail("invalid \\u escape")
		}
	}
	s.i += 4
	return r, nil
}
