#!/usr/bin/env bash
# Release binaries as we run and measure them: the Swift runtime linked in (--static-swift-stdlib),
# only the symbols the dynamic linker needs exported (--no-export-dynamic), and linked by the
# toolchain's lld with packed relative relocations (DT_RELR, read by glibc 2.36 and later). A
# client-only pendulum-ntpd then holds about 13 MB resident instead of 19 MB: most of a Swift
# daemon's resident memory is pages of the libraries and binary it maps; a shared runtime brings
# whole pages for a few functions, an export table 2 MB more, and gold's relocation table
# (which gold cannot pack) 1.5 MB more. See docs/accuracy.md (Footprint).
#
#   scripts/build-release.sh [more swift build arguments]   → binaries in .build/release
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --static-swift-stdlib -Xlinker --no-export-dynamic
       -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs)
swift build "${flags[@]}" "$@"
echo "release binaries: $(swift build "${flags[@]}" --show-bin-path "$@")"
