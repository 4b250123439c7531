#!/usr/bin/env bash
# Checks one cross-built release file without running it: its format and architecture
# and, for libraries, the symbols it exports. The dllm_* symbols must be exactly the
# functions include/dllm.h declares; besides them a static library may only export the
# entry points of Go's cgo runtime and the library's own C helpers (dllmcapi_*), and a
# DLL nothing at all.
#
#   scripts/check-dist-artefact.sh GOOS/GOARCH cli|shared|static FILE
#
# Needs file and llvm-nm (apt-get install -y file llvm); GNU objdump reads PE exports.
set -euo pipefail
if [ $# -ne 3 ]; then
	echo "usage: $0 GOOS/GOARCH cli|shared|static FILE" >&2
	exit 2
fi
platform=$1 kind=$2 file=$(realpath "$3")
cd "$(dirname "$0")/.."
. scripts/dist-lib.sh
need file:file llvm-nm:llvm objdump:binutils
fail() {
	echo "check-dist-artefact: $file ($platform $kind): $*" >&2
	exit 1
}
[ -s "$file" ] || fail "missing or empty"

# What file(1) says of a program or library (static: of each object inside) per platform.
case $platform in
linux/amd64) format='ELF 64-bit LSB .*x86-64' ;;
linux/arm64) format='ELF 64-bit LSB .*ARM aarch64' ;;
android/arm64) format='ELF 64-bit LSB .*ARM aarch64.*interpreter /system/bin/linker64' ;;
windows/amd64) format='PE32\+ executable .*x86-64' ;;
darwin/amd64) format='Mach-O 64-bit x86_64' ;;
darwin/arm64 | ios/arm64) format='Mach-O 64-bit arm64' ;;
*) fail "unknown platform" ;;
esac
case $platform/$kind in
windows/*/shared) shape='\(DLL\)' ;;
windows/*/cli) shape='\(console\)' ;;
*/cli) shape='executable' ;;
*/shared) shape='shared (object|library)' ;;
*/static) shape='object|relocatable' ;;
*) fail "unknown kind" ;;
esac
# is_format FILE: file(1) names the platform's format and the kind's shape.
is_format() {
	local what
	what=$(file -b "$1")
	grep -Eq "$format" <<<"$what" && grep -Eq "$shape" <<<"$what" ||
		fail "${2:-}is $what, want /$format/ and /$shape/"
}

exported=
case $kind in
cli)
	is_format "$file"
	;;
shared)
	is_format "$file"
	case $platform in
	windows/*)
		exported=$(objdump -p "$file" | sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$/p' |
			sed -nE 's/^\s*\[ *[0-9]+\] +//p')
		;;
	*)
		NM=nm scripts/check-capi-symbols.sh "$file" include/dllm.h >/dev/null
		exported=$(nm -D --defined-only "$file" | awk '$2 ~ /^[TW]$/ {print $3}' | grep '^dllm_')
		;;
	esac
	;;
static)
	members=$(mktemp -d)
	trap 'rm -rf "$members"' EXIT
	(cd "$members" && ar x "$file")
	for o in "$members"/*; do
		case $(basename "$o") in __.SYMDEF*) continue ;; esac # Mach-O symbol table
		is_format "$o" "member $(basename "$o") "
	done
	# Apple's linker refuses objects built for another of its platforms (macOS objects in
	# an iOS app), so each member must name the archive's platform.
	case $platform in darwin/* | ios/*)
		apple=macos
		[ "${platform%/*}" = darwin ] || apple=ios
		seen=$(llvm-objdump --macho --private-headers "$file" 2>/dev/null | awk '$1 == "platform" {print $2}' | sort -u)
		[ "$seen" = "$apple" ] || fail "members are built for platform(s) '$(echo $seen)', want $apple"
		;;
	esac
	# Linkers find members through the archive's symbol table, which must list the API.
	llvm-nm --print-armap "$file" 2>/dev/null | sed -n '/^Archive map/,/^$/p' |
		grep -Eq '^_?dllm_model_load in ' || fail "no symbol table listing dllm_model_load"
	exported=$(llvm-nm --extern-only --defined-only "$file" 2>/dev/null | awk 'NF == 3 {print $3}')
	# Mach-O prefixes every C name with an underscore.
	case $platform in darwin/* | ios/*) exported=$(sed 's/^_//' <<<"$exported") ;; esac
	;;
esac

if [ -n "$exported" ] || [ "$kind" != cli ]; then
	api=$(grep '^dllm_' <<<"$exported" | sort -u || true)
	if ! diff <(declared_functions) <(echo "$api") >/dev/null; then
		echo "check-dist-artefact: $file exports and include/dllm.h declares different dllm_ functions (< declared only, > exported only):" >&2
		diff <(declared_functions) <(echo "$api") | grep '^[<>]' >&2
		exit 1
	fi
	other=$(grep -v '^dllm_' <<<"$exported" || true)
	if [ "$kind" = static ]; then
		other=$(grep -Ev '^(_cgo_|_cgoexp_|x_cgo_|crosscall|x_crosscall2_ptr$|fatalf$|dllmcapi_)' <<<"$other" || true)
	fi
	[ -z "$other" ] || fail "exports symbols outside the API: $(echo $other)"
fi
echo "check-dist-artefact: $file: $platform $kind${exported:+, exports the $(declared_functions | wc -l) functions of include/dllm.h}"
