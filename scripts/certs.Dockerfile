# One-shot image that makes the private CA and the servers' certificates (docker-compose.yml,
# service `certs`). The build context is the repository root.
FROM alpine:3.20
RUN apk add --no-cache openssl
COPY scripts/make-certs.sh /usr/local/bin/make-certs
ENTRYPOINT ["sh", "/usr/local/bin/make-certs"]
