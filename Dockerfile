# xaa-idp: a static binary on a distroless, non-root base.
#   docker build -t xaa-idp .
#   docker run --rm -p 127.0.0.1:8080:8080 xaa-idp      # the issuer http://127.0.0.1:8080
#   docker run --rm -p 127.0.0.1:9000:8080 -e XAA_IDP_ISSUER=http://127.0.0.1:9000 xaa-idp
# The address and the issuer are XAA_IDP_* variables, not flags of the
# command, so that -e (or a CI service container's env:) can set them; the
# issuer must be the URL the clients use (README, "Testing your client in CI").
# docker-compose.yml runs the whole demo stack.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/xaa-idp ./cmd/xaa-idp && mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/xaa-idp /usr/local/bin/xaa-idp
# --state-dir target, writable by the non-root user (distroless has no shell to mkdir).
COPY --from=build --chown=65532:65532 /out/state /state
USER nonroot:nonroot
EXPOSE 8080
# The issuer defaults to http://127.0.0.1:8080 (https:// with XAA_IDP_TLS=true).
ENV XAA_IDP_ADDR=0.0.0.0:8080
# healthcheck probes where XAA_IDP_ADDR says the IdP listens, over https
# with XAA_IDP_TLS=true (trusting the CA of XAA_IDP_STATE_DIR), whatever
# -e changes of them; not the issuer, the host's URL.
HEALTHCHECK --interval=10s --timeout=4s --start-period=2s --retries=3 \
  CMD ["/usr/local/bin/xaa-idp", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/xaa-idp"]
CMD ["serve"]
