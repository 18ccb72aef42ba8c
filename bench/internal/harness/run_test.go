package harness

import (
	"context"
	"errors"
	"flag"
	"io"
	"testing"
)

func TestParseFlags(t *testing.T) {
	parse := func(args ...string) (rounds int, mb float64, err error) {
		fs := flag.NewFlagSet("bench", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		r := fs.Int("rounds", 11, "")
		m := fs.Float64("mb", 200, "")
		err = ParseFlags(fs, args, map[string]string{"rounds": "1", "mb": "4"})
		return *r, *m, err
	}
	for _, tt := range []struct {
		args   []string
		rounds int
		mb     float64
	}{
		{nil, 11, 200},
		{[]string{"-quick"}, 1, 4},
		// An explicit flag wins over -quick, before or after it.
		{[]string{"-mb", "50", "-quick"}, 1, 50},
		{[]string{"-quick", "-rounds", "3"}, 3, 4},
	} {
		rounds, mb, err := parse(tt.args...)
		if err != nil || rounds != tt.rounds || mb != tt.mb {
			t.Errorf("%q: rounds %d, mb %g, err %v; want %d, %g, nil", tt.args, rounds, mb, err, tt.rounds, tt.mb)
		}
	}

	if _, _, err := parse("-quick", "extra"); err == nil {
		t.Error("a positional argument: no error")
	}
	if _, _, err := parse("-h"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp for FlagsExit", err)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	if err := ParseFlags(fs, []string{"-quick"}, map[string]string{"nosuch": "1"}); err == nil {
		t.Error("-quick naming an unknown flag: no error")
	}
}

func TestWithCause(t *testing.T) {
	errPhase := errors.New("phase failed")
	if got := WithCause(context.Background(), errPhase); got != errPhase {
		t.Errorf("live context: got %v, want the error unchanged", got)
	}

	ctx, cancel := context.WithTimeoutCause(context.Background(), 0, errors.New("-timeout 1s reached"))
	defer cancel()
	<-ctx.Done()
	got := WithCause(ctx, errPhase)
	if want := "phase failed (-timeout 1s reached)"; got.Error() != want || !errors.Is(got, errPhase) {
		t.Errorf("got %q, want %q wrapping the phase's error", got, want)
	}
	// An error that already carries the cause is not told it twice.
	if got := WithCause(ctx, context.Cause(ctx)); got != context.Cause(ctx) {
		t.Errorf("got %q, want the cause alone", got)
	}
}
