# The READMEs as a test: every `sh` and `console` block of README.md, bindings/*/README.md
# and examples/*/README.md runs in a fresh clone (committed work only); the -worktree
# variant copies the working tree instead, uncommitted changes included.

.PHONY: test-readme test-readme-worktree

TEST_STAGES += test-readme

test-readme:
	scripts/readme.py test

test-readme-worktree:
	scripts/readme.py test --worktree
