#!/usr/bin/env bash
# Runs every test of ToDoList. On a fresh Debian/Ubuntu machine it first installs what the
# tests need, then builds, publishes the app once (browser tests run the published output),
# runs every test project, and ends with one line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)

# --- What the tests need from the system -------------------------------------------------
packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
# The messaging tests start their own nats-server (tests/TestSupport/NatsServer.cs).
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || packages+=(nats-server)
# The Redis tests start their own redis-server and drive redis-cli, which comes with it (tests/ToDoList.Messaging.Tests/Servers/RedisServer.cs).
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || packages+=(redis-server)
# The RabbitMQ tests run the package's own rabbitmq-server script and drive amqp-publish/amqp-consume (tests/ToDoList.Messaging.Tests/Servers/RabbitMqServer.cs).
compgen -G "/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server" >/dev/null || packages+=(rabbitmq-server)
command -v amqp-publish >/dev/null 2>&1 && command -v amqp-consume >/dev/null 2>&1 || packages+=(amqp-tools)
# The tests run their own PostgreSQL clusters with initdb (tests/TestSupport/PostgresServer.cs).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql)
# The deploy files' tests validate Compose files and Kubernetes manifests offline (tests/ToDoList.ProcessTests/DeployFilesTests.cs).
command -v docker-compose >/dev/null 2>&1 || packages+=(docker-compose)
need_kubectl=""
command -v kubectl >/dev/null 2>&1 || need_kubectl=1
if ((${#packages[@]})) || [ -n "$need_kubectl" ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing: ${packages[*]} ${need_kubectl:+kubectl}"
  # Installed, never started: the tests start their own servers. While installing, a policy-rc.d refuses
  # every service start (unless the machine has its own), and PostgreSQL makes no "main" cluster.
  policy_added=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    policy_added=1
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  if [[ " ${packages[*]} " == *" postgresql "* ]]; then
    $sudo mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/todo-tests.conf >/dev/null
  fi
  $sudo apt-get update -qq
  if ((${#packages[@]})); then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  fi
  # kubectl comes from a vendor repository where one is configured; without it the kustomize test fails saying so.
  [ -z "$need_kubectl" ] || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends kubectl >/dev/null 2>&1 \
    || echo "note: kubectl could not be installed; the Kubernetes manifest test will fail." >&2
  if [ -n "$policy_added" ]; then
    $sudo rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# --- Build once, publish the app once ----------------------------------------------------
dotnet tool restore >/dev/null
dotnet build ToDoList.slnx -c Release -nologo -clp:ErrorsOnly
# For this machine's runtime: precompiled (ReadyToRun), as the Dockerfile builds it.
dotnet publish src/ToDoList -c Release --use-current-runtime --self-contained false -o .build/app -nologo -clp:ErrorsOnly >/dev/null
export TODO_APP_DIR="$root/.build/app"

# --- Supply chain: no package with a known vulnerability, where the registry answers ---------
# A registry that serves no VulnerabilityInfo resource (a mirror) would make every package look clean: say so instead.
if curl -fsS --max-time 20 https://api.nuget.org/v3/index.json 2>/dev/null | grep -q '"VulnerabilityInfo'; then
  audit=$(dotnet list ToDoList.slnx package --vulnerable --include-transitive 2>&1) || { echo "$audit" >&2; exit 1; }
  if grep -q "has the following vulnerable packages" <<<"$audit"; then
    echo "$audit"
    echo "Known-vulnerable packages (above): update them before anything else." >&2
    exit 1
  fi
else
  echo "note: the package registry serves no vulnerability data here; the known-vulnerable package check was skipped." >&2
fi

# --- Test, one project after another (2 cores: parallel projects only fight) -------------
results="$root/.build/test-results"
rm -rf "$results"
status=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" || status=1
done

# --- One line for CI: summed over every test project -------------------------------------
passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
echo "$passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
