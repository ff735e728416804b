# Shared by install-agent.sh and install-collector.sh (sourced, not run): logging, --dry-run, the OS
# family, a Python 3.11 with venv, and the virtual environment with the package installed.
# The sourcing script sets: SCRIPT_NAME, dry_run, python, prefix, wheel, source_dir.
# shellcheck shell=bash disable=SC2154 # the variables above are the sourcing script's

readonly REQUIRED_PYTHON="3.11"

log() { printf '[%s] %s\n' "${SCRIPT_NAME}" "$*" >&2; }
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

# debian (Debian, Ubuntu and derivatives), rhel (RHEL, CentOS Stream, Rocky, Alma, Oracle, Fedora) or unknown.
os_family() {
    local id="" id_like=""
    if [[ -r "${OS_RELEASE:-/etc/os-release}" ]]; then
        # shellcheck disable=SC1090,SC1091 # the file is the system's, not part of this repository
        id="$(. "${OS_RELEASE:-/etc/os-release}" && printf '%s' "${ID:-}")"
        # shellcheck disable=SC1090,SC1091
        id_like="$(. "${OS_RELEASE:-/etc/os-release}" && printf '%s' "${ID_LIKE:-}")"
    fi
    case " ${id} ${id_like} " in
        *" debian "* | *" ubuntu "*) echo debian ;;
        *" rhel "* | *" fedora "* | *" centos "* | *" rocky "* | *" almalinux "* | *" ol "*) echo rhel ;;
        *) echo unknown ;;
    esac
}

# The distribution's package tool: apt-get, dnf or (older RHEL) yum.
package_tool() {
    case "$(os_family)" in
        debian) echo apt-get ;;
        rhel) if command -v dnf >/dev/null; then echo dnf; else echo yum; fi ;;
        *) echo none ;;
    esac
}

install_packages() {
    local tool
    tool="$(package_tool)"
    case "${tool}" in
        apt-get)
            run apt-get update -q
            run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
            ;;
        dnf | yum) run "${tool}" install -y "$@" ;;
        *) die "unknown distribution: install $* yourself" ;;
    esac
}

python_is_supported() {
    "$1" -c "import sys, venv, ensurepip; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)" 2>/dev/null
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
        debian) install_packages python3.11 python3.11-venv ;;
        # RHEL 8.8+/9.2+ ship python3.11 (venv and ensurepip included) in AppStream.
        rhel) install_packages python3.11 ;;
        *) die "no Python ${REQUIRED_PYTHON} found; install it and pass --python" ;;
    esac
    python="$(command -v python3.11 || true)"
    if ((dry_run)) && [[ -z "${python}" ]]; then python="python3.11"; return; fi
    [[ -n "${python}" ]] || die "Python ${REQUIRED_PYTHON} still not found after installing it"
}

check_source() {
    if [[ -n "${wheel}" && -n "${source_dir}" ]] || [[ -z "${wheel}" && -z "${source_dir}" ]]; then
        die "give exactly one of --wheel or --source"
    fi
    if [[ -n "${wheel}" && ! -f "${wheel}" ]]; then die "wheel not found: ${wheel}"; fi
    if [[ -n "${source_dir}" && ! -f "${source_dir}/pyproject.toml" ]]; then
        die "no pyproject.toml in ${source_dir}"
    fi
}

# Creates the virtual environment in ${prefix} and installs the package with the extra $1.
install_package() {
    local extra="$1" target
    if [[ -n "${wheel}" ]]; then
        target="$(cd "$(dirname "${wheel}")" && pwd)/$(basename "${wheel}")[${extra}]"
    else
        target="$(cd "${source_dir}" && pwd)[${extra}]"
    fi
    log "creating ${prefix} with ${python}"
    run "${python}" -m venv "${prefix}"
    run "${prefix}/bin/pip" install --quiet --upgrade pip
    run "${prefix}/bin/pip" install --quiet "${target}"
    run install -d -m 0755 "${prefix}/share/doc"
}

# Copies docs/$1 beside the installation when this script runs from a checkout.
install_doc() {
    if [[ -f "${SCRIPT_DIR}/../docs/$1" ]]; then
        run install -m 0644 "${SCRIPT_DIR}/../docs/$1" "${prefix}/share/doc/$1"
    fi
}

# On SELinux systems (RHEL), give the new files under /opt the labels of their location.
relabel() {
    if command -v restorecon >/dev/null && command -v selinuxenabled >/dev/null && selinuxenabled; then
        run restorecon -R "$@"
    fi
}
