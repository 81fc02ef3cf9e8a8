// Package eveschema checks EVE JSON records against Suricata's EVE JSON
// schema (etc/schema.json of the Suricata source tree, GPL-2.0), for
// tests: Vigil keeps the schema beside the repository, never in it, and
// its tests skip the check where the file is absent (Load returns an
// error wrapping fs.ErrNotExist).
//
// Only the part of JSON Schema that file uses is read: type, properties,
// additionalProperties, required, items, minItems and pattern.
package eveschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

// File is where Vigil's tests find the schema, relative to the repository
// root.
const File = "../shared/eve/schema.json"

// VigilKeys are the top-level keys Vigil adds to Suricata's records (see
// the README); Check sets them aside.
var VigilKeys = []string{"schema_version", "sensor", "vigil", "summary"}

// Schema is a node of the schema.
type Schema struct {
	Type                 string             `json:"type"`
	Properties           map[string]*Schema `json:"properties"`
	AdditionalProperties *bool              `json:"additionalProperties"` // absent: allowed
	Required             []string           `json:"required"`
	Items                *Schema            `json:"items"`
	MinItems             int                `json:"minItems"`
	Pattern              string             `json:"pattern"`
}

// Load reads the schema at path.
func Load(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Schema
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("eveschema: %s: %w", path, err)
	}
	return &s, nil
}

// Check returns what in the JSON object record breaks s once VigilKeys
// are set aside, each problem with its key path ("flow.start: not a
// string"); none when it validates.
func (s *Schema) Check(record []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return []string{err.Error()}
	}
	for _, k := range VigilKeys {
		delete(v, k)
	}
	return s.validate(v, "")
}

func (s *Schema) validate(v any, path string) []string {
	var out []string
	bad := func(format string) { out = append(out, strings.TrimPrefix(path, ".")+": "+format) }
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			bad("not an object")
			break
		}
		for _, k := range s.Required {
			if _, ok := m[k]; !ok {
				bad("no required key " + k)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if p, ok := s.Properties[k]; ok {
				out = append(out, p.validate(m[k], path+"."+k)...)
			} else if s.AdditionalProperties != nil && !*s.AdditionalProperties {
				out = append(out, strings.TrimPrefix(path+"."+k, ".")+": a key the schema does not know")
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			bad("not an array")
			break
		}
		if len(a) < s.MinItems {
			bad("too few items")
		}
		if s.Items != nil {
			for _, e := range a {
				out = append(out, s.Items.validate(e, path+"[]")...)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("not a string")
			break
		}
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(str) {
			bad("does not match " + s.Pattern)
		}
	case "integer":
		if n, ok := v.(json.Number); !ok || strings.ContainsAny(n.String(), ".eE") {
			bad("not an integer")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("not a boolean")
		}
	default:
		bad("unexpected schema type " + s.Type)
	}
	return out
}
