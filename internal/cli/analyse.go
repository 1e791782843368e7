package cli

import (
	"context"

	"github.com/whodunit-project/whodunit/internal/correlate"
	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/report"
)

// analyseOptions completes opt with the assets and geolocation the flags
// name; the returned func closes the geolocation files.
func (f *attributeFlags) analyseOptions(opt hunt.AnalyseOptions) (hunt.AnalyseOptions, func() error, error) {
	if f.assets != "" {
		assets, err := correlate.LoadAssets(f.assets)
		if err != nil {
			return opt, nil, err
		}
		opt.Assets = assets
	}
	loc, closeGeo, err := geoLocator(f.geoip)
	if err != nil {
		return opt, nil, err
	}
	opt.Locator = loc
	if opt.Tool == "" {
		opt.Tool = "whodunit " + Version
	}
	return opt, closeGeo, nil
}

// analyse runs hunt.Analyse with what the attribute flags name.
func (app *App) analyse(ctx context.Context, db hunt.AnalyseSource, f attributeFlags, opt hunt.AnalyseOptions) (*report.Data, error) {
	opt, closeGeo, err := f.analyseOptions(opt)
	if err != nil {
		return nil, err
	}
	defer closeGeo()
	return hunt.Analyse(ctx, db, opt)
}
