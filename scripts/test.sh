#!/usr/bin/env bash
# Runs every test of FraudActors: style check, Release build, then each test project.
# Starts what the tests need first: a throwaway PostgreSQL (installed from Debian's packages
# if missing) on a free loopback port, stopped and deleted at the end; Debian's Chromium for the
# dashboard's browser test (installed if missing). CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

echo "== restore and build (Release)"
dotnet build FraudActors.sln -c Release -nologo -clp:ErrorsOnly

echo "== style (dotnet format --verify-no-changes)"
dotnet format FraudActors.sln --verify-no-changes --no-restore

echo "== PostgreSQL (throwaway)"
port=55432
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
export FRAUD_PG_PORT=$port FRAUD_PG_DIR
FRAUD_PG_DIR=$(mktemp -d /tmp/fraud-pg.XXXXXX)
trap './scripts/postgres.sh stop "$FRAUD_PG_DIR"' EXIT
FRAUD_TEST_POSTGRES=$(./scripts/postgres.sh start)
export FRAUD_TEST_POSTGRES
echo "$FRAUD_TEST_POSTGRES"

echo "== Chromium (the dashboard's browser test drives Debian's package headless)"
if [ ! -x /usr/bin/chromium ]; then
    echo "chromium: installing Debian's chromium package"
    apt_log=$(mktemp)
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } </dev/null >"$apt_log" 2>&1; then
        cat "$apt_log" >&2
        echo "chromium: apt-get install chromium failed" >&2
        exit 1
    fi
    rm -f "$apt_log"
fi
/usr/bin/chromium --version 2>/dev/null

# The in-process suites first (seconds each), then tests/EndToEnd.Tests (child processes,
# clusters, a browser: minutes), so the unit suites report first.
slow=tests/EndToEnd.Tests/EndToEnd.Tests.csproj
projects=()
for project in tests/*/*.Tests.csproj; do
    [ "$project" = "$slow" ] || projects+=("$project")
done
projects+=("$slow")

results=$(mktemp -d)
status=0
for project in "${projects[@]}"; do
    name=$(basename "$project" .csproj)
    echo "== test $name"
    if ! dotnet test "$project" -c Release --no-build -nologo \
        --logger "console;verbosity=normal" --logger "trx;LogFileName=$name.trx" \
        --results-directory "$results" 2>&1 | tee "$results/$name.log" | grep -vE '^\s*$|^\s+Passed '; then
        status=1
    fi
done

# One closing line for the whole run, summed over the projects' own summaries
# ("Total tests: N" followed by "Passed: N", "Failed: N", "Skipped: N").
awk '/^Total tests:/ { n++ }
     /^[[:space:]]+Passed: [0-9]+$/ { p += $2 }
     /^[[:space:]]+Failed: [0-9]+$/ { f += $2 }
     /^[[:space:]]+Skipped: [0-9]+$/ { s += $2 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s; if (n == 0 || f > 0) exit 1 }' "$results"/*.log || status=1
exit $status
