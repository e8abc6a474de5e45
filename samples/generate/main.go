// Command generate writes a valid CSV of N rows for a graphbatch target,
// for trying graphbatch at scale:
//
//	go run ./samples/generate -target device-statuses -rows 100000 > big.csv
//	go run ./samples/generate -target users -rows 1000000 > users.csv
//
// Rows are deterministic for a given -seed, each for its own entity;
// statuses are spread over a handful of policies, and users have the ten
// typed columns of an HR export (two of them JSON).
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
	var target string
	flag.StringVar(&target, "target", "device-statuses", "device-statuses, user-statuses or users")
	flag.StringVar(&target, "resource", "device-statuses", "the same as -target, its older name")
	rows := flag.Int("rows", 1000, "number of data rows")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := generate(target, *rows, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(2)
	}
}

var statuses = []string{"compliant", "compliant", "compliant", "nonCompliant", "remediated", "error", "notApplicable", "conflict", "unknown", "notAssigned"}

var (
	departments = []string{"Finance", "Sales", "Marketing", "HR", "Legal", "Engineering", "R&D", "Retail", "Support", "Operations"}
	titles      = []string{"Analyst", "Manager", "Director", "Engineer", "Designer", "Assistant", "Specialist", "Consultant"}
	locations   = []struct{ country, city, phone, division string }{
		{"NL", "Amsterdam", "+31 20 555 ", "EMEA"}, {"US", "Seattle", "+1 206 555 ", "Americas"}, {"DE", "Berlin", "+49 30 555 ", "EMEA"},
		{"GB", "London", "+44 20 5555 ", "EMEA"}, {"FR", "Paris", "+33 1 55 55 ", "EMEA"}, {"IT", "Milan", "+39 02 555 ", "EMEA"},
	}
)

func generate(target string, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	policies := make([]string, 5)
	for i := range policies {
		policies[i] = guid(rng)
	}
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	switch target {
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
	case "users":
		fmt.Fprintln(w, "id,accountEnabled,department,jobTitle,usageLocation,employeeId,employeeHireDate,officeLocation,city,businessPhones,employeeOrgData")
		for i := range n {
			loc := locations[rng.IntN(len(locations))]
			dept := departments[rng.IntN(len(departments))]
			fmt.Fprintf(w, "user%07d@contoso.com,%t,%s,%s %s,%s,E%07d,%s,Building %d/%d,%s,\"[\"\"%s%04d\"\"]\",\"{\"\"division\"\":\"\"%s\"\",\"\"costCenter\"\":\"\"CC-%04d\"\"}\"\n",
				i, rng.IntN(50) != 0, dept, dept, titles[rng.IntN(len(titles))], loc.country, i,
				base.AddDate(0, 0, -rng.IntN(7300)).Format(time.RFC3339), 1+rng.IntN(40), 1000+rng.IntN(3000), loc.city,
				loc.phone, rng.IntN(10000), loc.division, rng.IntN(10000))
		}
	default:
		return fmt.Errorf("unknown target %q", target)
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
