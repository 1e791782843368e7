package jsonscan

// Doc walks the documents of one reader, one after another, without
// reading a nested object or array twice. Walked without a Doc, Next reads
// a container to its end to return it, and the reader walking it reads it
// again. Walked through a Doc, Next returns a container unread; the
// reader walks it with Enter (or EnterArray) and, once it has walked it to
// its end, the Obj or Arr holding it goes on from where it ended. A
// container the reader does not walk to its end is read by its holder's
// next Next, as without a Doc.
//
// The values of one document are walked before the next starts. The zero
// Doc is ready; it is not safe for concurrent use.
type Doc struct {
	data []byte // the current document
	// the container Next returned last, and its depth
	retAt, retDepth int
	// the container last walked to its end: where it starts, and the
	// index after it (a container closes after everything in it, so the
	// last one closed is the one its holder waits for)
	lastAt, lastEnd int
}

// Object starts walking the object that data holds (surrounding
// whitespace allowed), as NewObject.
func (d *Doc) Object(data []byte) (Obj, error) {
	o, err := NewObject(data)
	if err == nil {
		d.data, d.retAt, d.lastAt = data, -1, -1
		o.doc = d
	}
	return o, err
}

// Enter walks the object v, which the current document's last Next
// returned; any other object value is walked as v.Object() walks it.
func (d *Doc) Enter(v Value) Obj {
	if v.Kind != Object {
		return Obj{done: true}
	}
	if !d.isLast(v) {
		return v.Object()
	}
	return Obj{data: v.Raw, pos: 1, first: true, depth: d.retDepth, doc: d}
}

// EnterArray is Enter for an array.
func (d *Doc) EnterArray(v Value) Arr {
	if v.Kind != Array {
		return Arr{done: true}
	}
	if !d.isLast(v) {
		return v.Array()
	}
	return Arr{data: v.Raw, pos: 1, first: true, depth: d.retDepth, doc: d}
}

// isLast reports whether v's text is the container Next returned last.
func (d *Doc) isLast(v Value) bool {
	at := len(d.data) - len(v.Raw)
	return at == d.retAt && at >= 0 && len(v.Raw) > 0 && &d.data[at] == &v.Raw[0]
}

// base is where data, a walker's text, starts in the document.
func (d *Doc) base(data []byte) int { return len(d.data) - len(data) }

// returned is the unread container at p of a walker's data, at depth.
func (d *Doc) returned(data []byte, p, depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, &SyntaxError{Offset: p, Msg: "nesting too deep"}
	}
	d.retAt, d.retDepth = d.base(data)+p, depth
	k := Object
	if data[p] == '[' {
		k = Array
	}
	return Value{Kind: k, Raw: data[p:]}, nil
}

// pass is the index in a walker's data after its container at p: where
// its walk ended, if it was the last walked to its end, else read now.
func (d *Doc) pass(data []byte, p, depth int) (int, error) {
	if at := d.base(data) + p; at == d.lastAt {
		return d.lastEnd - d.base(data), nil
	}
	return skipContainer(data, p, depth)
}

// closed notes that a walker of data at depth ended at end (after its
// closing bracket). Without a Doc, or at the top, there is nothing to note.
func (d *Doc) closed(data []byte, end, depth int) {
	if d == nil || depth == 0 {
		return
	}
	// a walker of another document (against the rule above) notes nothing
	if at := d.base(data); at >= 0 && &d.data[at] == &data[0] {
		d.lastAt, d.lastEnd = at, at+end
	}
}
