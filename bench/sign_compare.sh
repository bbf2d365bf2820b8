#!/usr/bin/env bash
# Puts Firmo's signing throughput beside an independent signer and the crypto limit, on the
# same documents:
#   - bench/sign_bench (Firmo, ECDSA P-256 and RSA-3072 signer keys, one core);
#   - `pdfsig -add-signature` (poppler + NSS, RSA-3072; poppler 22.12 cannot add
#     ETSI.CAdES.detached signatures, so it writes adbe.pkcs7.detached, and it fails about
#     half the time with ECDSA keys, so only RSA is compared);
#   - `openssl speed` for the key types and SHA-256 over 1 MiB blocks.
# Usage: bench/sign_compare.sh [path/to/sign_bench] [sizes, default 100k,1m,50m] [runs, default 5]
# Needs: pdfsig (poppler-utils), certutil and pk12util (libnss3-tools), openssl, GNU time.
set -euo pipefail

bench=${1:-build/release/bench/sign_bench}
sizes=${2:-100k,1m,50m}
runs=${3:-5}
[[ -x "$bench" ]] || { echo "no sign_bench at $bench (build the release preset)" >&2; exit 2; }
for tool in pdfsig certutil pk12util openssl; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done
timer=()
[[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f '%e %M')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== Firmo (sign_bench) =="
"$bench" --key-type ecdsa-p256 --sizes "$sizes"
"$bench" --key-type rsa-3072 --sizes "$sizes"

echo "== pdfsig -add-signature (RSA-3072, adbe.pkcs7.detached) =="
openssl req -x509 -newkey rsa:3072 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 2 -subj "/CN=Bench Signer" -addext "keyUsage=critical,nonRepudiation,digitalSignature" \
  2>/dev/null
openssl pkcs12 -export -inkey "$work/key.pem" -in "$work/cert.pem" -name bench \
  -passout pass:x -out "$work/key.p12"
mkdir "$work/nss"
certutil -N -d "sql:$work/nss" --empty-password
pk12util -i "$work/key.p12" -d "sql:$work/nss" -W x >/dev/null
IFS=, read -ra size_list <<<"$sizes"
for size in "${size_list[@]}"; do
  "$bench" --write-pdf "$size" "$work/in-$size.pdf"
  total=0
  peak=0
  for ((i = 0; i < runs; i++)); do
    rm -f "$work/out.pdf"
    start=$(date +%s.%N)
    if ((${#timer[@]})); then
      stats=$("${timer[@]}" pdfsig -nssdir "sql:$work/nss" -add-signature -nick bench \
        "$work/in-$size.pdf" "$work/out.pdf" 2>&1 >/dev/null | tail -1)
      kb=${stats##* }
      ((kb > peak)) && peak=$kb
    else
      pdfsig -nssdir "sql:$work/nss" -add-signature -nick bench "$work/in-$size.pdf" \
        "$work/out.pdf" >/dev/null 2>&1
    fi
    end=$(date +%s.%N)
    total=$(echo "$total + $end - $start" | bc -l)
  done
  printf 'pdfsig size=%s bytes=%s sigs_per_s=%.1f ms_per_sig=%.1f peak_rss_mb=%.1f\n' \
    "$size" "$(stat -c %s "$work/in-$size.pdf")" "$(echo "$runs / $total" | bc -l)" \
    "$(echo "1000 * $total / $runs" | bc -l)" "$(echo "$peak / 1024" | bc -l)"
done

echo "== openssl speed (one core) =="
openssl speed -seconds 2 ecdsap256 rsa3072 2>/dev/null | grep -E "^ *(256 bits ecdsa|rsa 3072)"
openssl speed -seconds 2 -bytes 1048576 -evp sha256 2>/dev/null | tail -1
