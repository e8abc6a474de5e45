#!/usr/bin/env bash
# Measures graphbatch at scale: for each N it generates a CSV of N rows,
# then runs `update --dry-run` and `update` against `graphbatch emulate`
# in another process, over TLS as Graph is reached (no write limits, no
# store), each REPEAT times under
# /usr/bin/time -v, and prints the medians as a Markdown table:
# wall time, rows/s, graphbatch's own CPU (user+sys) per row, peak RSS.
#
#   samples/scale.sh                   # N = 10,000 100,000 1,000,000; 3 runs each
#   REPEAT=5 samples/scale.sh 50000    # other sizes, more runs
#
# Needs Go, curl and GNU time (Debian: apt-get install time). Files go to a
# temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-10000 100000 1000000}")
read -r -a sizes <<<"${sizes[*]}"
repeat=${REPEAT:-3}
[ -x /usr/bin/time ] || { echo "scale.sh: GNU time is needed at /usr/bin/time" >&2; exit 2; }

dir=$(mktemp -d)
trap 'kill "${emu_pid:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
go build -o "$dir/graphbatch" ./cmd/graphbatch
go build -o "$dir/generate" ./samples/generate
port=$((20000 + RANDOM % 20000))
"$dir/graphbatch" emulate --listen "127.0.0.1:$port" --tls --cert-out "$dir/ca.pem" \
	--write-limit 0 --tenant-write-limit 0 --request-limit 0 --discard --log-level warn >/dev/null &
emu_pid=$!
for _ in $(seq 100); do # until it answers, at most 10 s
	[ -s "$dir/ca.pem" ] && curl -sf --cacert "$dir/ca.pem" "https://127.0.0.1:$port/_emulator/counters" >/dev/null && break
	sleep 0.1
done

# measure MODE N: runs one update and prints "wall cpu rss_kb".
measure() {
	local mode=$1 n=$2 args=()
	[ "$mode" = dry-run ] && args=(--dry-run) || args=(--graph-endpoint "https://127.0.0.1:$port" --ca-cert "$dir/ca.pem" --auth none --rate 10000000/s)
	local start end
	start=$(date +%s.%N)
	/usr/bin/time -v -o "$dir/time.txt" "$dir/graphbatch" update device-statuses --in "$dir/$n.csv" \
		--out "$dir/$n.results.csv" --overwrite --progress never "${args[@]}" >/dev/null 2>&1
	end=$(date +%s.%N)
	awk -F': ' -v wall="$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')" '
		/User time/ { cpu += $2 } /System time/ { cpu += $2 }
		/Maximum resident/ { rss = $2 }
		END { printf "%.3f %.3f %d\n", wall, cpu, rss }' "$dir/time.txt"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "| N | mode | wall s | rows/s | CPU µs/row | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
	"$dir/generate" -target device-statuses -rows "$n" >"$dir/$n.csv"
	for mode in dry-run update; do
		: >"$dir/runs.txt"
		for _ in $(seq "$repeat"); do measure "$mode" "$n" >>"$dir/runs.txt"; done
		wall=$(cut -d' ' -f1 "$dir/runs.txt" | median)
		cpu=$(cut -d' ' -f2 "$dir/runs.txt" | median)
		rss=$(cut -d' ' -f3 "$dir/runs.txt" | median)
		awk -v n="$n" -v m="$mode" -v w="$wall" -v c="$cpu" -v r="$rss" 'BEGIN {
			printf "| %d | %s | %.2f | %.0f | %.1f | %.1f |\n", n, m, w, n / w, c * 1e6 / n, r / 1024 }'
	done
	rm -f "$dir/$n.csv" "$dir/$n.results.csv"
done
