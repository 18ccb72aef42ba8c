//go:build !linux

package main

import "os"

// readNoEcho reads a line from a terminal; echo stays on outside Linux.
func readNoEcho(f *os.File) ([]byte, error) { return readLine(f) }
