package fileio

import "testing"

// The same text in any wrapping, written in any pieces, has one digest;
// a change of content does not.
func TestContentHashIgnoresWrapping(t *testing.T) {
	sum := func(parts ...string) string {
		h := NewContentHash()
		for _, p := range parts {
			h.Write([]byte(p))
		}
		return h.Sum()
	}
	want := sum("a,b\nc,d")
	for _, parts := range [][]string{
		{"a,b\nc,d\n"}, {"a,b\r\nc,d\r\n"}, {"a,b\r", "\nc,d\n\n\n"}, {"a", ",b\n", "c,d", "\r\n"},
	} {
		if got := sum(parts...); got != want {
			t.Errorf("%q: digest differs", parts)
		}
	}
	for _, other := range []string{"a,b\n\nc,d", "a,b\rc,d", "a,b\nc,d ", "\na,b\nc,d"} {
		if sum(other) == want {
			t.Errorf("%q has the digest of different content", other)
		}
	}
	h := NewContentHash()
	h.Write([]byte("a,b\nc,d\n"))
	h.Extra("actor")
	if h.Sum() == want {
		t.Error("labels do not count")
	}
}
