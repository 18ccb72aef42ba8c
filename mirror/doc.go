// Package mirror will hold the mirror engine: offset-identical,
// byte-for-byte copies of source topics on an unmodified destination
// cluster. Nothing is implemented yet.
package mirror
