package harness

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// PrintProvenance prints the lines that end every report: what the figures
// were measured on, and the command that measured them. Figures pasted
// elsewhere mean little without either.
func PrintProvenance(w io.Writer, machine, command string) {
	fmt.Fprintf(w, "machine  %s\n", machine)
	fmt.Fprintf(w, "command  %s\n", command)
}

// Met words whether a summary line's target was met, the same way in every
// bench, so that a reader (or a test) can scan reports for "not met".
func Met(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

// Machine describes what the figures are measured on: CPUs, CPU model, and
// the Go toolchain.
func Machine() string {
	parts := []string{fmt.Sprintf("nproc=%d", runtime.NumCPU())}
	if model := cpuModel(); model != "" {
		parts = append(parts, model)
	}
	parts = append(parts, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	return strings.Join(parts, ", ")
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "" where there is
// none: the machine line is worth printing without it.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// CommandLine reconstructs how the bench was run from its argv, so that a
// figure pasted elsewhere can be reproduced. Under `go run` the binary lives
// in a go-build directory (a temporary one, or the build cache since Go
// 1.24), which is no use to repeat; the command is then `go run pkg`.
func CommandLine(argv []string, pkg string) string {
	if len(argv) == 0 {
		return ""
	}
	out := []string{argv[0]}
	if strings.Contains(filepath.ToSlash(argv[0]), "/go-build") {
		out[0] = "go run " + pkg
	}
	for _, a := range argv[1:] {
		out = append(out, shellQuote(a))
	}
	return strings.Join(out, " ")
}

// shellQuote quotes s for a POSIX shell where it needs it. Single quotes,
// not Go's double ones: a shell expands $ and ` inside double quotes.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
