#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Install the Canh Gác collector pipeline and API on a SOC host (Debian/Ubuntu or RHEL family).
#
#   sudo deploy/install-collector.sh --source /path/to/checkout                 # one collector + the API
#   sudo deploy/install-collector.sh --wheel dist/canhgac-0.1.0-py3-none-any.whl --instances 4 --no-api
#   deploy/install-collector.sh --source . --dry-run                            # print, change nothing
#
# Creates the system user `canhgac`, a virtual environment in /opt/canhgac-collector with the package's
# [collector] extra, the Sigma rules in /usr/share/canhgac/rules, the example configuration as
# /etc/canhgac/collector.yaml (never overwriting an existing one; root:canhgac 0640), and the systemd
# units (canhgac-collector.service, or canhgac-collector@1..N with --instances N; canhgac-api.service).
# Services are started only when the configuration loads and is not the untouched example.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly SCRIPT_NAME="install-collector"
readonly SERVICE_USER="canhgac"

prefix="/opt/canhgac-collector"
config_dir="/etc/canhgac"
unit_dir="/etc/systemd/system"
rules_dir="/usr/share/canhgac/rules"
wheel=""
source_dir=""
python=""
dry_run=0
start=1
api=1
instances=0
units=()

# shellcheck source=install-lib.sh
. "${SCRIPT_DIR}/install-lib.sh"

usage() {
    cat <<EOT
Usage: $(basename "$0") (--wheel FILE | --source DIR) [options]

  --wheel FILE      install this canhgac wheel
  --source DIR      install from this source tree (the directory holding pyproject.toml)
  --prefix DIR      virtual environment location (default: ${prefix})
  --python PATH     Python ${REQUIRED_PYTHON} interpreter to use (default: found on PATH, else installed)
  --instances N     run N collector processes on this host (canhgac-collector@1..N); default: one
                    canhgac-collector.service. Each is one member of the consumer group.
  --no-api          do not install the API service on this host
  --no-start        install and enable, but do not start
  --dry-run         print the commands instead of running them
  -h, --help        this text
EOT
}

parse_arguments() {
    while (($#)); do
        case "$1" in
            --wheel) wheel="${2:?--wheel needs a file}"; shift 2 ;;
            --source) source_dir="${2:?--source needs a directory}"; shift 2 ;;
            --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
            --python) python="${2:?--python needs a path}"; shift 2 ;;
            --instances) instances="${2:?--instances needs a number}"; shift 2 ;;
            --no-api) api=0; shift ;;
            --no-start) start=0; shift ;;
            --dry-run) dry_run=1; shift ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; die "unknown argument: $1" ;;
        esac
    done
    check_source
    [[ "${instances}" =~ ^[0-9]+$ ]] || die "--instances needs a number, got ${instances}"
    ((instances <= 64)) || die "--instances ${instances}: more than 64 processes on one host is a mistake"
}

# The system user the services run as; it owns nothing but what systemd gives it.
create_user() {
    if id -u "${SERVICE_USER}" >/dev/null 2>&1; then
        log "user ${SERVICE_USER} exists"
        return
    fi
    local nologin
    nologin="$(command -v nologin || echo /usr/sbin/nologin)"
    run useradd --system --user-group --no-create-home --home-dir /var/lib/canhgac-collector \
        --shell "${nologin}" --comment "Canh Gac collector" "${SERVICE_USER}"
}

install_rules() {
    local from="${SCRIPT_DIR}/../rules"
    if [[ -n "${source_dir}" ]]; then from="${source_dir}/rules"; fi
    [[ -d "${from}/sigma" ]] || die "no rules at ${from}/sigma: run from a checkout, or use --source"
    run install -d -m 0755 "${rules_dir}"
    run cp -R --no-preserve=ownership "${from}/." "${rules_dir}/"
    run chmod -R u=rwX,go=rX "${rules_dir}"
}

# Returns 0 when a new configuration was installed from the example (it must be edited before use).
install_config() {
    run install -d -m 0750 -o root -g "${SERVICE_USER}" "${config_dir}"
    # Secrets and certificates (0640 root:canhgac files) and the SOC's own rules (read by the services).
    run install -d -m 0750 -o root -g "${SERVICE_USER}" "${config_dir}/secrets" "${config_dir}/tls"
    run install -d -m 0755 "${config_dir}/rules.d"
    run install -m 0640 -o root -g "${SERVICE_USER}" "${SCRIPT_DIR}/collector.example.yaml" \
        "${config_dir}/collector.yaml.example"
    if [[ -e "${config_dir}/collector.yaml" ]]; then
        log "keeping the existing ${config_dir}/collector.yaml"
        return 1
    fi
    run install -m 0640 -o root -g "${SERVICE_USER}" "${SCRIPT_DIR}/collector.example.yaml" \
        "${config_dir}/collector.yaml"
    return 0
}

# The units this host runs, in the order they are enabled.
wanted_units() {
    local index
    if ((instances > 0)); then
        for ((index = 1; index <= instances; index++)); do printf 'canhgac-collector@%d.service\n' "${index}"; done
    else
        echo canhgac-collector.service
    fi
    if ((api)); then echo canhgac-api.service; fi
}

install_units() {
    local unit
    for unit in canhgac-collector.service canhgac-collector@.service canhgac-api.service; do
        run install -m 0644 "${SCRIPT_DIR}/systemd/${unit}" "${unit_dir}/${unit}"
    done
    run systemctl daemon-reload
    mapfile -t units < <(wanted_units)
    run systemctl enable "${units[@]}"
}

check_config() {
    run "${prefix}/bin/python" -c \
        'import sys; from pathlib import Path; from collector.config import load_settings; load_settings(Path(sys.argv[1]))' \
        "${config_dir}/collector.yaml"
    run "${prefix}/bin/canhgac-collector" rules --rules "${rules_dir}/sigma" "${config_dir}/rules.d" >/dev/null
}

main() {
    parse_arguments "$@"
    if ((!dry_run)) && ((EUID != 0)); then die "run as root (or with --dry-run)"; fi
    log "OS family: $(os_family), packages with $(package_tool)"
    find_python
    create_user
    install_package collector
    install_doc operations.md
    install_doc collector.md
    install_rules
    relabel "${prefix}" "${rules_dir}"
    local fresh_config=0
    if install_config; then fresh_config=1; fi
    install_units
    if ((fresh_config)); then
        log "edit ${config_dir}/collector.yaml (kafka, elasticsearch, detection.rules; docs/operations.md)"
        log "  and start: systemctl start $(wanted_units | tr '\n' ' ')"
        return
    fi
    check_config
    if ((!start)); then
        log "installed and enabled; not started (--no-start)"
        return
    fi
    run systemctl restart "${units[@]}"
    log "started; follow with: journalctl -f $(wanted_units | sed 's/^/-u /' | tr '\n' ' ')"
}

main "$@"
