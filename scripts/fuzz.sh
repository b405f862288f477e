#!/usr/bin/env bash
# Builds and runs the libFuzzer targets listed in Fuzz/targets.txt.
#   scripts/fuzz.sh                 every target, 10 s each (the CI smoke run)
#   scripts/fuzz.sh --seconds 600 NTPPacketParser
#   scripts/fuzz.sh --runs 10000000 NTPPacketParser   a campaign: that many executions, no time limit
#   scripts/fuzz.sh --release --runs 10000000           the same, optimised (-O, still ASan and
#                                 overflow checks): NTPClientCoreInput, the slowest, runs 2x as fast
# SwiftPM cannot link a libFuzzer executable target (it renames the entry point), so the
# modules are compiled with coverage instrumentation by SwiftPM and linked here with swiftc.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=10
runs=""
configuration=debug
selected=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --runs) runs="$2"; seconds=0; shift 2 ;;
        --release) configuration=release; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) selected+=("$1"); shift ;;
    esac
done

scratch=.build-fuzz
flags=(-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xcc -fsanitize=fuzzer-no-link,address)
mkdir -p "$scratch/bin" "$scratch/corpus"

status=0
while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    name="${line%%:*}"
    read -r -a words <<<"${line#*:}"
    # "+path.swift" words are sources compiled into the fuzzer itself: for a parser that lives
    # in a module too heavy to link (a daemon), without splitting that module for the fuzzer.
    modules=()
    sources=()
    for word in "${words[@]}"; do
        if [[ "$word" == +* ]]; then sources+=("${word#+}"); else modules+=("$word"); fi
    done
    if [ ${#selected[@]} -gt 0 ] && [[ ! " ${selected[*]} " == *" $name "* ]]; then continue; fi

    # The first module brings its dependencies; with compiled-in sources, every project module
    # they import is built as well.
    targets=("${modules[0]}")
    [ ${#sources[@]} -gt 0 ] && for module in "${modules[@]:1}"; do [[ "$module" == Pendulum* ]] && targets+=("$module"); done
    for target in "${targets[@]}"; do
        swift build -c "$configuration" --scratch-path "$scratch" "${flags[@]}" --target "$target" >"$scratch/build-$name.log" 2>&1 \
            || { cat "$scratch/build-$name.log"; exit 1; }
    done
    objects=()
    extra=()
    for module in "${modules[@]}"; do
        # A Swift module lists its current sources: objects of files since renamed or deleted
        # stay in the scratch directory and must not be linked twice.
        listed="$scratch/$configuration/$module.build/sources"
        while IFS= read -r object; do
            if [ -f "$listed" ] && ! grep -qF "/$(basename "$object" .o)" "$listed"; then continue; fi
            objects+=("$object")
        done < <(find "$scratch/$configuration/$module.build" -name '*.o' | sort)
        # C and C++ targets are imported through the module maps SwiftPM generated for them.
        [ -f "$scratch/$configuration/$module.build/module.modulemap" ] && extra+=(-Xcc "-fmodule-map-file=$scratch/$configuration/$module.build/module.modulemap")
        # A C++ target's objects need the C++ runtime.
        find "$scratch/$configuration/$module.build" -name '*.cpp.o' -o -name '*.cc.o' | grep -q . && extra+=(-lstdc++)
    done
    optimise=()
    [ "$configuration" = release ] && optimise=(-O)
    # Compiled-in sources may declare `package` members; they need a package name to be seen
    # by the fuzzer's own file.
    swiftc "${optimise[@]}" -sanitize=fuzzer,address -parse-as-library -package-name pendulum-fuzz -I "$scratch/$configuration/Modules" "${extra[@]}" \
        "Fuzz/$name.swift" "${sources[@]}" "${objects[@]}" -o "$scratch/bin/$configuration-$name" 2>"$scratch/link-$name.log" \
        || { cat "$scratch/link-$name.log"; exit 1; }

    corpus="$scratch/corpus/$name"
    mkdir -p "$corpus"
    seeds=()
    [ -d "Fuzz/corpus/$name" ] && seeds=("Fuzz/corpus/$name")
    log="$scratch/run-$name.log"
    # Fuzz/NAME.options: extra libFuzzer flags for one target, with a comment saying why.
    options=()
    [ -f "Fuzz/$name.options" ] && read -r -a options < <(grep -v "^#" "Fuzz/$name.options" | tr "\n" " "; echo) || true
    limit=()
    [ -n "$runs" ] && limit=(-runs="$runs")
    started=$(date +%s)
    if "$scratch/bin/$configuration-$name" -max_total_time="$seconds" "${limit[@]}" -max_len=4096 -timeout=10 "${options[@]}" \
        -artifact_prefix="$scratch/crash-$name-" "$corpus" "${seeds[@]}" >"$log" 2>&1; then
        done_runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' || echo "?")
        echo "fuzz $name: $done_runs executions in $(( $(date +%s) - started )) s, no crash"
    else
        echo "fuzz $name: FAILED"; tail -40 "$log"; status=1
    fi
done < Fuzz/targets.txt
exit $status
