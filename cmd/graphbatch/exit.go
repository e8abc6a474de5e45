package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/graphbatch/graphbatch/batch"
)

// Exit codes, as the README and update --help document them.
const (
	exitOK          = 0   // every row updated (or valid, in a dry run)
	exitFatal       = 1   // the run could not go on
	exitUsage       = 2   // bad flag, unreadable input, bad header: nothing was sent
	exitRowsFailed  = 3   // the run finished, but a row is failed or invalid
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM; --resume continues
)

// usageError marks an error found before any request was sent: a bad flag
// or argument, an unreadable input, a bad header.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// errRowsFailed is returned by a run that finished with failed or invalid rows.
var errRowsFailed = errors.New("some rows were not updated")

// exitCode maps what a command returned to the process exit status.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errRowsFailed):
		return exitRowsFailed
	case errors.Is(err, context.Canceled), errors.Is(err, batch.ErrInterrupted):
		return exitInterrupted
	case errors.As(err, &ue), errors.As(err, new(*batch.MismatchError)):
		return exitUsage
	}
	return exitFatal
}
