package cli

import (
	"bytes"
	"context"
	"strings"
)

// runMain runs the command line as the binary does and returns its exit
// code and output.
func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}
