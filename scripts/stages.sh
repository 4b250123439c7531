#!/usr/bin/env bash
# Runs each make target given in its own make, in order, timing each; prints a table of
# wall times at the end (also when a stage fails, which stops the run).
#   scripts/stages.sh MAKE STAGE...
set -uo pipefail
make=$1
shift
names=() times=()
summary() {
	local total=0 i
	echo
	printf '%-22s %8s\n' stage seconds
	for i in "${!names[@]}"; do
		printf '%-22s %8s\n' "${names[$i]}" "${times[$i]}"
		total=$((total + times[i]))
	done
	printf '%-22s %8s\n' total "$total"
}
for stage in "$@"; do
	echo "=== $stage"
	start=$SECONDS
	$make --no-print-directory "$stage"
	rc=$?
	names+=("$stage") times+=($((SECONDS - start)))
	if [ $rc -ne 0 ]; then
		summary
		echo "make test: stage $stage failed" >&2
		exit $rc
	fi
done
summary
