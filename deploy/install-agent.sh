#!/usr/bin/env bash
# Install the Canh Gác agent on a Debian/Ubuntu or RHEL-family server.
#
#   sudo deploy/install-agent.sh --wheel dist/canhgac-0.1.0-py3-none-any.whl
#   sudo deploy/install-agent.sh --source /path/to/checkout
#   deploy/install-agent.sh --source . --dry-run        # print what would be done, change nothing
#
# Creates a virtual environment in /opt/canhgac-agent, installs the package with its [agent] extra,
# puts the example configuration in /etc/canhgac/agent.yaml (never overwriting an existing one), the
# systemd unit in /etc/systemd/system, and enables the service. The service is started only when the
# configuration passes `canhgac-agent check-config` and is not the untouched example.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly UNIT_NAME="canhgac-agent.service"
readonly REQUIRED_PYTHON="3.11"

prefix="/opt/canhgac-agent"
config_dir="/etc/canhgac"
unit_dir="/etc/systemd/system"
wheel=""
source_dir=""
python=""
dry_run=0
start=1

usage() {
    cat <<EOF
Usage: $(basename "$0") (--wheel FILE | --source DIR) [options]

  --wheel FILE     install this canhgac wheel
  --source DIR     install from this source tree (the directory holding pyproject.toml)
  --prefix DIR     virtual environment location (default: ${prefix})
  --python PATH    Python ${REQUIRED_PYTHON} interpreter to use (default: found on PATH)
  --no-start       install and enable, but do not start the service
  --dry-run        print the commands instead of running them
  -h, --help       this text
EOF
}

log() { printf '[install-agent] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Runs a command, or prints it under --dry-run.
run() {
    if ((dry_run)); then
        printf '[dry-run]'
        printf ' %q' "$@"
        printf '\n'
    else
        "$@"
    fi
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
    if [[ -n "${wheel}" && -n "${source_dir}" ]] || [[ -z "${wheel}" && -z "${source_dir}" ]]; then
        usage >&2
        die "give exactly one of --wheel or --source"
    fi
    if [[ -n "${wheel}" && ! -f "${wheel}" ]]; then die "wheel not found: ${wheel}"; fi
    if [[ -n "${source_dir}" && ! -f "${source_dir}/pyproject.toml" ]]; then
        die "no pyproject.toml in ${source_dir}"
    fi
}

os_family() {
    local id="" id_like=""
    if [[ -r /etc/os-release ]]; then
        # shellcheck disable=SC1091 # the file is the system's, not part of this repository
        id="$(. /etc/os-release && printf '%s' "${ID:-}")"
        # shellcheck disable=SC1091
        id_like="$(. /etc/os-release && printf '%s' "${ID_LIKE:-}")"
    fi
    case " ${id} ${id_like} " in
        *" debian "* | *" ubuntu "*) echo debian ;;
        *" rhel "* | *" fedora "* | *" centos "* | *" rocky "* | *" almalinux "*) echo rhel ;;
        *) echo unknown ;;
    esac
}

python_is_supported() {
    "$1" -c "import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)" 2>/dev/null
}

# Finds (or installs from the distribution) a Python 3.11 able to create virtual environments.
find_python() {
    if [[ -n "${python}" ]]; then
        python_is_supported "${python}" || die "${python} is not Python ${REQUIRED_PYTHON} with venv"
        return
    fi
    local candidate
    for candidate in python3.11 python3; do
        if command -v "${candidate}" >/dev/null && python_is_supported "$(command -v "${candidate}")"; then
            python="$(command -v "${candidate}")"
            return
        fi
    done
    case "$(os_family)" in
        debian) run apt-get install -y python3.11 python3.11-venv ;;
        rhel) run dnf install -y python3.11 ;;
        *) die "no Python ${REQUIRED_PYTHON} found; install it and pass --python" ;;
    esac
    python="$(command -v python3.11 || true)"
    if ((dry_run)) && [[ -z "${python}" ]]; then python="python3.11"; return; fi
    [[ -n "${python}" ]] || die "Python ${REQUIRED_PYTHON} still not found after installing it"
}

install_package() {
    local target
    if [[ -n "${wheel}" ]]; then
        target="$(cd "$(dirname "${wheel}")" && pwd)/$(basename "${wheel}")[agent]"
    else
        target="$(cd "${source_dir}" && pwd)[agent]"
    fi
    log "creating ${prefix} with ${python}"
    run "${python}" -m venv "${prefix}"
    run "${prefix}/bin/pip" install --quiet --upgrade pip
    run "${prefix}/bin/pip" install --quiet "${target}"
    run install -d -m 0755 "${prefix}/share/doc"
    if [[ -f "${SCRIPT_DIR}/../docs/agent.md" ]]; then
        run install -m 0644 "${SCRIPT_DIR}/../docs/agent.md" "${prefix}/share/doc/agent.md"
    fi
}

# Returns 0 when a new configuration was installed from the example (it must be edited before use).
install_config() {
    run install -d -m 0750 "${config_dir}"
    run install -m 0640 "${SCRIPT_DIR}/agent.example.yaml" "${config_dir}/agent.yaml.example"
    if [[ -e "${config_dir}/agent.yaml" ]]; then
        log "keeping the existing ${config_dir}/agent.yaml"
        return 1
    fi
    run install -m 0640 "${SCRIPT_DIR}/agent.example.yaml" "${config_dir}/agent.yaml"
    return 0
}

install_unit() {
    run install -m 0644 "${SCRIPT_DIR}/systemd/${UNIT_NAME}" "${unit_dir}/${UNIT_NAME}"
    run systemctl daemon-reload
    run systemctl enable "${UNIT_NAME}"
}

main() {
    parse_arguments "$@"
    if ((!dry_run)) && ((EUID != 0)); then die "run as root (or with --dry-run)"; fi
    log "OS family: $(os_family)"
    find_python
    install_package
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
