// Command graphbatch updates Microsoft Graph objects in bulk from a CSV file.
// See the README, or run graphbatch update --help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, abort := signals()
	std := streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, ErrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())), Abort: abort}
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
