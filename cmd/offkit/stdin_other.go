//go:build !unix

package main

import "os"

// stdinKit returns standard input for reading a kit.
func stdinKit() *os.File { return os.Stdin }
