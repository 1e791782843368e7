package pattern

// Kind is the type of a value found in a cyber-observable object.
type Kind uint8

// Value kinds. JSON numbers written without a fraction or exponent are
// integers, as the reference matcher reads them.
const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat
	KindString
	KindBinary // from a property named *_hex or *_bin
	KindList
	KindObject
	// KindRefList is the value of a *_refs property after dereferencing:
	// a list of the objects its ids name (unresolvable ids are skipped).
	KindRefList
)

// Value is one property value. It is a plain struct so that walking
// object paths allocates nothing.
type Value struct {
	Kind Kind
	Bool bool
	Int  int64
	Flt  float64
	Str  string // string; bytes of a binary value; for KindRefList unused
	List []Value
	Obj  Object
}

// Object is a cyber-observable object (or a dictionary inside one) that
// object paths step into.
type Object interface {
	// Type is the STIX type ("" for nested dictionaries).
	Type() string
	// Get returns the value of a property.
	Get(key string) (Value, bool)
}

// Resolver finds the object a *_ref id names within one observation.
type Resolver interface {
	Resolve(id string) (Object, bool)
}

// scope is what comparisons are evaluated in: the objects of one
// observation and the resolver for their references.
type scope interface {
	Resolver
	// ObjectsOf returns the objects of the given type the observation holds
	// directly (not only through references). The slice may be reused by
	// the next call.
	ObjectsOf(typ string) []Object
}
