package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/juju/errors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seedworks/dependency"
	"github.com/seedworks/dependency/introspect"
	enginemetrics "github.com/seedworks/dependency/metrics"
)

// introspection serves the engine's page, report, graph, probes and status
// over HTTP on loopback, with introspect.Handler, and its Prometheus
// metrics at /metrics. It is outside the engine, like a
// supervisor's debug endpoint, so that its address stays the same however
// often the workers restart, and it keeps answering while the engine stops.
type introspection struct {
	server   *http.Server
	listener net.Listener
	done     chan struct{} // closed when Serve has returned
}

// serveIntrospection listens on 127.0.0.1:port (0: a port the kernel picks)
// and serves engine's introspection there until close.
func serveIntrospection(engine dependency.Engine, port int) (*introspection, error) {
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, errors.Annotate(err, "cannot serve introspection")
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(enginemetrics.NewCollector(engine, "agent", nil))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	mux.Handle("/", introspect.Handler(engine))
	s := &introspection{
		server:   &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		listener: listener,
		done:     make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.server.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
			logger.Errorf("introspection server stopped: %v", err)
		}
	}()
	return s, nil
}

// URL is the address of the page, for people to open.
func (s *introspection) URL() string {
	return "http://" + s.listener.Addr().String() + "/"
}

// close stops serving and waits for the server's goroutine to end.
func (s *introspection) close() {
	_ = s.server.Close()
	<-s.done
}
