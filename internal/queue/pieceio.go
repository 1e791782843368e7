package queue

import (
	"bytes"
	"io"
	"sync"

	"github.com/klauspost/compress/s2"
)

// Pieces travel through the chunk bucket S2-compressed (its stream
// format): logs shrink several times at little CPU, and every byte the
// bucket holds is written, stored and read back by the NATS server, on
// the same cores as the scan when they share a machine.
const encodingS2 = "s2"

// pieceWriter compresses the pieces of one coordinator (one goroutine).
type pieceWriter struct {
	buf bytes.Buffer
	w   *s2.Writer
}

// compress returns data compressed, valid until the next call.
func (p *pieceWriter) compress(data []byte) ([]byte, error) {
	if p.w == nil {
		p.w = s2.NewWriter(nil, s2.WriterConcurrency(1))
	}
	p.buf.Reset()
	p.w.Reset(&p.buf)
	if _, err := p.w.Write(data); err != nil {
		return nil, err
	}
	if err := p.w.Close(); err != nil {
		return nil, err
	}
	return p.buf.Bytes(), nil
}

// compressing streams r compressed, for a whole file put as it is read.
func compressing(r io.Reader) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		w := s2.NewWriter(pw, s2.WriterConcurrency(1))
		_, err := io.Copy(w, r)
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// readers are the workers' decompressors, reused: each holds a block's
// buffers.
var readers = sync.Pool{New: func() any { return s2.NewReader(nil) }}

// decompressing reads r's piece; release gives the decompressor back.
func decompressing(r io.Reader) (io.Reader, func()) {
	d := readers.Get().(*s2.Reader)
	d.Reset(r)
	return d, func() {
		d.Reset(nil)
		readers.Put(d)
	}
}
