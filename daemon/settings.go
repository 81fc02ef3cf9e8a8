package daemon

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-ids/vigil/rules"
)

// Setting is a Config field that is also a `vigil run` flag: every field
// with a usage tag, those of Respond included. Its name is the field's
// YAML key.
type Setting struct {
	Name  string // flag name and YAML key, e.g. "nats-listen"
	Usage string
	// Value sets the field from text, as a flag.Value does. A bool
	// field's Value has IsBoolFlag; a list field's first Set replaces
	// the list and each later one appends.
	Value interface {
		String() string
		Set(string) error
	}
}

// Settings returns the settings of cfg, in field order; their Values set
// cfg's fields.
func (cfg *Config) Settings() []Setting {
	var out []Setting
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]() {
				walk(v.Field(i))
			}
			if usage := f.Tag.Get("usage"); usage != "" {
				out = append(out, Setting{Name: f.Tag.Get("yaml"), Usage: usage, Value: &fieldValue{v: v.Field(i)}})
			}
		}
	}
	walk(reflect.ValueOf(cfg).Elem())
	return out
}

// fieldValue is a Setting's Value.
type fieldValue struct {
	v       reflect.Value
	written bool // a list was set: the next Set appends
}

func (f *fieldValue) String() string {
	if !f.v.IsValid() || f.v.IsZero() { // "" for the flag package's zero Value and zero defaults
		return ""
	}
	if f.v.Kind() == reflect.Slice {
		return strings.Join(f.v.Interface().([]string), ",")
	}
	return fmt.Sprint(f.v.Interface())
}

func (f *fieldValue) IsBoolFlag() bool { return f.v.Kind() == reflect.Bool }

func (f *fieldValue) Set(s string) error {
	switch v := f.v.Addr().Interface().(type) {
	case *string:
		*v = s
	case *[]string:
		if !f.written {
			*v = nil
		}
		*v, f.written = append(*v, s), true
	case *bool:
		b, err := strconv.ParseBool(s)
		*v = b
		return err
	case *time.Duration:
		d, err := time.ParseDuration(s)
		*v = d
		return err
	case *float64:
		x, err := strconv.ParseFloat(s, 64)
		*v = x
		return err
	default: // int, int64
		n, err := strconv.ParseInt(s, 0, 64)
		f.v.SetInt(n)
		return err
	}
	return nil
}

// normalizeKeys rewrites the keys of every mapping in n from the older
// snake_case spelling (nats_listen) to the flag names (nats-listen).
func normalizeKeys(n *yaml.Node) {
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			c.Value = strings.ReplaceAll(c.Value, "_", "-")
		}
		normalizeKeys(c)
	}
}

// unknownKeys returns a "line:col: unknown key" problem for each key of
// a mapping in n that the struct type t (or its nested structs and
// lists of structs) has no YAML field for, in either spelling, with the
// key it likely stands for (` (did you mean "max-sensors"?)`).
func unknownKeys(n *yaml.Node, t reflect.Type) []string {
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	switch {
	case n.Kind == yaml.DocumentNode || n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			out = append(out, unknownKeys(c, t)...)
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			f, ok := yamlField(t, strings.ReplaceAll(k.Value, "_", "-"))
			if !ok {
				msg := fmt.Sprintf("%d:%d: unknown key %q", k.Line, k.Column, k.Value)
				if s := rules.Suggest(strings.ReplaceAll(k.Value, "_", "-"), yamlKeys(t)); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				out = append(out, msg)
				continue
			}
			out = append(out, unknownKeys(n.Content[i+1], f.Type)...)
		}
	}
	return out
}

// yamlKeys returns the YAML keys of struct type t.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// yamlField finds the field of struct type t whose YAML key is key.
func yamlField(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key && name != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
