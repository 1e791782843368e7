package pcap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"
)

// TestJA3 checks the JA3 string of a real ClientHello against the value
// its publisher documents (the ja3-rustls crate's example), and that GREASE
// values are left out.
func TestJA3(t *testing.T) {
	rec, err := hex.DecodeString("16030100f5010000f10303ad8e0c8dfe3adbc045e51aee4cb9480c02d5da4a240f95e8282a1f51be34901a20681af80b44c4b359adb3f9543a966e07e6ba6bed551472a62cd4b107cbd40e830014130213011303c02cc02bcca9c030c02fcca800ff01000094002b00050403040303000b00020100000a00080006001d00170018000d00140012050304030807080608050804060105010401001700000005000501000000000000001800160000137777772e706574616c7365617263682e636f6d00120000003300260024001d0020086fffef5fa7f04fb7d788615bc425820eba366ddb5f75c7d8336a0a05722d38002d0002010100230000")
	if err != nil {
		t.Fatal(err)
	}
	var app tlsApp
	if err := app.clientHello(rec[9:]); err != nil {
		t.Fatal(err)
	}
	want := md5hex("771,4866-4865-4867-49196-49195-52393-49200-49199-52392-255,43-11-10-13-23-5-0-18-51-45-35,29-23-24,0")
	if app.ja3 != want || app.sni != "www.petalsearch.com" {
		t.Errorf("ja3 %s sni %q, want %s www.petalsearch.com", app.ja3, app.sni, want)
	}

	// A minimal hello with GREASE in ciphers, extensions and groups.
	u16 := func(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
	var body []byte
	body = u16(body, 0x0303)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)                                     // session id
	body = u16(u16(u16(u16(body, 6), 0x0a0a), 0x1301), 0x1302) // ciphers
	body = append(body, 1, 0)                                  // compression
	var ext []byte
	ext = u16(u16(ext, 0x1a1a), 0)                           // GREASE extension
	ext = u16(u16(u16(u16(u16(ext, 10), 6), 4), 0x2a2a), 29) // supported_groups
	ext = append(u16(u16(ext, 11), 2), 1, 0)                 // ec_point_formats
	body = append(u16(body, len(ext)), ext...)
	app = tlsApp{}
	if err := app.clientHello(body); err != nil {
		t.Fatal(err)
	}
	if want := md5hex("771,4865-4866,10-11,29,0"); app.ja3 != want {
		t.Errorf("GREASE hello: ja3 %s, want %s", app.ja3, want)
	}
}

func TestServerHelloJA3S(t *testing.T) {
	u16 := func(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
	var body []byte
	body = u16(body, 0x0303)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)
	body = u16(body, 0x1301)
	body = append(body, 0)
	var ext []byte
	ext = u16(u16(u16(ext, 43), 2), 0x0304) // supported_versions: TLS 1.3
	ext = u16(u16(ext, 51), 0)
	body = append(u16(body, len(ext)), ext...)
	var app tlsApp
	if err := app.serverHello(body); err != nil {
		t.Fatal(err)
	}
	if want := md5hex("771,4865,43-51"); app.ja3s != want || versionName(app.version) != "TLSv13" {
		t.Errorf("ja3s %s version %s, want %s TLSv13", app.ja3s, versionName(app.version), want)
	}
	if err := app.serverHello(body[:20]); err == nil {
		t.Error("cut ServerHello accepted")
	}
}

// The leaf cache gives what parsing gives, for a certificate and for
// bytes that are not one, and stays within its bound.
func TestLeafCache(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0xABCDEF), Subject: pkix.Name{CommonName: "leaf.example"},
		Issuer: pkix.Name{CommonName: "ca.example"}, NotBefore: time.Unix(1500000000, 0), NotAfter: time.Unix(1600000000, 0),
		DNSNames: []string{"leaf.example", "www.leaf.example"}, IPAddresses: []net.IP{net.ParseIP("192.0.2.7")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	var c leafCache
	first := c.of(der, sha256.Sum256(der))
	again := c.of(der, sha256.Sum256(der))
	if first != again || first.err != nil || first.serial != "abcdef" || first.subject != "CN=leaf.example" ||
		len(first.sans) != 3 || first.sans[2] != "192.0.2.7" || !first.notAfter.Equal(time.Unix(1600000000, 0)) {
		t.Fatalf("facts %+v (again %p, first %p)", first, again, first)
	}
	bad := []byte("not a certificate")
	if lf := c.of(bad, sha256.Sum256(bad)); lf.err == nil {
		t.Fatal("bytes that are no certificate parsed")
	}
	for i := 0; i < maxLeaves+5; i++ {
		b := []byte(fmt.Sprint(i))
		c.of(b, sha256.Sum256(b))
		if len(c) > maxLeaves {
			t.Fatalf("%d leaves kept, bound %d", len(c), maxLeaves)
		}
	}
}
