# Multi-stage build: a static binary (fixtures are embedded) on a tiny non-root image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/smartcar-sandbox ./cmd/smartcar-sandbox

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/smartcar-sandbox /smartcar-sandbox
# Listen on every interface inside the container; publish with -p 8080:8080.
ENV SANDBOX_ADDR=0.0.0.0:8080
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=10s --timeout=2s --start-period=2s --retries=3 CMD ["/smartcar-sandbox", "-healthcheck"]
ENTRYPOINT ["/smartcar-sandbox"]
