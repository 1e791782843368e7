package sqlite

// Test hooks for the stored time format.
var (
	ParseTimeForTest = parseTime
	FmtTimeForTest   = fmtTime
)
