package pcap

import (
	"fmt"
	"testing"
)

// dnsTexts gives the text nameText and addrText make, keeps at most
// maxDNSTexts of them, and a nil one makes none.
func TestDNSTextsBounded(t *testing.T) {
	var texts dnsTexts
	for i := 0; i < maxDNSTexts+10; i++ {
		label := fmt.Sprintf("h%d", i)
		wire := append([]byte{byte(len(label))}, label...)
		wire = append(append(wire, 7), "example"...)
		if got, want := texts.name(wire), nameText(wire); got != want {
			t.Fatalf("name %q: %q, want %q", wire, got, want)
		}
		if len(texts.m) > maxDNSTexts {
			t.Fatalf("%d texts kept, bound %d", len(texts.m), maxDNSTexts)
		}
	}
	if got := texts.addr([]byte{192, 0, 2, 1}); got != "192.0.2.1" {
		t.Errorf("addr = %q", got)
	}
	if got := texts.addr([]byte{32, 1, 13, 184, 15: 1}); got != "2001:db8::1" {
		t.Errorf("addr = %q", got)
	}
	// a name and an address of the same bytes are different texts
	if texts.name([]byte{1, 'a', 1, 'b'}) != "a.b" || texts.addr([]byte{1, 'a', 1, 'b'}) != "1.97.1.98" {
		t.Error("a name and an address of the same bytes share a text")
	}
	var none *dnsTexts
	if none.name([]byte{1, 'a'}) != "" || none.addr([]byte{1, 2, 3, 4}) != "" {
		t.Error("a nil dnsTexts made a text")
	}
}
