#!/usr/bin/env bash
# A private certificate authority and the certificates mutual TLS to Temporal needs, for the
# compose stack's mTLS override (docker-compose.mtls.yml, docs/operations.md) and the tests:
#
#   ops/temporal-certs.sh DIR [FRONTEND_NAMES]
#
# DIR gets ca.crt (ca.key), frontend.crt/.key (the Temporal server, for FRONTEND_NAMES, default
# "temporal,localhost") and client.crt/.key (the workers, the CLI, the UI and admin tools). Keys
# are RSA 2048 and certificates last 365 days (DAYS). Existing files are never overwritten. In
# production, issue these from your own PKI instead.
set -euo pipefail
dir=${1:?usage: ops/temporal-certs.sh DIR [FRONTEND_NAMES]}
names=${2:-temporal,localhost}
days=${DAYS:-365}
mkdir -p "$dir"
cd "$dir"
for f in ca.crt frontend.crt client.crt; do
  if [ -e "$f" ]; then
    echo "$dir/$f exists: not overwriting (remove the folder's certificates to make new ones)" >&2
    exit 1
  fi
done
umask 077
san=$(echo "$names" | tr ',' '\n' | sed 's/^/DNS:/' | paste -sd, -)
openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -subj "/CN=adloop temporal CA" \
  -keyout ca.key -out ca.crt 2>/dev/null
sign() { # name, extensions
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%b' "$2" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign frontend "subjectAltName=$san\nextendedKeyUsage=serverAuth,clientAuth\n"
sign client "extendedKeyUsage=clientAuth\n"
rm -f ca.srl
# Certificates are public; keys stay readable by their owner only (the containers' users read
# them through the mounted folder: see docs/operations.md).
chmod 644 ca.crt frontend.crt client.crt
echo "certificates in $dir: ca.crt, frontend.crt/.key ($names), client.crt/.key"
