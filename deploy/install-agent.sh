#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Install the Canh Gác agent on a Debian/Ubuntu or RHEL-family (RHEL, Rocky, Alma, Oracle, CentOS Stream)
# server.
#
#   sudo deploy/install-agent.sh --wheel dist/canhgac-0.1.0-cp311-cp311-linux_x86_64.whl
#   sudo deploy/install-agent.sh --source /path/to/checkout
#   deploy/install-agent.sh --source . --dry-run        # print what would be done, change nothing
#
# Creates a virtual environment in /opt/canhgac-agent, installs the package with its [agent] extra,
# puts the example configuration in /etc/canhgac/agent.yaml (never overwriting an existing one), the
# systemd unit in /etc/systemd/system, and enables the service. The service is started only when the
# configuration passes `canhgac-agent check-config` and is not the untouched example.
#
# The process sensor's compiled listener (canhgac-process-listener, Rust) is in the wheel when the machine
# that built it had cargo (`pip wheel .`; build on the oldest distribution of the fleet: it links the C
# library dynamically). With --source, pip builds it here when cargo is installed (rustup's
# ~/.cargo/bin is looked in too). Without it the agent runs its Python listener, ~8 MiB more; the script
# says which one the server got, and so does the sensor's health.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly SCRIPT_NAME="install-agent"
readonly UNIT_NAME="canhgac-agent.service"

prefix="/opt/canhgac-agent"
config_dir="/etc/canhgac"
unit_dir="/etc/systemd/system"
wheel=""
source_dir=""
python=""
dry_run=0
start=1

# shellcheck source=install-lib.sh
. "${SCRIPT_DIR}/install-lib.sh"

usage() {
    cat <<EOT
Usage: $(basename "$0") (--wheel FILE | --source DIR) [options]

  --wheel FILE     install this canhgac wheel
  --source DIR     install from this source tree (the directory holding pyproject.toml)
  --prefix DIR     virtual environment location (default: ${prefix})
  --python PATH    Python ${REQUIRED_PYTHON} interpreter to use (default: found on PATH, else installed)
  --no-start       install and enable, but do not start the service
  --dry-run        print the commands instead of running them
  -h, --help       this text
EOT
}

parse_arguments() {
    while (($#)); do
        case "$1" in
            --wheel) wheel="${2:?--wheel needs a file}"; shift 2 ;;
            --source) source_dir="${2:?--source needs a directory}"; shift 2 ;;
            --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
            --python) python="${2:?--python needs a path}"; shift 2 ;;
            --no-start) start=0; shift ;;
            --dry-run) dry_run=1; shift ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; die "unknown argument: $1" ;;
        esac
    done
    check_source
}

# The login sensor follows /var/log/auth.log (Debian) or /var/log/secure (RHEL), written by rsyslog; a
# minimal RHEL 9 or Debian 12 install logs to the journal only.
check_auth_log() {
    if [[ -e /var/log/auth.log || -e /var/log/secure ]]; then return; fi
    local package=rsyslog
    log "warning: neither /var/log/auth.log nor /var/log/secure exists: the login sensor will report"
    log "  'degraded' until one does. Install ${package} (e.g. $(package_tool) install ${package}) and enable it."
}

# Returns 0 when a new configuration was installed from the example (it must be edited before use).
install_config() {
    run install -d -m 0750 "${config_dir}"
    run install -d -m 0700 "${config_dir}/secrets"  # the Kafka password file (0600)
    run install -m 0640 "${SCRIPT_DIR}/agent.example.yaml" "${config_dir}/agent.yaml.example"
    if [[ -e "${config_dir}/agent.yaml" ]]; then
        log "keeping the existing ${config_dir}/agent.yaml"
        return 1
    fi
    run install -m 0640 "${SCRIPT_DIR}/agent.example.yaml" "${config_dir}/agent.yaml"
    return 0
}

# rustup installs cargo in ~/.cargo/bin, which sudo's PATH leaves out.
find_cargo() {
    if ! command -v cargo >/dev/null && [[ -x "${HOME}/.cargo/bin/cargo" ]]; then
        PATH="${PATH}:${HOME}/.cargo/bin"
    fi
}

report_listener() {
    if ((dry_run)); then return; fi
    if [[ -x "${prefix}/bin/canhgac-process-listener" ]]; then
        log "process listener: compiled (${prefix}/bin/canhgac-process-listener)"
    else
        log "warning: no compiled process listener (built only where cargo is installed): the agent runs"
        log "  its Python listener, ~8 MiB more. Install cargo (https://rustup.rs) and reinstall to get it."
    fi
}

install_unit() {
    run install -m 0644 "${SCRIPT_DIR}/systemd/${UNIT_NAME}" "${unit_dir}/${UNIT_NAME}"
    run systemctl daemon-reload
    run systemctl enable "${UNIT_NAME}"
}

main() {
    parse_arguments "$@"
    if ((!dry_run)) && ((EUID != 0)); then die "run as root (or with --dry-run)"; fi
    log "OS family: $(os_family), packages with $(package_tool)"
    find_python
    find_cargo
    install_package agent
    report_listener
    install_doc agent.md
    relabel "${prefix}"
    check_auth_log
    local fresh_config=0
    if install_config; then fresh_config=1; fi
    install_unit
    if ((fresh_config)); then
        log "edit ${config_dir}/agent.yaml (organization, system, kafka.bootstrap), then:"
        log "  ${prefix}/bin/canhgac-agent check-config && systemctl start ${UNIT_NAME}"
        return
    fi
    if ((!start)); then
        log "installed and enabled; not started (--no-start)"
        return
    fi
    run "${prefix}/bin/canhgac-agent" check-config --config "${config_dir}/agent.yaml" >/dev/null
    run systemctl restart "${UNIT_NAME}"
    log "started; follow it with: journalctl -u ${UNIT_NAME} -f"
}

main "$@"
