package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/sessionauth/session/otelsession"
)

// newMetrics returns a Recorder of the library's events (sign-ins, refused
// tokens, store calls, throttle refusals, token mints) as OpenTelemetry
// metrics, and the handler that serves them in Prometheus's format at
// /metrics. Swap the exporter for OTLP to push them to a collector instead.
func newMetrics() (*otelsession.Recorder, http.Handler, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, err
	}
	rec, err := otelsession.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)))
	if err != nil {
		return nil, nil, err
	}
	return rec, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}
