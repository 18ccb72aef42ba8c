package clientprops

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConvert(t *testing.T) {
	for _, tt := range []struct {
		t       Type
		in      any
		want    any
		errPart string
	}{
		{t: TypeString, in: " west ", want: "west"},
		{t: TypeString, in: int64(5), errPart: "expected a string, got an integer (5)"},
		{t: TypeClass, in: "com.example.Handler", want: "com.example.Handler"},
		{t: TypePassword, in: "s3cret", want: &secret{"s3cret"}},
		{t: TypePassword, in: int64(12345), errPart: "expected a string, got an integer"},

		{t: TypeInt, in: int64(5000), want: int64(5000)},
		{t: TypeInt, in: "5000", want: int64(5000)},
		{t: TypeInt, in: " -1 ", want: int64(-1)},
		{t: TypeInt, in: 7, want: int64(7)},
		{t: TypeInt, in: int64(1 << 31), errPart: "out of range for an int"},
		{t: TypeInt, in: "abc", errPart: `"abc" is not an integer`},
		{t: TypeInt, in: 1.5, errPart: "expected an integer, got a float (1.5)"},
		{t: TypeInt, in: true, errPart: "expected an integer, got a boolean (true)"},
		{t: TypeShort, in: int64(40000), errPart: "out of range for a short"},
		{t: TypeLong, in: int64(1 << 40), want: int64(1 << 40)},
		{t: TypeLong, in: "99999999999999999999", errPart: "out of range for a long"},
		{t: TypeDouble, in: 0.5, want: 0.5},
		{t: TypeDouble, in: int64(1), want: 1.0},
		{t: TypeDouble, in: "0.25", want: 0.25},
		{t: TypeDouble, in: "x", errPart: "not a number"},

		{t: TypeBoolean, in: true, want: true},
		{t: TypeBoolean, in: "TRUE", want: true},
		{t: TypeBoolean, in: "false", want: false},
		{t: TypeBoolean, in: "yes", errPart: `"yes" is not a boolean`},
		{t: TypeBoolean, in: int64(1), errPart: "expected a boolean"},

		{t: TypeList, in: "a:1, b:2 ,c:3", want: []string{"a:1", "b:2", "c:3"}},
		{t: TypeList, in: "  ", want: []string{}},
		{t: TypeList, in: "a,,b", want: []string{"a", "", "b"}},
		{t: TypeList, in: []any{"a:1", " b:2"}, want: []string{"a:1", "b:2"}},
		{t: TypeList, in: []any{"a:1", int64(2)}, errPart: "element 2: expected a string, got an integer (2)"},
		{t: TypeList, in: int64(3), errPart: "expected a comma-separated string or an array of strings"},
		{t: TypeList, in: map[string]any{"x": "y"}, errPart: "got a table"},
		{t: TypeString, in: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), errPart: "got a time.Time"},
	} {
		t.Run(fmt.Sprintf("%v/%v", tt.t, tt.in), func(t *testing.T) {
			got, err := convert(tt.t, tt.in)
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.errPart)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

func TestSecretFormatting(t *testing.T) {
	s := &secret{"s3cret"}
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s),
		fmt.Sprintf("%v", map[string]any{"p": s}), fmt.Sprintf("%#v", []any{s}), fmt.Sprintf("%+v", struct{ v any }{s}),
	} {
		if strings.Contains(out, "s3cret") || strings.Contains(out, "73336372") {
			t.Errorf("secret leaked: %s", out)
		}
	}
}
