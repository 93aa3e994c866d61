#!/usr/bin/env bash
# What the tests need besides Python packages: headless Chromium renders the HTML evaluation
# reports (tests/test_evaluate.py) and drives the web page of `seq2text serve` through
# chromium-driver (tests/test_serve.py); the Noto CJK fonts draw the Chinese of the poetry and
# couplet reports and plots.  Installs the Debian packages that are missing (as root, or with
# sudo), and nothing when all are there.
set -euo pipefail
missing=""
command -v chromium >/dev/null || missing="chromium"
command -v chromedriver >/dev/null || missing="$missing chromium-driver"
fc-list 2>/dev/null | grep -q "Noto Sans CJK" || missing="$missing fonts-noto-cjk"
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "error: the tests need$missing (Debian package names); install them with your system's packages" >&2
  exit 2
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "installing$missing (apt-get)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
