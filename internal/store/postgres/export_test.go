package postgres

// SetMaxLater bounds the objects a first import puts aside (freshids.go)
// until the returned function restores the bound.
func SetMaxLater(n int) (restore func()) {
	old := maxLater
	maxLater = n
	return func() { maxLater = old }
}
