package graphtest_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/graphbatch/graphbatch/graph"
	"github.com/graphbatch/graphbatch/graph/graphtest"
)

func ExampleNewServer() {
	emu := graphtest.NewServer(graphtest.Options{})
	defer emu.Close()

	envelope := `{"requests":[{
		"id": "1",
		"method": "PATCH",
		"url": "/deviceManagement/deviceCompliancePolicies/policy-1/deviceStatuses/device-1",
		"headers": {"Content-Type": "application/json"},
		"body": {"status": "compliant"}
	}]}`
	resp, err := http.Post(emu.URL+"/v1.0/$batch", "application/json", strings.NewReader(envelope))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()

	var answer struct {
		Responses []struct {
			ID     string `json:"id"`
			Status int    `json:"status"`
		} `json:"responses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		log.Fatal(err)
	}
	fmt.Println("envelope:", resp.StatusCode)
	for _, r := range answer.Responses {
		fmt.Printf("item %s: %d\n", r.ID, r.Status)
	}
	e, _ := emu.Entity(graph.V1, graphtest.DeviceStatusPath("policy-1", "device-1"))
	fmt.Println("stored status:", e.Properties["status"])
	// Output:
	// envelope: 200
	// item 1: 200
	// stored status: compliant
}
