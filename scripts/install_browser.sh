#!/usr/bin/env bash
# Browser tests need a real Chromium. Nothing may be downloaded from a browser
# vendor here, so this installs Debian's package when it is missing.
set -euo pipefail
# Chinese and emoji fonts too, or the Chinese UI and the emoji in the bot's replies
# (😊, 🤖) show as empty boxes (tests/e2e/test_browser.py draws them and checks).
have_fonts() {
  fc-list :lang=zh 2>/dev/null | grep -q . && fc-list 2>/dev/null | grep -qi "Noto Color Emoji"
}
if command -v chromium >/dev/null 2>&1 && have_fonts; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install_browser: need root or sudo to apt-get install chromium" >&2; exit 1; }
  SUDO=sudo
fi
PACKAGES="chromium fonts-noto-cjk fonts-noto-color-emoji fontconfig"
echo "==> installing Debian's $PACKAGES for the browser tests"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $PACKAGES >/dev/null 2>&1 \
  || { $SUDO apt-get update >/dev/null \
       && $SUDO apt-get install -y --no-install-recommends $PACKAGES >/dev/null; }
command -v chromium
