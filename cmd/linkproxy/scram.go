package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/linkproxy/linkproxy/auth/sasl"
)

const scramUsage = `Usage: linkproxy scram --user NAME [--mechanism SCRAM-SHA-512] [--iterations 4096] [--password-file FILE]

Prints a credentials file entry (user:mechanism:iterations:salt:storedKey:serverKey)
for a listener's sasl.credentials.file: the password salted and hashed as Kafka
stores SCRAM credentials, never the password itself. Append it to the file; the
proxy re-reads the file when it changes.

The password is the first line of --password-file, or of standard input; on a
terminal it is asked for twice, without echo.

PLAIN checks passwords against the user's SCRAM-SHA-512 entry (SCRAM-SHA-256 when
there is none), so one SCRAM-SHA-512 entry serves both; --mechanism PLAIN writes
that entry. Several mechanisms, comma-separated, print one line each.

Flags:
`

// scramCmd prints credentials file entries.
func scramCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scram", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, scramUsage)
		fs.PrintDefaults()
	}
	user := fs.String("user", "", "the user name (required)")
	mechs := fs.String("mechanism", sasl.ScramSHA512, "SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN (a SCRAM-SHA-512 entry); comma-separated for several")
	iterations := fs.Int("iterations", sasl.DefaultIterations, fmt.Sprintf("PBKDF2 iterations, %d to %d as Kafka allows", sasl.MinIterations, sasl.MaxIterations))
	passwordFile := fs.String("password-file", "", "read the password from the first line of this file instead of standard input")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// Not quoted: it may be a password.
		return errors.New("unexpected argument: give the password on standard input or with --password-file, never on the command line")
	}
	if *user == "" {
		return errors.New("--user is required")
	}
	var mechanisms []string
	for _, m := range strings.Split(*mechs, ",") {
		m = strings.ToUpper(strings.TrimSpace(m))
		if m == sasl.Plain {
			m = sasl.ScramSHA512
		}
		if m != sasl.ScramSHA256 && m != sasl.ScramSHA512 {
			return fmt.Errorf("--mechanism %q: use SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN", strings.TrimSpace(m))
		}
		if !slices.Contains(mechanisms, m) {
			mechanisms = append(mechanisms, m)
		}
	}
	// Checked before asking for the password.
	if _, err := sasl.NewEntry(*user, mechanisms[0], []byte("x"), *iterations); err != nil {
		return err
	}
	password, err := readPassword(*passwordFile, stdin, stderr)
	if err != nil {
		return err
	}
	defer clear(password)
	for _, m := range mechanisms {
		e, err := sasl.NewEntry(*user, m, password, *iterations)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, e.String())
	}
	return nil
}

// readPassword reads the password: the first line of file, or of stdin,
// prompting twice without echo when stdin is a terminal.
func readPassword(file string, stdin io.Reader, stderr io.Writer) ([]byte, error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		defer f.Close()
		return firstLine(f, "--password-file "+file)
	}
	if f, ok := stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(stderr, "Password: ")
		p, err := readNoEcho(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, err
		}
		fmt.Fprint(stderr, "Again: ")
		again, err := readNoEcho(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, err
		}
		defer clear(again)
		if string(p) != string(again) {
			clear(p)
			return nil, errors.New("the passwords differ")
		}
		if len(p) == 0 {
			return nil, errors.New("empty password")
		}
		return p, nil
	}
	return firstLine(stdin, "standard input")
}

func firstLine(r io.Reader, what string) ([]byte, error) {
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the password from %s: %w", what, err)
	}
	line = []byte(strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r"))
	if len(line) == 0 {
		return nil, fmt.Errorf("no password on the first line of %s", what)
	}
	return line, nil
}

func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// readLine reads one line byte by byte, so that nothing after it is
// consumed (the second prompt reads the next line).
func readLine(f *os.File) ([]byte, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := f.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				return []byte(strings.TrimSuffix(string(line), "\r")), nil
			}
			line = append(line, b[0])
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return line, nil
			}
			return nil, err
		}
	}
}
