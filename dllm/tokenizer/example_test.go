package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/dllm-go/dllm/dllm/tokenizer"
)

func Example() {
	tk, err := tokenizer.Load("../../testdata/llada2-micro/hf")
	if err != nil {
		log.Fatal(err)
	}
	prompt, err := tk.ApplyChat([]tokenizer.Message{{Role: "user", Content: "Hi!"}}, true)
	if err != nil {
		log.Fatal(err)
	}
	ids := tk.Encode(prompt)
	fmt.Println(prompt)
	fmt.Println(len(ids), "tokens; mask id", tk.Specials().Mask)

	// Stream the text of generated ids without splitting characters.
	d := tk.NewStreamDecoder(true)
	for _, id := range tk.Encode("Hello, wörld!<|endoftext|>") {
		fmt.Print(d.Add(id))
	}
	fmt.Println(d.Flush())
	// Output:
	// <role>SYSTEM</role>detailed thinking off<|role_end|><role>HUMAN</role>Hi!<|role_end|><role>ASSISTANT</role>
	// 24 tokens; mask id 1020
	// Hello, wörld!
}
