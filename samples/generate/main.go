// Command generate writes a valid CSV of N rows for a graphbatch resource,
// for trying graphbatch at scale:
//
//	go run ./samples/generate -resource device-statuses -rows 100000 > big.csv
//
// Rows are deterministic for a given -seed, each for its own entity,
// spread over a handful of policies.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	resource := flag.String("resource", "device-statuses", "device-statuses or user-statuses")
	rows := flag.Int("rows", 1000, "number of data rows")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := generate(*resource, *rows, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(2)
	}
}

var statuses = []string{"compliant", "compliant", "compliant", "nonCompliant", "remediated", "error", "notApplicable", "conflict", "unknown", "notAssigned"}

func generate(resource string, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	policies := make([]string, 5)
	for i := range policies {
		policies[i] = guid(rng)
	}
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	switch resource {
	case "device-statuses":
		fmt.Fprintln(w, "policyId,id,deviceDisplayName,deviceModel,userPrincipalName,status,lastReportedDateTime")
		for i := range n {
			fmt.Fprintf(w, "%s,%s,CONTOSO-LT-%07d,Latitude 7440,user%d@contoso.com,%s,%s\n",
				policies[i%len(policies)], guid(rng), i, i, statuses[i%len(statuses)],
				base.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
		}
	case "user-statuses":
		fmt.Fprintln(w, "policyId,id,userDisplayName,userPrincipalName,devicesCount,status,lastReportedDateTime")
		for i := range n {
			fmt.Fprintf(w, "%s,%s,User %d,user%d@contoso.com,%d,%s,%s\n",
				policies[i%len(policies)], guid(rng), i, i, 1+i%4, statuses[i%len(statuses)],
				base.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
		}
	default:
		return fmt.Errorf("unknown resource %q", resource)
	}
	return w.Flush()
}

// guid returns a random version 4 GUID.
func guid(rng *rand.Rand) string {
	hi, lo := rng.Uint64(), rng.Uint64()
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}
