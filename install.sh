#!/usr/bin/env bash
# StatusCore set-up script. Idempotent; needs only Python 3.11+ on the machine.
#   ./install.sh          set up .venv with statuscore and its dependencies
#   ./install.sh run      set up, then run the appliance in the foreground (data in ./data)
#   ./install.sh test     set up with the test extras and system packages, then run the test suite
#                         (extra arguments go to pytest, e.g. ./install.sh test -m "not slow")
#   ./install.sh system   on-prem install of the single binary and a systemd service (as root)
#                         [--prefix /opt/statuscore] [--binary PATH] [--root DIR] [--host H] [--port P]
#                         [--admin-email E]   (--root DIR stages it into DIR: no user, no systemctl)
#   ./install.sh uninstall [--prefix DIR] [--root DIR] [--purge]
set -euo pipefail

start_dir="$PWD"   # relative --root/--binary paths are the caller's, not the checkout's
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
# extras is a comma list ("test,build"). The stamp holds one line per extra installed for this
# pyproject.toml ("<sha256> extra=test", and "<sha256> extra=" for the package itself), so a set-up
# is skipped when everything it asks for is already there, whichever mode installed it.
setup() {
    local extras="${1:-}" python stamp hash extra missing=no
    python="$(find_python)" || die "Python 3.11 or newer is needed; install it (e.g. apt-get install python3) and retry."
    if [ ! -x "$venv/bin/python" ]; then
        say "Creating $venv with $("$python" --version)"
        "$python" -m venv "$venv" || die "could not create the virtual environment; on Debian install python3-venv and retry."
    fi
    stamp="$venv/.statuscore-installed"
    hash="$(sha256sum < pyproject.toml | cut -d' ' -f1)"
    for extra in "" ${extras//,/ }; do
        grep -qxF "$hash extra=$extra" "$stamp" 2>/dev/null || missing=yes
    done
    if [ "$missing" = no ] && "$venv/bin/python" -c 'import statuscore' 2>/dev/null; then
        return 0
    fi
    say "Installing StatusCore${extras:+ with [$extras]} into $venv (about a minute the first time)"
    say "  [1/2] updating pip"
    "$venv/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
    local spec="."
    [ -n "$extras" ] && spec=".[$extras]"
    say "  [2/2] installing the package and its dependencies (log: $venv/pip.log)"
    if ! with_progress "$venv/pip.log" "$venv/bin/python" -m pip install --progress-bar off -e "$spec"; then
        tail -n 30 "$venv/pip.log" >&2
        die "pip could not install the dependencies (full log: $venv/pip.log)."
    fi
    # Remember what is installed now: what this pyproject.toml had before, plus these extras.
    {
        grep -F "$hash extra=" "$stamp" 2>/dev/null || true
        for extra in "" ${extras//,/ }; do printf '%s extra=%s\n' "$hash" "$extra"; done
    } | sort -u > "$stamp.new"
    mv -f "$stamp.new" "$stamp"
}

# with_progress LOG COMMAND...: run COMMAND (pip) with its output in LOG and show that it moves:
# on a terminal one line redrawn every second (elapsed seconds, packages so far, pip's current
# step); otherwise (CI, a pipe) a plain line at most every STATUSCORE_PROGRESS_SECONDS (10),
# so logs stay short. Returns COMMAND's exit status.
with_progress() {
    local log="$1" pid started now last=0 step count status=0 every="${STATUSCORE_PROGRESS_SECONDS:-10}"
    shift
    "$@" >"$log" 2>&1 &
    pid=$!
    started=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        now=$((SECONDS - started))
        count="$(grep -c '^Collecting ' "$log" 2>/dev/null || true)"
        step="$(grep -E '^(Collecting|Downloading|Building|Installing collected|Successfully)' "$log" 2>/dev/null |
                tail -n 1 | cut -c 1-60 || true)"
        if [ -t 1 ]; then
            printf '\r        %3d s, %s package(s): %s\033[K' "$now" "${count:-0}" "${step:-starting}"
        elif [ $((now - last)) -ge "$every" ]; then
            last=$now
            say "        ... ${now} s, ${count:-0} package(s) so far: ${step:-starting}"
        fi
    done
    wait "$pid" || status=$?
    [ -t 1 ] && printf '\r\033[K'
    say "        done in $((SECONDS - started)) s$([ "$status" -eq 0 ] || printf ' (failed)')"
    return "$status"
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
# ./install.sh system [--prefix /opt/statuscore] [--binary PATH] [--root DIR] [--host 127.0.0.1]
#                     [--port 8080] [--admin-email admin@statuscore.local]
# --root DIR stages the install into DIR (for packaging and tests): no user, no chown, no systemctl.
# The binary is built from this checkout unless --binary gives one; STATUSCORE_BUILD_DIR moves the
# PyInstaller work and output folders (default: ./build and ./dist).

# abs PATH: PATH made absolute against the directory install.sh was started from.
abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$start_dir/$1" ;; esac; }

build_binary() {   # prints the path of the built binary on stdout, everything else on stderr
    local out="${STATUSCORE_BUILD_DIR:-$here}"
    setup "build" >&2
    say "Building the single binary with PyInstaller (one to two minutes)." >&2
    # zlib level 6 instead of PyInstaller's 9 for the archive: a third less build time, 0.4 % more
    # size, the same start-up (measured).
    PYINSTALLER_ZLIB_COMPRESSION_LEVEL="${PYINSTALLER_ZLIB_COMPRESSION_LEVEL:-6}" \
    "$venv/bin/pyinstaller" --noconfirm --clean --log-level ERROR --distpath "$out/dist" \
        --workpath "$out/build" "$here/packaging/statuscore.spec" >&2 || die "the PyInstaller build failed (see above)."
    printf '%s\n' "$out/dist/statuscore"
}

# env_set FILE NAME VALUE: set NAME=VALUE in an env file (replacing the line, or appending it).
env_set() {
    local file="$1" name="$2" value="$3"
    if grep -q "^$name=" "$file"; then
        sed -i "s|^$name=.*|$name=$value|" "$file"
    else
        printf '%s=%s\n' "$name" "$value" >> "$file"
    fi
}

env_get() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

random_text() { head -c "$1" /dev/urandom | base64 | tr -d '\n/+='; }

system_install() {
    local prefix=/opt/statuscore binary="" root="" port="" host="" admin_email=admin@statuscore.local
    while [ $# -gt 0 ]; do
        case "$1" in
            --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
            --binary) binary="$(abs "${2:?--binary needs a file}")"; shift 2 ;;
            --root) root="$(abs "${2:?--root needs a directory}")"; root="${root%/}"; shift 2 ;;
            --port) port="${2:?--port needs a number}"; shift 2 ;;
            --host) host="${2:?--host needs an address}"; shift 2 ;;
            --admin-email) admin_email="${2:?--admin-email needs an address}"; shift 2 ;;
            *) die "unknown option '$1' for system (use --prefix, --binary, --root, --host, --port, --admin-email)" ;;
        esac
    done
    case "$prefix" in /*) prefix="${prefix%/}" ;; *) die "--prefix must be an absolute path (e.g. /opt/statuscore)" ;; esac
    if [ -n "$port" ] && ! { [ "$port" -ge 1 ] && [ "$port" -le 65535 ]; } 2>/dev/null; then
        die "--port must be a number from 1 to 65535"
    fi
    if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
        die "system install needs root: run it with sudo (or use --root DIR to stage it)."
    fi
    [ -n "$binary" ] || binary="$(build_binary)"
    [ -f "$binary" ] && [ -x "$binary" ] || die "no executable binary at $binary"
    "$binary" --version >/dev/null 2>&1 || die "$binary does not run ('$binary --version' failed)"

    local data_dir=/var/lib/statuscore etc_dir=/etc/statuscore unit=/etc/systemd/system/statuscore.service
    local env_file="$root$etc_dir/statuscore.env" bin="$root$prefix/bin/statuscore" upgrade=no
    [ -e "$bin" ] && upgrade=yes

    # The binary: copied next to the old one, then renamed over it (a running one keeps its copy).
    install -d -m 0755 "$root$prefix" "$root$prefix/bin"
    install -m 0755 "$binary" "$bin.new"
    mv -f "$bin.new" "$bin"
    install -m 0644 "$here/README.md" "$root$prefix/README.md"

    if [ -z "$root" ] && ! id statuscore >/dev/null 2>&1; then
        useradd --system --user-group --home-dir "$data_dir" --no-create-home --shell /usr/sbin/nologin statuscore ||
            die "could not create the statuscore system user"
    fi
    install -d -m 0700 "$root$data_dir"
    chmod 0700 "$root$data_dir"
    install -d -m 0755 "$root$etc_dir"

    # Settings, with the secret that signs logins: written once, kept on upgrades (only --host and
    # --port given again are changed).
    if [ ! -f "$env_file" ]; then
        (
            umask 077
            cat > "$env_file.new" <<ENV
# StatusCore settings, read by the statuscore service (README: "Install on a server").
# Mode 0600: it holds STATUSCORE_SECRET, which signs logins; keep it when you upgrade or restore.
STATUSCORE_DATA_DIR=$data_dir
STATUSCORE_HOST=${host:-127.0.0.1}
STATUSCORE_PORT=${port:-8080}
STATUSCORE_SECRET=$(random_text 48)
# More settings (see README, Configuration), e.g.:
# STATUSCORE_RATE_LIMIT=100/minute
# STATUSCORE_LOCATION=local
# STATUSCORE_PUBLIC_URL=https://status.example.com
ENV
            mv -f "$env_file.new" "$env_file"
        )
    else
        [ -n "$host" ] && env_set "$env_file" STATUSCORE_HOST "$host"
        [ -n "$port" ] && env_set "$env_file" STATUSCORE_PORT "$port"
    fi
    chmod 0600 "$env_file"
    host="$(env_get "$env_file" STATUSCORE_HOST)"; host="${host:-127.0.0.1}"
    port="$(env_get "$env_file" STATUSCORE_PORT)"; port="${port:-8080}"

    # The hardened systemd unit, filled in (written even where systemd is not running: it is ready
    # for when it does).
    install -d -m 0755 "$root$(dirname "$unit")"
    sed -e "s|@PREFIX@|$prefix|g" -e "s|@DATA_DIR@|$data_dir|g" -e "s|@ENV_FILE@|$etc_dir/statuscore.env|g" \
        "$here/packaging/statuscore.service" > "$root$unit.new"
    chmod 0644 "$root$unit.new"
    mv -f "$root$unit.new" "$root$unit"

    # The first admin, on a new data dir only; its password is shown once, here.
    local password=""
    if [ ! -e "$root$data_dir/statuscore.sqlite" ]; then
        password="$(random_text 18)"
        printf '%s\n' "$password" | STATUSCORE_DATA_DIR="$root$data_dir" "$bin" user add --email "$admin_email" \
            --name Administrator --tier pro --admin --password-stdin >/dev/null ||
            die "could not create the admin account in $root$data_dir"
    fi
    if [ -z "$root" ]; then
        chown -R statuscore:statuscore "$data_dir"
    fi

    local verb=Installed
    [ "$upgrade" = yes ] && verb=Upgraded
    say "$verb $root$prefix/bin/statuscore ($("$bin" --version)); data in $root$data_dir, settings in $env_file."
    local url="http://$host:$port"
    if [ -z "$root" ] && [ "$host" = 0.0.0.0 ]; then
        url="http://$(hostname -f 2>/dev/null || hostname):$port"
    fi
    if [ -n "$root" ]; then
        say "Staged into $root (--root): no system user was created and no service started."
        say "To try the staged binary as yourself:"
        say "  sh -c 'set -a; . $env_file; STATUSCORE_DATA_DIR=$root$data_dir; exec $bin serve'"
    elif [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        systemctl enable statuscore.service >/dev/null 2>&1
        systemctl restart statuscore.service
        say "The statuscore service is running at $url"
        say "  status: systemctl status statuscore   logs: journalctl -u statuscore   check: see README (doctor)"
    else
        say "systemd is not running on this machine, so no service was started (the unit is in $unit for"
        say "when it does). Start the appliance as root (it reads the settings, then runs as statuscore) with:"
        say "  sh -c 'set -a; . $env_file; exec runuser -u statuscore -- $prefix/bin/statuscore serve'"
        say "or in the background: nohup sh -c '...the same...' >>/var/log/statuscore.log 2>&1 &"
        say "Ping monitors then need unprivileged ICMP; '$prefix/bin/statuscore doctor' says whether it is allowed."
        [ "$upgrade" = yes ] && say "An appliance already running keeps the old binary until you restart it."
        say "It will listen on $url"
    fi
    if [ -n "$password" ]; then
        say "Admin login: $admin_email / $password"
        say "  (shown only this once: log in and change it, e.g. in 'statuscore console')"
    fi
}

system_uninstall() {
    local prefix=/opt/statuscore root="" purge=no
    while [ $# -gt 0 ]; do
        case "$1" in
            --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
            --root) root="$(abs "${2:?--root needs a directory}")"; root="${root%/}"; shift 2 ;;
            --purge) purge=yes; shift ;;
            *) die "unknown option '$1' for uninstall (use --prefix, --root, --purge)" ;;
        esac
    done
    case "$prefix" in /*) prefix="${prefix%/}" ;; *) die "--prefix must be an absolute path" ;; esac
    [ "$prefix" != "" ] && [ "$prefix" != / ] || die "refusing to remove prefix '$prefix'"
    if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
        die "uninstall needs root: run it with sudo (or use --root DIR for a staged install)."
    fi
    local systemd=no
    if [ -z "$root" ] && [ -d /run/systemd/system ]; then
        systemd=yes
        systemctl disable --now statuscore.service >/dev/null 2>&1 || true
    fi
    rm -f "$root/etc/systemd/system/statuscore.service"
    if [ "$systemd" = yes ]; then
        systemctl daemon-reload
    fi
    rm -rf "$root$prefix"
    if [ "$purge" = yes ]; then
        rm -rf "$root/var/lib/statuscore" "$root/etc/statuscore"
        if [ -z "$root" ] && id statuscore >/dev/null 2>&1; then
            userdel statuscore || say "Note: could not remove the statuscore user (is a process of it still running?)."
        fi
        say "StatusCore removed from ${root:-this machine}, with its data and settings."
    else
        say "StatusCore removed from ${root:-this machine}. Data kept in $root/var/lib/statuscore and settings"
        say "(with the secret) in $root/etc/statuscore: ./install.sh system brings it back; --purge removes them."
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
        setup "test,build"   # build: PyInstaller, for the single-binary smoke test (tests/e2e/test_binary.py)
        # package:command pairs; a real SIP peer (SIPp), ip(8) for network namespaces, the
        # browser the status page tests drive through Playwright, and PostgreSQL (tests run
        # throwaway clusters of it with initdb/pg_ctl; pg_ctlcluster comes with the server package).
        ensure_system_packages ${STATUSCORE_TEST_SYSTEM_PACKAGES:-sip-tester:sipp iproute2:ip chromium:chromium postgresql:pg_ctlcluster}
        # A worker a core and one more: the suite waits on real processes and timers half the
        # time (10-11 min on 2 cores instead of 12.6 at a worker a core). Two a core starve the
        # timing-bound cluster and anomaly runs.
        workers="${STATUSCORE_TEST_WORKERS:-$(( $(nproc 2>/dev/null || echo 1) + 1 ))}"
        # Tests talk only to loopback (and to namespaces they make). Where we can, run them in a
        # network namespace of their own whose only interface is loopback, so nothing can leak.
        if [ "${STATUSCORE_TEST_NETNS:-1}" = 1 ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 &&
           command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
            say "Running the tests in a network namespace with loopback only."
            exec unshare -n -- sh -c 'ip link set lo up && exec "$@"' sh \
                "$venv/bin/python" -m pytest -n "$workers" --dist loadgroup --durations=30 "$@"
        fi
        # loadgroup: tests marked xdist_group("heavy") (load runs, timing-sensitive checks) share one worker.
        exec "$venv/bin/python" -m pytest -n "$workers" --dist loadgroup --durations=30 "$@"
        ;;
    system)
        system_install "$@"
        ;;
    uninstall)
        system_uninstall "$@"
        ;;
    -h|--help|help)
        sed -n '2,/^set -e/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
        ;;
    *)
        die "unknown mode '$mode'; use one of: (none), run, test, system, uninstall"
        ;;
esac
