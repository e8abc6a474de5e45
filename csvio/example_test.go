package csvio_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
)

func ExampleReader() {
	// A file as Excel saves it in many European locales: ";" between cells.
	in := `parentId;ID;Status
pol-1;dev-1;compliant
pol-1;dev-2;"non
compliant";extra
pol-2;dev-3; nonCompliant
`
	r, err := csvio.NewReader(strings.NewReader(in), csvio.Header{
		Columns:  []string{"parentId", "id", "status", "userName"},
		Required: []string{"parentId", "id"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		var rowErr *csvio.RowError
		if errors.As(err, &rowErr) {
			fmt.Println(err) // this row is bad; the others are fine
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("row %d (line %d): %q\n", row.Num, row.Line, row.Fields)
	}
	// Output:
	// row 1 (line 2): ["pol-1" "dev-1" "compliant" ""]
	// row 2 (line 3): has 4 cells but the header has 3 columns
	// row 3 (line 5): ["pol-2" "dev-3" "nonCompliant" ""]
}

func ExampleWriter() {
	w := csvio.NewWriter(os.Stdout, []string{"groupId", "id"})
	if err := w.WriteHeader(); err != nil {
		log.Fatal(err)
	}
	results := []csvio.Result{
		{Row: 1, Keys: []string{"grp-1", "dev-1"}, Outcome: csvio.Updated, HTTPStatus: 204, Attempts: 1,
			FinishedAt: time.Date(2024, 5, 6, 9, 30, 0, 250e6, time.FixedZone("CEST", 2*60*60))},
		{Row: 2, Keys: []string{"grp-1", "dev-2"}, Outcome: csvio.Invalid,
			ErrorMessage: `status: "bogus" is not one of unknown, compliant, ...`},
		{Row: 3, Keys: []string{"grp-2", "dev-3"}, Outcome: csvio.Failed, HTTPStatus: 400, Attempts: 1,
			ErrorCode: "-BadRequest", ErrorMessage: "line one\nline two \x1b[31mred"},
	}
	for i := range results {
		if err := w.Write(&results[i]); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// row,groupId,id,outcome,httpStatus,errorCode,errorMessage,attempts,requestId,clientRequestId,finishedAt
	// 1,grp-1,dev-1,updated,204,,,1,,,2024-05-06T07:30:00.250Z
	// 2,grp-1,dev-2,invalid,,,"status: ""bogus"" is not one of unknown, compliant, ...",0,,,
	// 3,grp-2,dev-3,failed,400,'-BadRequest,line one\nline two \x1b[31mred,1,,,
}
