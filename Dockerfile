# Multi-stage build: static binaries (fixtures are embedded) on tiny non-root images.
#   docker build -t smartcar-sandbox .                                   the sandbox (default)
#   docker build --target tutorial-backend -t smartcar-tutorial-backend .  the tutorial backend
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/smartcar-sandbox ./cmd/smartcar-sandbox && \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/tutorial-backend ./cmd/tutorial-backend

FROM gcr.io/distroless/static-debian12:nonroot AS tutorial-backend
COPY --from=build /out/tutorial-backend /tutorial-backend
ENV TUTORIAL_ADDR=0.0.0.0:8000
EXPOSE 8000
USER nonroot:nonroot
ENTRYPOINT ["/tutorial-backend"]

# The default target (last): the sandbox.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/smartcar-sandbox /smartcar-sandbox
# Listen on every interface inside the container; publish with -p 8080:8080.
ENV SANDBOX_ADDR=0.0.0.0:8080
EXPOSE 8080
USER nonroot:nonroot
# -healthcheck asks GET /readyz on the listener (fixtures loaded, not stopping).
HEALTHCHECK --interval=10s --timeout=2s --start-period=2s --retries=3 CMD ["/smartcar-sandbox", "-healthcheck"]
ENTRYPOINT ["/smartcar-sandbox"]
