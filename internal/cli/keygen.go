package cli

import (
	"crypto/ed25519"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/whodunit-project/whodunit/internal/report"
	"github.com/whodunit-project/whodunit/internal/sign"
)

func newKeygenCmd(app *App) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "keygen --out NAME",
		Short: "Write an Ed25519 key pair (NAME.key, NAME.pub) for signing reports",
		Long: `Write a new Ed25519 key pair: NAME.key, the private key (PEM, PKCS#8,
mode 0600), and NAME.pub, the public key (PEM, PKIX) to give to whoever
receives your reports. Existing files are never overwritten. Sign with
'hunt --sign NAME.key' or 'report --sign NAME.key'; recipients check with
'whodunit verify report.json --pub NAME.pub'.`,
		Example: `  whodunit keygen --out soc-2026
  whodunit hunt --intel intel/ --logs /var/log/zeek --out case-42 --sign soc-2026.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out NAME is required")
			}
			pub, err := sign.KeyPair(out)
			if err != nil {
				return err
			}
			fp := sign.Fingerprint(pub)
			if app.JSON {
				return app.printJSON(map[string]string{"private_key": out + ".key", "public_key": out + ".pub", "fingerprint": fp})
			}
			fmt.Fprintf(app.Stdout, "wrote %s.key (keep it secret) and %s.pub\nfingerprint %s\n", out, out, fp)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "name of the key pair: writes NAME.key and NAME.pub")
	return c
}

// signer is a --sign key, loaded before anything runs so that a bad key
// fails first.
type signer struct {
	key ed25519.PrivateKey
}

// loadSigner reads the --sign key; nil when none is given.
func loadSigner(path string) (*signer, error) {
	if path == "" {
		return nil, nil
	}
	k, err := sign.LoadPrivateKey(path)
	if err != nil {
		return nil, usagef("--sign: %v", err)
	}
	return &signer{key: k}, nil
}

// info is what the report says of its signature.
func (s *signer) info() *report.SignatureInfo {
	if s == nil {
		return nil
	}
	return &report.SignatureInfo{Algorithm: sign.Algorithm, KeyFingerprint: sign.Fingerprint(s.key.Public().(ed25519.PublicKey)),
		Files: "detached, FILE.sig beside each signed file, over its RFC 8785 canonical form"}
}

// signFiles writes FILE.sig for each JSON file and returns the signatures written.
func (s *signer) signFiles(paths ...string) ([]string, error) {
	var out []string
	for _, p := range paths {
		sig, err := sign.SignFile(s.key, p)
		if err != nil {
			return out, fmt.Errorf("signing %s: %w", p, err)
		}
		out = append(out, sig)
	}
	return out, nil
}
