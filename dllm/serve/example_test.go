package serve_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/serve"
)

// A program mounts the API in its own mux, here under /llm/ beside its other routes.
func ExampleNew() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	srv, err := serve.New(m, serve.Options{ModelID: "demo", Parallel: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle("/llm/", http.StripPrefix("/llm", srv))
	web := httptest.NewServer(mux) // in a program: http.ListenAndServe("127.0.0.1:8080", mux)
	defer web.Close()

	resp, err := http.Post(web.URL+"/llm/v1/chat/completions", "application/json",
		strings.NewReader(`{"model": "demo", "messages": [{"role": "user", "content": "What is 3+4?"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Choices []struct {
			Message struct{ Content string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Choices[0].Message.Content)
	// Output: 7
}
