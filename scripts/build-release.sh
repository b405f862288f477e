#!/usr/bin/env bash
# Release binaries as we run and measure them: the Swift runtime linked in (--static-swift-stdlib)
# and only the symbols the dynamic linker needs exported (--no-export-dynamic). A client-only
# pendulum-ntpd then holds 14–15 MB resident instead of 19 MB: most of a Swift daemon's
# resident memory is pages of the libraries and binary it maps, and a shared runtime brings
# whole pages for a few functions, a 2 MB export table more. See docs/accuracy.md (Footprint).
#
#   scripts/build-release.sh [more swift build arguments]   → binaries in .build/release
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib -Xlinker --no-export-dynamic "$@"
echo "release binaries: $(swift build -c release --static-swift-stdlib -Xlinker --no-export-dynamic --show-bin-path "$@")"
