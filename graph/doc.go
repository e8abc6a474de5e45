// Package graph speaks the part of Microsoft Graph that graphbatch needs:
// Graph's metadata (a Model read from the official CSDL, v1.0 built in),
// path templates resolved against it (Target) with the PATCH each CSV row
// becomes, how the values Graph holds compare with it (Diff), and the
// throttling profile of the service the target belongs to; the national clouds (Graph root, login host, token scope); the JSON
// $batch wire format, Graph's error shape and Retry-After; and a client
// that sends $batch envelopes and lists collections with the bearer token
// a TokenSource gives, and fetches $metadata.
//
// Signing in lives in package signin; retrying, pacing and per-row
// bookkeeping in package batch. This package only says what Graph is and
// what it answered.
package graph
