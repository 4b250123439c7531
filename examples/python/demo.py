"""The demo: a question in, the answer out, with the block denoising shown step by step.

    python3 examples/python/demo.py [MODEL [QUESTION]]

MODEL defaults to "demo", the model built into the library.
"""
import sys

import dllm


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "demo"  # "": the default
    question = sys.argv[2] if len(sys.argv) > 2 else "What is 12+9?"

    def on_step(ev) -> bool:
        print(f"[block {ev.block} step {ev.step}] filled {len(ev.committed)}", file=sys.stderr)
        return True

    with dllm.Model(path) as m:
        r = m.generate(question, chat=True, on_step=on_step)
    print(r.text, flush=True)  # before the statistics on stderr, also through a pipe
    s = r.stats
    print(f"[{s.tokens} tokens, {s.forwards} forwards filling {s.tokens_per_forward:.2f} positions each, "
          f"{s.tokens_per_second:.1f} tokens/s, stop: {r.stop_reason}]", file=sys.stderr)


if __name__ == "__main__":
    main()
