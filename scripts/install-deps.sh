#!/usr/bin/env bash
# Installs the Debian 12 packages Firmo needs to build, run and test, if any is missing.
# Idempotent and quiet when everything is present. Needs root (or sudo) only to install.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  # libraries
  libboost-dev libboost-system-dev libqpdf-dev libssl-dev libsqlite3-dev libpq-dev
  nlohmann-json3-dev libexpected-dev libtomlplusplus-dev libkainjow-mustache-dev
  libqrencode-dev libpng-dev libcurl4-openssl-dev zlib1g-dev
  # PDF signing: the PDF/A appearance font; a CA key in a PKCS#11 token (SoftHSM2 in tests)
  fonts-urw-base35 softhsm2 libengine-pkcs11-openssl opensc
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3 curl wrk
  qpdf poppler-utils ghostscript libnss3-tools openssl time bc
  # verification against real-world PDFs nobody on the project wrote (bench/verify_corpus.py):
  # MuPDF as a second independent validator, and documentation PDFs as the corpus
  mupdf-tools ghostscript-doc texlive-latex-base-doc texlive-latex-recommended-doc
  # PostgreSQL contract tests: a private throw-away cluster (scripts/with-postgres.sh)
  postgresql
  # browser tests: headless chromium (driven by playwright-core); a real SMTP server on
  # loopback (aiosmtpd); QR codes checked by an independent decoder (zbarimg)
  chromium python3-aiosmtpd zbar-tools
)
# node and npm install the portal's pdf.js and the browser tests' packages. Debian's only if the
# commands are missing: a node from elsewhere (e.g. NodeSource's `nodejs`, which conflicts with
# Debian's `npm` package) must not be replaced.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "run as root or install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
