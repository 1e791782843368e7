package server

import "context"

// Note is what a handler tells the audit trail about the request it
// answered: who asked and how many objects went in or out.
type Note struct {
	Key     string
	Objects int
}

type noteKey struct{}

// withNote returns ctx carrying a fresh Note.
func withNote(ctx context.Context) (context.Context, *Note) {
	n := &Note{}
	return context.WithValue(ctx, noteKey{}, n), n
}

// NoteFrom returns the request's Note, or nil outside the audit
// middleware.
func NoteFrom(ctx context.Context) *Note {
	n, _ := ctx.Value(noteKey{}).(*Note)
	return n
}
