#!/usr/bin/env bash
# Install ZTMM Workbench from a PyInstaller one-folder bundle, with its menu entry,
# icons and the .ztmm file type; or remove it again. See packaging/linux/README.md.
#
#   install.sh                      for the current user, under ~/.local
#   sudo install.sh --system        for every user, under /usr/local
#   install.sh --prefix DIR         under DIR (DIR/lib, DIR/bin, DIR/share)
#   install.sh --bundle DIR         install this bundle (default: dist/ztmm-workbench)
#   install.sh --uninstall          remove what an install with the same prefix put there
#
# DESTDIR=/some/stage install.sh --prefix /usr writes the files under /some/stage/usr
# but points the links and the menu entry at /usr (for building distribution
# packages), and leaves the system's caches alone.

set -euo pipefail

readonly APP_ID="ztmm-workbench"
readonly MIME_TYPE="application/x-ztmm-engagement"
readonly DOCUMENT_ICON="application-x-ztmm-engagement"
readonly EXECUTABLES=(ztmm-desktop ztmm)

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
repo_dir="$(cd -- "${script_dir}/../.." && pwd -P)"

usage() {
    sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

fail() {
    printf 'install.sh: error: %s\n' "$*" >&2
    exit 1
}

say() {
    printf '%s\n' "$*"
}

# The files are found beside this script (a release archive holds install.sh, the
# desktop and MIME files, icons/ and the ztmm-workbench/ bundle side by side) or,
# in a source checkout, where the repository keeps them.
first_existing() {
    local candidate
    for candidate in "$@"; do
        if [[ -e "${candidate}" ]]; then
            printf '%s\n' "${candidate}"
            return 0
        fi
    done
    printf '%s\n' "$1"
}

prefix=""
bundle=""
action="install"
while (($# > 0)); do
    case "$1" in
        --user) prefix="" ;;
        --system) prefix="/usr/local" ;;
        --prefix)
            (($# >= 2)) || fail "--prefix needs a folder"
            prefix="$2"
            shift
            ;;
        --prefix=*) prefix="${1#--prefix=}" ;;
        --bundle)
            (($# >= 2)) || fail "--bundle needs a folder"
            bundle="$2"
            shift
            ;;
        --bundle=*) bundle="${1#--bundle=}" ;;
        --uninstall) action="uninstall" ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) fail "unknown option '$1' (see --help)" ;;
    esac
    shift
done

if [[ -z "${prefix}" ]]; then
    [[ -n "${HOME:-}" ]] || fail "HOME is not set: pass --prefix DIR"
    prefix="${HOME}/.local"
fi
[[ "${prefix}" == /* ]] || fail "the prefix must be an absolute path (got '${prefix}')"
case "${prefix}" in
    *[\"\`\$\\%]* | *$'\n'*) fail "the prefix must not contain \" \` \$ \\ % or a line break: '${prefix}'" ;;
esac
prefix="${prefix%/}"
[[ -n "${prefix}" ]] || fail "the prefix cannot be / (try --system for /usr/local)"
destdir="${DESTDIR:-}"
destdir="${destdir%/}"

# Final locations (what the installed files refer to) ...
lib_dir="${prefix}/lib/${APP_ID}"
bin_dir="${prefix}/bin"
share_dir="${prefix}/share"
# ... and where the files are written now.
root="${destdir}${prefix}"
stage_lib="${destdir}${lib_dir}"
stage_bin="${destdir}${bin_dir}"
stage_share="${destdir}${share_dir}"
applications_dir="${stage_share}/applications"
mime_dir="${stage_share}/mime"
icons_dir="${stage_share}/icons/hicolor"

desktop_file="${script_dir}/${APP_ID}.desktop"
mime_file="${script_dir}/${APP_ID}-mime.xml"
icons_source="$(first_existing "${script_dir}/icons/hicolor" "${repo_dir}/resources/icons/hicolor")"
if [[ -z "${bundle}" ]]; then
    bundle="$(first_existing "${script_dir}/${APP_ID}" "${repo_dir}/dist/${APP_ID}")"
fi

# Our icons under a hicolor folder ($1), relative to it: <size>/<context>/<name>.<png|svg>.
icon_files() {
    local theme="$1" folder context name file
    for folder in "${theme}"/*/; do
        [[ -d "${folder}" ]] || continue
        folder="$(basename -- "${folder}")"
        for context in apps mimetypes; do
            for name in "${APP_ID}" "${DOCUMENT_ICON}"; do
                for file in "${theme}/${folder}/${context}/${name}".{png,svg}; do
                    [[ -f "${file}" ]] && printf '%s\n' "${folder}/${context}/$(basename -- "${file}")"
                done
            done
        done
    done
    return 0
}

# A command to run only when it is installed, and only for a real install (not a
# DESTDIR stage: the package manager's own hooks refresh the caches there).
refresh() {
    [[ -z "${destdir}" ]] || return 0
    command -v "$1" >/dev/null 2>&1 || return 0
    "$@" >/dev/null 2>&1 || say "note: '$*' failed; the menu or file icons may update only after logging in again"
}

refresh_caches() {
    if [[ -d "${mime_dir}/packages" ]]; then
        refresh update-mime-database "${mime_dir}"
    fi
    if [[ -d "${applications_dir}" ]]; then
        refresh update-desktop-database --quiet "${applications_dir}"
    fi
    # A stale icon cache hides new icons, so update one that exists; never create one.
    if [[ -f "${icons_dir}/icon-theme.cache" ]]; then
        refresh gtk-update-icon-cache --quiet --force --ignore-theme-index "${icons_dir}"
    fi
}

# The Exec= command of the menu entry: the installed link, quoted as the Desktop
# Entry Specification asks when the path holds a space or another reserved character.
exec_command() {
    local path="${bin_dir}/ztmm-desktop"
    if [[ "${path}" =~ [[:space:]\'\>\<~\|\&\;\*\?\#\(\)] ]]; then
        printf '"%s"' "${path}"
    else
        printf '%s' "${path}"
    fi
}

# Whether bin/<name> is the link an earlier install made.
ours() {
    [[ -L "${stage_bin}/$1" && "$(readlink -- "${stage_bin}/$1")" == "${lib_dir}/$1" ]]
}

install_desktop_file() {
    local target="$1" line command
    command="$(exec_command)"
    mkdir -p -- "$(dirname -- "${target}")"
    while IFS= read -r line || [[ -n "${line}" ]]; do
        case "${line}" in
            "Exec=ztmm-desktop "*) line="Exec=${command} ${line#"Exec=ztmm-desktop "}" ;;
            "TryExec=ztmm-desktop") line="TryExec=${bin_dir}/ztmm-desktop" ;;
        esac
        printf '%s\n' "${line}"
    done <"${desktop_file}" >"${target}.tmp"
    chmod 0644 "${target}.tmp"
    mv -f -- "${target}.tmp" "${target}"
}

do_install() {
    [[ -d "${bundle}" ]] || fail "no bundle at '${bundle}': build it first (pyinstaller packaging/ztmm-workbench.spec) or pass --bundle DIR"
    local name
    for name in "${EXECUTABLES[@]}"; do
        [[ -f "${bundle}/${name}" && -x "${bundle}/${name}" ]] || fail "'${bundle}' is not a ZTMM Workbench bundle: it has no executable '${name}'"
    done
    [[ -f "${desktop_file}" ]] || fail "missing ${desktop_file}"
    [[ -f "${mime_file}" ]] || fail "missing ${mime_file}"
    [[ -d "${icons_source}" ]] || fail "missing the icons folder ${icons_source}"
    bundle="$(cd -- "${bundle}" && pwd -P)"
    case "${stage_lib}/" in
        "${bundle}/"*) fail "the bundle '${bundle}' is the install folder itself" ;;
    esac
    for name in "${EXECUTABLES[@]}"; do
        if [[ -e "${stage_bin}/${name}" || -L "${stage_bin}/${name}" ]] && ! ours "${name}"; then
            fail "${stage_bin}/${name} exists and was not installed by this script; remove it or choose another --prefix"
        fi
    done

    say "Installing ZTMM Workbench into ${root}"
    # The program: copied beside the old one, then swapped in.
    mkdir -p -- "$(dirname -- "${stage_lib}")"
    rm -rf -- "${stage_lib}.new"
    cp -RP -- "${bundle}" "${stage_lib}.new"
    rm -rf -- "${stage_lib}"
    mv -- "${stage_lib}.new" "${stage_lib}"

    mkdir -p -- "${stage_bin}"
    for name in "${EXECUTABLES[@]}"; do
        ln -sfn -- "${lib_dir}/${name}" "${stage_bin}/${name}"
    done

    install_desktop_file "${applications_dir}/${APP_ID}.desktop"

    mkdir -p -- "${mime_dir}/packages"
    cp -- "${mime_file}" "${mime_dir}/packages/${APP_ID}.xml"
    chmod 0644 "${mime_dir}/packages/${APP_ID}.xml"

    local icon icons
    mapfile -t icons < <(icon_files "${icons_source}")
    ((${#icons[@]} > 0)) || fail "no icons in ${icons_source}"
    for icon in "${icons[@]}"; do
        mkdir -p -- "$(dirname -- "${icons_dir}/${icon}")"
        cp -- "${icons_source}/${icon}" "${icons_dir}/${icon}"
        chmod 0644 "${icons_dir}/${icon}"
    done

    refresh_caches
    say "Installed. Start it from the applications menu (ZTMM Workbench) or with: ${bin_dir}/ztmm-desktop"
    say ".ztmm files (${MIME_TYPE}) open in it."
    if [[ -z "${destdir}" && ":${PATH:-}:" != *":${bin_dir}:"* ]]; then
        say "note: ${bin_dir} is not on your PATH; the 'ztmm' command needs its full path (${bin_dir}/ztmm)"
    fi
}

do_uninstall() {
    say "Removing ZTMM Workbench from ${root}"
    local name
    for name in "${EXECUTABLES[@]}"; do
        # Only our own links: never a same-named command installed by something else.
        if ours "${name}"; then
            rm -f -- "${stage_bin}/${name}"
        fi
    done
    rm -rf -- "${stage_lib}" "${stage_lib}.new"
    rm -f -- "${applications_dir}/${APP_ID}.desktop" "${mime_dir}/packages/${APP_ID}.xml"

    local icon icons
    mapfile -t icons < <(icon_files "${icons_dir}")
    for icon in "${icons[@]}"; do
        rm -f -- "${icons_dir}/${icon}"
        rmdir -- "$(dirname -- "${icons_dir}/${icon}")" 2>/dev/null || true
        rmdir -- "$(dirname -- "$(dirname -- "${icons_dir}/${icon}")")" 2>/dev/null || true
    done

    refresh_caches
    say "Removed. Your engagement files are untouched."
}

case "${action}" in
    install) do_install ;;
    uninstall) do_uninstall ;;
esac
