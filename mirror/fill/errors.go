package fill

import (
	"errors"
	"fmt"
)

// ErrLogEndMoved is returned (wrapped in a *LogEndMovedError, which has the
// actual log end) when the destination log end is not where the caller or
// the fill itself expected it. Nothing is wrong with the log: the caller
// compares logs again and continues from the actual value.
var ErrLogEndMoved = errors.New("destination log end moved")

// ErrFenced is returned once the transactional id has a newer owner: another
// Filler called New with the same id, or the coordinator bumped the epoch
// (for example, it aborted one of our transactions on timeout). A fenced
// Filler never writes again; New makes a fresh one if this process is
// meant to be the owner.
var ErrFenced = errors.New("fenced: another producer holds the fill transactional id")

// LogEndMovedError reports where the log end was found.
type LogEndMovedError struct {
	Topic     string
	Partition int32
	Expected  int64 // where the log end should have been
	Actual    int64 // where ListOffsets found it
}

func (e *LogEndMovedError) Error() string {
	return fmt.Sprintf("%s: %s/%d log end is %d, expected %d", ErrLogEndMoved, e.Topic, e.Partition, e.Actual, e.Expected)
}

// Is makes errors.Is(err, ErrLogEndMoved) match.
func (e *LogEndMovedError) Is(target error) bool { return target == ErrLogEndMoved }
