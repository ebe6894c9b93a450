#!/usr/bin/env bash
# StatusCore set-up script. Idempotent; needs only Python 3.11+ on the machine.
#   ./install.sh          set up .venv with statuscore and its dependencies
#   ./install.sh run      set up, then run the appliance in the foreground (data in ./data)
#   ./install.sh test     set up with the test extras and system packages, then run the test suite
#                         (extra arguments go to pytest, e.g. ./install.sh test -m "not slow")
#   ./install.sh system   on-prem install of the single binary and a systemd service
#   ./install.sh uninstall [--purge]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
venv="$here/.venv"

say() { printf '%s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# setup [extras]: create .venv and install the package; skipped when nothing changed since last time.
setup() {
    local extras="${1:-}" python stamp want
    python="$(find_python)" || die "Python 3.11 or newer is needed; install it (e.g. apt-get install python3) and retry."
    if [ ! -x "$venv/bin/python" ]; then
        say "Creating $venv with $("$python" --version)"
        "$python" -m venv "$venv" || die "could not create the virtual environment; on Debian install python3-venv and retry."
    fi
    stamp="$venv/.statuscore-installed"
    want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1) extras=[$extras]"
    if [ -f "$stamp" ] && grep -qxF "$want" "$stamp" && "$venv/bin/python" -c 'import appliance' 2>/dev/null; then
        return 0
    fi
    say "Installing StatusCore${extras:+ with [$extras]} into $venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
    local spec="."
    [ -n "$extras" ] && spec=".[$extras]"
    if ! "$venv/bin/python" -m pip install --quiet -e "$spec" >"$venv/pip.log" 2>&1; then
        tail -n 30 "$venv/pip.log" >&2
        die "pip could not install the dependencies (full log: $venv/pip.log)."
    fi
    # A test install also satisfies a plain one: remember both.
    { printf '%s\n' "$want"; [ -n "$extras" ] && printf '%s extras=[]\n' "${want%% *}"; } > "$stamp"
}

# System packages the tests use (real SIP peer, browser, network namespaces). Installed only when
# missing and only where apt-get and root are available; tests that need one skip with a reason otherwise.
ensure_system_packages() {
    local missing=() pkg cmd
    for pair in "$@"; do
        pkg="${pair%%:*}"; cmd="${pair#*:}"
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        say "Note: ${missing[*]} not installed (needs root and apt-get); tests that use them will be skipped."
        return 0
    fi
    say "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || say "Note: apt-get update failed; trying the install anyway."
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
        say "Note: could not install ${missing[*]}; tests that use them will be skipped."
}

mode="${1:-setup}"
[ $# -gt 0 ] && shift
case "$mode" in
    setup)
        setup ""
        say "Ready: $venv/bin/statuscore --help"
        ;;
    run)
        setup ""
        export STATUSCORE_DATA_DIR="${STATUSCORE_DATA_DIR:-$here/data}"
        say "Starting StatusCore (data in $STATUSCORE_DATA_DIR; stop with Ctrl-C)."
        exec "$venv/bin/statuscore" serve "$@"
        ;;
    test)
        setup "test"
        # package:command pairs; a real SIP peer (SIPp) and ip(8) for network namespaces.
        ensure_system_packages ${STATUSCORE_TEST_SYSTEM_PACKAGES:-sip-tester:sipp iproute2:ip}
        exec "$venv/bin/python" -m pytest -n "${STATUSCORE_TEST_WORKERS:-auto}" "$@"
        ;;
    system|uninstall)
        die "'$mode' is not available yet in this version; run the appliance with ./install.sh run."
        ;;
    -h|--help|help)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        ;;
    *)
        die "unknown mode '$mode'; use one of: (none), run, test, system, uninstall"
        ;;
esac
