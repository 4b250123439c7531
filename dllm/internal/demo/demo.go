// Package demo holds the built-in demo model: the tiny LLaDA2 trained to answer simple
// questions that testdata/llada2-tiny-chat describes (training, accuracy, goldens). Its
// Hugging Face files are compiled into the binary, so the model needs no download and
// no repository checkout; the weights are used in place, never copied.
package demo

import _ "embed" // go:embed of the checkpoint files

// The files of the checkpoint, as in its Hugging Face directory hf/.
var (
	//go:embed hf/config.json
	Config []byte
	//go:embed hf/model.safetensors
	Safetensors []byte
	//go:embed hf/tokenizer.json
	TokenizerJSON []byte
	//go:embed hf/tokenizer_config.json
	TokenizerConfig []byte
)
