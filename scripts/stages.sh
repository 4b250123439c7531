#!/usr/bin/env bash
# Runs the stages of `make test`, each in its own make, in order, timing each; prints a
# table of wall times at the end (also when a stage fails, which stops the run). The
# stages are `deps`, then TEST_STAGES, then any other target mk/*.mk files make `test`
# depend on, as the database (make -p) of a make that reads every mk/*.mk lists them.
#   scripts/stages.sh MAKE
set -uo pipefail
make=$1
db=$($make -pq --no-print-directory DLLM_STAGES=1 deps 2>/dev/null)
stages=(deps $(sed -n 's/^TEST_STAGES :\{0,1\}= //p' <<<"$db"))
for extra in $(sed -n 's/^test: //p' <<<"$db"); do
	[[ " ${stages[*]} " == *" $extra "* ]] || stages+=("$extra")
done

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
for stage in "${stages[@]}"; do
	echo "=== $stage"
	start=$SECONDS
	$make --no-print-directory DLLM_STAGES=1 "$stage"
	rc=$?
	names+=("$stage") times+=($((SECONDS - start)))
	if [ $rc -ne 0 ]; then
		summary
		echo "make test: stage $stage failed" >&2
		exit $rc
	fi
done
summary
