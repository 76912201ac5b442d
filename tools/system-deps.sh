#!/usr/bin/env bash
# System packages the app and its tests need. Installs what is missing when
# run as root on a Debian-like system (CI, fresh machines); otherwise says what to install.
set -euo pipefail
# Qt even offscreen; then the real clients the deliverable tests read our files with:
# LibreOffice Calc (workbooks) and Writer (the Word report), poppler-utils (pdftotext, pdftoppm, pdffonts), qpdf and
# desktop-file-utils (desktop-file-validate checks the Linux menu entry), p7zip-full (7z opens our AES-encrypted zips). The two xcb libraries
# are linked by Qt's X11 plugin: make package copies them into the bundle for desktops that lack them.
# postgresql: the team-mode tests (issue 18) run a throw-away cluster of it (tests/support/pg.py);
# the Debian package's service is not used.
packages=(libegl1 libgl1 libglib2.0-0 libxkbcommon0 libfontconfig1 libdbus-1-3 fonts-dejavu-core
          libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils qpdf desktop-file-utils libxcb-icccm4 libxcb-keysyms1
          p7zip-full postgresql)
command -v dpkg-query >/dev/null 2>&1 || exit 0   # not Debian-like: nothing we can check
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: the app and its tests need these system packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
fi
