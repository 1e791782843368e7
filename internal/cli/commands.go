package cli

import "github.com/spf13/cobra"

// commands lists every top-level command. Keep it the single place where
// commands are registered.
func commands(app *App) []*cobra.Command {
	return []*cobra.Command{
		newHuntCmd(app),
		newDemoCmd(app),
		newIntelCmd(app),
		newScanCmd(app),
		newRetroCmd(app),
		newIndexCmd(app),
		newWorkerCmd(app),
		newWatchCmd(app),
		newDetectionsCmd(app),
		newSightingsCmd(app),
		newAttributeCmd(app),
		newReportCmd(app),
		newKeygenCmd(app),
		newVerifyCmd(app),
		newGeoCmd(app),
		newPatternCmd(app),
		newExportCmd(app),
		newServeCmd(app),
		newShareCmd(app),
		newAPIKeyCmd(app),
		newAuditCmd(app),
		newDBCmd(app),
		newVersionCmd(app),
	}
}
