#!/usr/bin/env bash
# Installs the Debian 12 packages Firmo needs, if any is missing. Idempotent and quiet when
# everything is present. Needs root (or sudo) only to install.
#
#   scripts/install-deps.sh run    what building and running `firmo` needs (`make run`)
#   scripts/install-deps.sh        that, and what the tests, fuzzers and benchmarks need
set -euo pipefail

scope=${1:-all}
case "$scope" in
  run|all) ;;
  *) echo "usage: $0 [run|all]" >&2; exit 2 ;;
esac

# Building and running the binary.
packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config
  # libraries
  libboost-dev libboost-system-dev libqpdf-dev libssl-dev libsqlite3-dev libpq-dev
  nlohmann-json3-dev libexpected-dev libtomlplusplus-dev libkainjow-mustache-dev
  libqrencode-dev libpng-dev libcurl4-openssl-dev zlib1g-dev
  # message catalogues (ICU MessageFormat: plurals), dates per language in named time zones
  # (with the system's tzdata); a phone number's country, for the signer's time zone
  libicu-dev tzdata libphonenumber-dev
  # the command line (CLI11, header-only)
  libcli11-dev
  # PDF signing: the PDF/A appearance font; a CA key in a PKCS#11 token
  fonts-urw-base35 libengine-pkcs11-openssl
  # the README's first session talks to the server with curl
  curl
  # staff passwords of the sender portal (Argon2id)
  libsodium-dev
  # the sender portal's optional TOTP second factor (RFC 6238 codes: OATH Toolkit)
  liboath-dev
)
if [ "$scope" = all ]; then
  packages+=(
    # fuzzers (clang, libFuzzer) and the lint of changed files (scripts/clang-tidy-changed.py)
    clang libclang-rt-14-dev clang-tidy-14 git
    # tests and benchmarks
    libgtest-dev libgmock-dev libbenchmark-dev python3 wrk
    # bench/api_bench.sh: nginx answering a fixed 200 is the HTTP baseline (its own config)
    nginx-light
    # the API contract test reads docs/openapi.yaml (converted to JSON by python3-yaml)
    python3-yaml
    # bench/store_bench: SOCI beside our storage layer (the comparison in docs/PERFORMANCE.md)
    libsoci-dev
    qpdf poppler-utils ghostscript libnss3-tools openssl time bc
    # verification against real-world PDFs nobody on the project wrote (bench/verify_corpus.py):
    # MuPDF as a second independent validator, and documentation PDFs as the corpus
    mupdf-tools ghostscript-doc texlive-latex-base-doc texlive-latex-recommended-doc
    # a CA key in a PKCS#11 token: SoftHSM2 and its tool
    softhsm2 opensc
    # PostgreSQL contract tests: a private throw-away cluster (scripts/with-postgres.sh)
    postgresql
    # browser tests: headless chromium (driven by playwright-core); a real SMTP server on
    # loopback (aiosmtpd); QR codes checked by an independent decoder (zbarimg)
    chromium python3-aiosmtpd zbar-tools
  )
fi
# node and npm install the portal's pdf.js (run) and the browser tests' packages. Debian's only
# if the commands are missing: a node from elsewhere (e.g. NodeSource's `nodejs`, which
# conflicts with Debian's `npm` package) must not be replaced.
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
