package store

import (
	"encoding/json"
	"fmt"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// EncodeObject is the stored JSON of an object's model fields (Raw, the
// source's own bytes, is stored apart). Every store uses this one layout,
// so that a copy between stores moves the same bytes.
func EncodeObject(o *intel.Object) ([]byte, error) {
	c := *o
	c.Raw = nil
	return json.Marshal(&c)
}

// DecodeObject reads what EncodeObject wrote, with the raw bytes beside it.
func DecodeObject(data, raw []byte) (*intel.Object, error) {
	o := new(intel.Object)
	if err := json.Unmarshal(data, o); err != nil {
		return nil, fmt.Errorf("stored object: %w", err)
	}
	if len(raw) > 0 {
		o.Raw = json.RawMessage(raw)
	}
	return o, nil
}
