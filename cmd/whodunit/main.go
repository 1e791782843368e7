// Command whodunit finds cyber-espionage in an organisation's own telemetry
// and says, with evidence and a stated confidence, who is most likely behind it.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/whodunit-project/whodunit/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
