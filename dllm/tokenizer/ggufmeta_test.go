package tokenizer

import (
	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// ggufVocabFromFile reads the tokenizer metadata of a GGUF file with the project's GGUF
// reader.
func ggufVocabFromFile(path string) (GGUFVocab, error) {
	ck, err := weights.Open(path)
	if err != nil {
		return GGUFVocab{}, err
	}
	defer ck.Close()
	return VocabFromGGUF(ck.Meta)
}
