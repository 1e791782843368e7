package intel

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// TLP marking-definition ids fixed by the standards, so that every reader and
// writer marks objects with the ids other tools recognise.
var (
	// tlp1IDs are the predefined STIX 2.1 TLP 1.0 marking definitions.
	tlp1IDs = map[string]string{
		"white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
		"green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
		"amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
		"red":   "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
	}
	// tlp2IDs are the marking definitions of the STIX TLP 2.0 extension.
	tlp2IDs = map[string]string{
		"clear":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
		"green":        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
		"amber":        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
		"amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
		"red":          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
	}
)

// TLP2ExtensionID is the extension-definition id of the STIX TLP 2.0 markings.
const TLP2ExtensionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// TLPMarking returns the standard marking-definition object for a TLP level
// as --tlp takes it: clear, green, amber, amber+strict and red are TLP 2.0,
// white is TLP 1.0 (the only version that has it). A "tlp:" prefix and any
// case are accepted.
func TLPMarking(level string) (*Object, error) { return TLPMarkingVersion(level, "") }

// TLPMarkingVersion is TLPMarking for an explicit TLP version, "1.0" or
// "2.0"; "" picks 1.0 for white and 2.0 for every other level. Formats whose
// tags predate TLP 2.0 (MISP's tlp:green) use the 1.0 ids that STIX 2.1
// predefines.
func TLPMarkingVersion(level, version string) (*Object, error) {
	l := strings.ToLower(strings.TrimSpace(level))
	l = strings.TrimPrefix(l, "tlp:")
	if version == "" {
		version = "2.0"
		if l == "white" {
			version = "1.0"
		}
	}
	var id string
	switch version {
	case "1.0":
		id = tlp1IDs[l]
	case "2.0":
		id = tlp2IDs[l]
	default:
		return nil, &ValueError{Field: "tlp version", Value: version, Reason: "want 1.0 or 2.0"}
	}
	if id == "" {
		return nil, &ValueError{Field: "tlp", Value: level, Reason: "no such level in TLP " + version}
	}
	name := "TLP:" + strings.ToUpper(l)
	var created time.Time
	var raw map[string]any
	if version == "1.0" {
		created = time.Date(2017, 1, 20, 0, 0, 0, 0, time.UTC)
		raw = map[string]any{
			"type": TypeMarkingDef, "spec_version": "2.1", "id": id,
			"created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
			"name": name, "definition": map[string]string{"tlp": l},
		}
	} else {
		created = time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)
		raw = map[string]any{
			"type": TypeMarkingDef, "spec_version": "2.1", "id": id,
			"created": "2022-10-01T00:00:00.000Z", "name": name,
			"extensions": map[string]any{TLP2ExtensionID: map[string]string{
				"extension_type": "property-extension", "tlp_2_0": l,
			}},
		}
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("tlp marking: %w", err)
	}
	return &Object{
		ID: id, Type: TypeMarkingDef, SpecVersion: "2.1", Name: name,
		Created: created, Modified: created, Confidence: -1, Raw: b,
		Marking: &MarkingSpec{DefinitionType: "tlp", TLP: l, TLPVersion: version},
	}, nil
}
