#!/bin/sh
# A private CA and one certificate per server, for TLS on every listener and mTLS between the
# servers. Needs only openssl. Makes what is missing and keeps what exists, so it can run at
# every start.
#
#   sh scripts/make-certs.sh CA_DIR OUT_DIR NAME...
#
# CA_DIR gets ca.key and ca.crt; keep ca.key there only (it can mint service identities).
# OUT_DIR/NAME/ gets ca.crt, tls.crt and tls.key, for TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE.
# Each certificate is for server and client use and names NAME, localhost, 127.0.0.1 and ::1:
# peers dial the servers by NAME, people and health checks by localhost.
# CERT_OWNER=uid:gid (optional) is given the files in OUT_DIR/NAME/.
#
# Local example:  sh scripts/make-certs.sh certs/ca certs localhost
set -eu

if [ "$#" -lt 3 ]; then
  echo "usage: $0 CA_DIR OUT_DIR NAME..." >&2
  exit 2
fi
ca_dir=$1
out_dir=$2
shift 2
umask 077
mkdir -p "$ca_dir" "$out_dir"

if [ ! -s "$ca_dir/ca.crt" ] || [ ! -s "$ca_dir/ca.key" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -subj "/CN=voting private CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$ca_dir/ca.key" -out "$ca_dir/ca.crt" 2>/dev/null
  echo "made CA $ca_dir/ca.crt"
fi

for name in "$@"; do
  dir=$out_dir/$name
  mkdir -p "$dir"
  # A certificate of another CA (the CA was remade) is remade too.
  if [ -s "$dir/tls.crt" ] && [ -s "$dir/tls.key" ] && openssl verify -CAfile "$ca_dir/ca.crt" "$dir/tls.crt" >/dev/null 2>&1; then
    cp "$ca_dir/ca.crt" "$dir/ca.crt"
    continue
  fi
  sans="DNS:$name"
  [ "$name" = localhost ] || sans="$sans,DNS:localhost"
  sans="$sans,IP:127.0.0.1,IP:::1"
  ext=$(mktemp)
  printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth,clientAuth" \
    "subjectAltName=$sans" >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
  openssl x509 -req -sha256 -days 825 -in "$dir/tls.csr" -CA "$ca_dir/ca.crt" -CAkey "$ca_dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$ext" -out "$dir/tls.crt" 2>/dev/null
  rm -f "$dir/tls.csr" "$ext"
  cp "$ca_dir/ca.crt" "$dir/ca.crt"
  echo "made $dir/tls.crt for $sans"
done

if [ -n "${CERT_OWNER:-}" ]; then
  for name in "$@"; do chown -R "$CERT_OWNER" "$out_dir/$name"; done
fi
# The certificates are public; the keys stay readable by their owner only.
for name in "$@"; do chmod 644 "$out_dir/$name/ca.crt" "$out_dir/$name/tls.crt"; done
