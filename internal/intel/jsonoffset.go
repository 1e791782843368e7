package intel

import (
	"encoding/json"
	"errors"
)

// JSONErrorOffset is where in the input a failed dec.Decode or dec.Token
// broke: the syntax error's own offset (a value nested too deep breaks
// thousands of bytes after it starts) when it has one, else the end of the
// last value read.
func JSONErrorOffset(dec *json.Decoder, err error) int64 {
	off := dec.InputOffset()
	var se *json.SyntaxError
	// A SyntaxError's Offset counts the byte it broke on.
	if errors.As(err, &se) && se.Offset-1 > off {
		return se.Offset - 1
	}
	return off
}
