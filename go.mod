module github.com/dllm-go/dllm

go 1.26.0

require (
	github.com/edsrzf/mmap-go v1.2.0
	github.com/spf13/pflag v1.0.10
	github.com/x448/float16 v0.8.4
	golang.org/x/sys v0.50.0
	golang.org/x/text v0.44.0
)
