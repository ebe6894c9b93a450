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

# ---- on-prem install of the single binary -------------------------------------------------------
# ./install.sh system [--prefix /opt/statuscore] [--binary PATH] [--root DIR] [--port 8080] [--host 0.0.0.0]
# --root installs into a staging root (for packaging and tests): no user, no systemctl there.
build_binary() {
    setup "build"
    say "Building the single binary with PyInstaller (a minute or two)..."
    "$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN --distpath "$here/dist" \
        --workpath "$here/build" "$here/packaging/statuscore.spec" >&2 || die "the PyInstaller build failed (see above)."
    printf '%s\n' "$here/dist/statuscore"
}

system_install() {
    local prefix=/opt/statuscore binary="" root="" port=8080 host=127.0.0.1
    while [ $# -gt 0 ]; do
        case "$1" in
            --prefix) prefix="$2"; shift 2 ;;
            --binary) binary="$2"; shift 2 ;;
            --root) root="${2%/}"; shift 2 ;;
            --port) port="$2"; shift 2 ;;
            --host) host="$2"; shift 2 ;;
            *) die "unknown option '$1' for system (use --prefix, --binary, --root, --port, --host)" ;;
        esac
    done
    if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
        die "system install needs root: run it with sudo (or use --root DIR to stage it)."
    fi
    [ -n "$binary" ] || binary="$(build_binary)"
    [ -x "$binary" ] || die "no executable binary at $binary"
    local data_dir=/var/lib/statuscore etc_dir=/etc/statuscore unit=/etc/systemd/system/statuscore.service
    install -d -m 0755 "$root$prefix/bin"
    install -m 0755 "$binary" "$root$prefix/bin/statuscore.new"
    mv -f "$root$prefix/bin/statuscore.new" "$root$prefix/bin/statuscore"   # atomic upgrade in place
    install -m 0644 "$here/README.md" "$root$prefix/README.md"
    if [ -z "$root" ] && ! id statuscore >/dev/null 2>&1; then
        useradd --system --home-dir "$data_dir" --no-create-home --shell /usr/sbin/nologin statuscore ||
            die "could not create the statuscore system user"
    fi
    install -d -m 0700 "$root$data_dir"
    install -d -m 0755 "$root$etc_dir"
    local env_file="$root$etc_dir/statuscore.env" created_env=no
    if [ ! -f "$env_file" ]; then   # kept on upgrade: it holds the secret
        umask 077
        {
            echo "# StatusCore settings (see README: Configuration). Mode 0600: it holds the secret."
            echo "STATUSCORE_DATA_DIR=$data_dir"
            echo "STATUSCORE_HOST=$host"
            echo "STATUSCORE_PORT=$port"
            echo "STATUSCORE_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
        } > "$env_file"
        chmod 0600 "$env_file"
        created_env=yes
    fi
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@DATA_DIR@|$data_dir|g" "$here/packaging/statuscore.service" > "$root$unit.tmp"
    install -d -m 0755 "$(dirname "$root$unit")"
    mv -f "$root$unit.tmp" "$root$unit"
    chmod 0644 "$root$unit"
    local password=""
    if [ "$created_env" = yes ] && [ -z "$(ls -A "$root$data_dir" 2>/dev/null)" ]; then
        password="$(head -c 12 /dev/urandom | base64 | tr -d '\n/+=')"
        printf '%s\n' "$password" | STATUSCORE_DATA_DIR="$root$data_dir" "$root$prefix/bin/statuscore" user add \
            --email admin@statuscore.local --name Administrator --tier pro --admin --password-stdin >/dev/null ||
            die "could not create the admin account"
    fi
    if [ -z "$root" ]; then
        chown -R statuscore:statuscore "$data_dir"
    fi
    say "Installed $prefix/bin/statuscore ($("$root$prefix/bin/statuscore" --version))."
    if [ -z "$root" ] && [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        systemctl enable statuscore.service >/dev/null 2>&1
        systemctl restart statuscore.service
        say "The statuscore service is running: systemctl status statuscore; logs: journalctl -u statuscore"
    else
        say "systemd is not running here, so no service was started. Start the appliance with:"
        say "  sudo -u statuscore env \$(sudo cat $etc_dir/statuscore.env | grep -v '^#' | xargs) $prefix/bin/statuscore serve"
    fi
    say "It listens on http://$host:$port (change STATUSCORE_HOST/PORT in $etc_dir/statuscore.env)."
    if [ -n "$password" ]; then
        say "Admin login: admin@statuscore.local / $password  (shown once: change it after logging in)"
    fi
}

system_uninstall() {
    local prefix=/opt/statuscore root="" purge=no
    while [ $# -gt 0 ]; do
        case "$1" in
            --prefix) prefix="$2"; shift 2 ;;
            --root) root="${2%/}"; shift 2 ;;
            --purge) purge=yes; shift ;;
            *) die "unknown option '$1' for uninstall (use --prefix, --root, --purge)" ;;
        esac
    done
    if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
        die "uninstall needs root: run it with sudo."
    fi
    if [ -z "$root" ] && [ -d /run/systemd/system ]; then
        systemctl disable --now statuscore.service >/dev/null 2>&1 || true
    fi
    rm -f "$root/etc/systemd/system/statuscore.service"
    [ -z "$root" ] && [ -d /run/systemd/system ] && systemctl daemon-reload
    rm -rf "$root$prefix"
    if [ "$purge" = yes ]; then
        rm -rf "$root/var/lib/statuscore" "$root/etc/statuscore"
        [ -z "$root" ] && id statuscore >/dev/null 2>&1 && userdel statuscore
        say "StatusCore removed, with its data and settings."
    else
        say "StatusCore removed. Data kept in /var/lib/statuscore and settings in /etc/statuscore (--purge removes them)."
    fi
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
        # package:command pairs; a real SIP peer (SIPp), ip(8) for network namespaces, and the
        # browser the status page tests drive through Playwright.
        ensure_system_packages ${STATUSCORE_TEST_SYSTEM_PACKAGES:-sip-tester:sipp iproute2:ip chromium:chromium}
        # Tests talk only to loopback (and to namespaces they make). Where we can, run them in a
        # network namespace of their own whose only interface is loopback, so nothing can leak.
        if [ "${STATUSCORE_TEST_NETNS:-1}" = 1 ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 &&
           command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
            say "Running the tests in a network namespace with loopback only."
            exec unshare -n -- sh -c 'ip link set lo up && exec "$@"' sh \
                "$venv/bin/python" -m pytest -n "${STATUSCORE_TEST_WORKERS:-auto}" "$@"
        fi
        exec "$venv/bin/python" -m pytest -n "${STATUSCORE_TEST_WORKERS:-auto}" "$@"
        ;;
    system)
        system_install "$@"
        ;;
    uninstall)
        system_uninstall "$@"
        ;;
    -h|--help|help)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        ;;
    *)
        die "unknown mode '$mode'; use one of: (none), run, test, system, uninstall"
        ;;
esac
