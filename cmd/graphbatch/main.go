// Command graphbatch updates Microsoft Graph objects in bulk from a CSV file.
// See the README, or run graphbatch update --help.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"golang.org/x/term"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// The live heap is a few megabytes, whatever the file's size: letting
		// it grow to three times that before a collection, not twice, costs
		// about 10 MB and a sixth of the CPU of a dry run.
		debug.SetGCPercent(200)
	}
	ctx, abort := signals()
	std := streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())), Abort: abort, OwnRuntime: true}
	os.Exit(run(ctx, os.Args[1:], std))
}

// signals returns a context the first SIGINT or SIGTERM cancels (stop
// gracefully) and a channel the second one closes (stop now).
func signals() (context.Context, <-chan struct{}) {
	ctx, stop := context.WithCancel(context.Background())
	abort := make(chan struct{})
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		stop()
		<-sig
		close(abort)
	}()
	return ctx, abort
}
