package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// namedFile is a file the command line names, for distinctFiles.
type namedFile struct {
	flag, path string
}

// distinctFiles refuses a command line that names one file twice among the
// input and the files a run writes (README, "Files and servers"): a results file or
// summary written over the input destroys it. Files are compared as files,
// not as names: a symbolic or hard link to the input is the input. stdin
// is what --in - reads.
func distinctFiles(stdin io.Reader, files ...namedFile) error {
	type seen struct {
		namedFile
		info os.FileInfo // nil for a file that does not exist yet
		path string      // its canonical path
	}
	var all []seen
	for _, f := range files {
		if f.path == "" {
			continue
		}
		s := seen{namedFile: f}
		var err error
		if f.path == "-" {
			if sf, ok := stdin.(*os.File); ok {
				s.info, err = sf.Stat()
			}
		} else {
			s.info, s.path, err = identify(f.path)
		}
		if err != nil {
			return &usageError{&fileError{flags: []string{f.flag}, err: fmt.Errorf("%s %s: %w", f.flag, f.path, err)}}
		}
		for _, o := range all {
			if (s.info != nil && o.info != nil && os.SameFile(s.info, o.info)) || (s.path != "" && s.path == o.path) {
				return &usageError{&fileError{flags: []string{o.flag, f.flag}, err: fmt.Errorf(
					"%s and %s name the same file (%s): each must be a file of its own, or the run would write over %s", o.flag, f.flag, f.path, o.flag)}}
			}
		}
		all = append(all, s)
	}
	return nil
}

// fileError is distinctFiles' refusal: two flags name one file, or the
// file a flag names could not be looked at.
type fileError struct {
	flags []string // the flags concerned
	err   error
}

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// concerns reports whether err is a fileError about the file flag names.
func concerns(err error, flag string) bool {
	var fe *fileError
	return errors.As(err, &fe) && slices.Contains(fe.flags, flag)
}

// identify returns what the file at path is: its FileInfo (following
// links) if it exists, and its canonical path, links resolved, which
// for a file still to be created is its directory's.
func identify(path string) (os.FileInfo, string, error) {
	info, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", err
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		return info, resolved, nil
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return info, abs, nil // a directory that does not exist fails later, where it is opened
	}
	return info, filepath.Join(dir, filepath.Base(abs)), nil
}

// shellWord returns s as one word of a POSIX shell command line that a
// person can paste: as it is when it holds only characters no shell treats
// specially, else in single quotes. Control characters other than newline
// and TAB, and those of text direction, must not reach a terminal raw:
// each is written as
// "$(printf '\ooo')", which any POSIX shell (dash included) turns back
// into it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !shellSafe(r) }) < 0 {
		return s
	}
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\'':
			b.WriteString(`'\''`)
		case unsafeForTerminal(r):
			b.WriteString(`'"$(printf '`)
			for _, c := range []byte(string(r)) {
				fmt.Fprintf(&b, `\%03o`, c)
			}
			b.WriteString(`')"'`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func shellSafe(r rune) bool {
	return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_@%+=:,./-", r))
}

// terminalSafe shows control characters in s escaped (ESC as \x1b), but
// for line ends and TABs, and the controls of text direction (U+202E as
// \u202e): messages name files and cells as the user gave them, and no
// name may drive the terminal it is printed on or show itself reversed.
func terminalSafe(s string) string {
	if strings.IndexFunc(s, unsafeForTerminal) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unsafeForTerminal(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func unsafeForTerminal(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\t' || unicode.Is(unicode.Bidi_Control, r)
}
