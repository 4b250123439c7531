package serve

// chatShape builds chat.completion and chat.completion.chunk objects.
type chatShape struct{}

func (chatShape) prefix() string      { return "chatcmpl-" }
func (chatShape) chunkObject() string { return "chat.completion.chunk" }

func (chatShape) chunk(id string, created int64, model, text string, finish *string, first bool) any {
	delta := map[string]string{}
	if first {
		delta["role"] = "assistant"
	}
	if text != "" || first {
		delta["content"] = text
	}
	return map[string]any{
		"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
		"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
	}
}

func (chatShape) full(id string, created int64, model, text, finish string, u usage) any {
	return map[string]any{
		"id": id, "object": "chat.completion", "created": created, "model": model,
		"choices": []any{map[string]any{
			"index": 0, "message": map[string]any{"role": "assistant", "content": text},
			"logprobs": nil, "finish_reason": finish,
		}},
		"usage": u,
	}
}

// completionShape builds text_completion objects, streamed or whole.
type completionShape struct{}

func (completionShape) prefix() string      { return "cmpl-" }
func (completionShape) chunkObject() string { return "text_completion" }

func (completionShape) chunk(id string, created int64, model, text string, finish *string, first bool) any {
	if first {
		return nil // a completion stream has no role chunk
	}
	return completion(id, created, model, text, finish)
}

func (completionShape) full(id string, created int64, model, text, finish string, u usage) any {
	c := completion(id, created, model, text, &finish)
	c["usage"] = u
	return c
}

func completion(id string, created int64, model, text string, finish *string) map[string]any {
	return map[string]any{
		"id": id, "object": "text_completion", "created": created, "model": model,
		"choices": []any{map[string]any{"index": 0, "text": text, "logprobs": nil, "finish_reason": finish}},
	}
}
