package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
)

// copyTable is the rows of one table laid out in COPY's binary format
// (PostgreSQL's "COPY … FROM STDIN (FORMAT binary)": a signature, then
// per row a field count and each field as a length and its bytes, -1 for
// NULL, then -1). Writing it directly spares the generic encoding of one
// interface value per field, which a profile showed to cost as much as
// encoding the objects themselves.
type copyTable struct {
	name string
	cols []string
	buf  []byte
	rows int
}

var copySignature = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func newCopyTable(name string, cols ...string) *copyTable {
	return &copyTable{name: name, cols: cols, buf: append([]byte(nil), copySignature...)}
}

// row starts a row; its fields follow, one per column.
func (c *copyTable) row() *copyTable {
	c.rows++
	c.buf = binary.BigEndian.AppendUint16(c.buf, uint16(len(c.cols)))
	return c
}

func (c *copyTable) field(n int) {
	if n > math.MaxInt32 {
		n = math.MaxInt32 // the server refuses the row: a field is < 1 GB
	}
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(n))
}

// text is a text (or ctext) field, sent as its UTF-8 bytes.
func (c *copyTable) text(s string) *copyTable {
	c.field(len(s))
	c.buf = append(c.buf, s...)
	return c
}

// bytes is a bytea field; nil is NULL.
func (c *copyTable) bytes(b []byte) *copyTable {
	if b == nil {
		c.buf = binary.BigEndian.AppendUint32(c.buf, math.MaxUint32) // -1
		return c
	}
	c.field(len(b))
	c.buf = append(c.buf, b...)
	return c
}

func (c *copyTable) bool(v bool) *copyTable {
	c.field(1)
	if v {
		c.buf = append(c.buf, 1)
	} else {
		c.buf = append(c.buf, 0)
	}
	return c
}

// int4 is an integer field; a value out of its range fails the COPY
// rather than being cut.
func (c *copyTable) int4(v int) *copyTable {
	if v < math.MinInt32 || v > math.MaxInt32 {
		c.field(8) // a length an integer cannot have
		c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(v))
		return c
	}
	c.field(4)
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(int32(v)))
	return c
}

func (c *copyTable) int8(v int64) *copyTable {
	c.field(8)
	c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(v))
	return c
}

// send runs the COPY of the rows laid out, if any.
func (c *copyTable) send(ctx context.Context, tx pgx.Tx) error {
	if c.rows == 0 {
		return nil
	}
	cols := make([]string, len(c.cols))
	for i, col := range c.cols {
		cols[i] = pgx.Identifier{col}.Sanitize()
	}
	sql := "COPY " + pgx.Identifier{c.name}.Sanitize() + " (" + strings.Join(cols, ", ") + ") FROM STDIN (FORMAT binary)"
	body := binary.BigEndian.AppendUint16(c.buf, math.MaxUint16) // the trailer, -1
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(body), sql); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}
