// Command ferretdb runs FerretDB v1.24.2 on its SQLite backend through the
// embeddable package, so Guardhouse gets a MongoDB wire-protocol server
// without Docker or a MongoDB binary (see docs/operations.md for why not `go install`).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	dataDir := flag.String("data", ".data/ferretdb", "directory holding one SQLite file per database")
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (keep it on loopback)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	gcPercent := flag.Int("gc-percent", 400, "Go's GC target (GOGC); a non-empty GOGC environment variable wins")
	flag.Parse()

	// FerretDB decodes every document a query reads (docs/operations.md), so its live heap is
	// small and its garbage large: with Go's default of 100 the collector ran so often that a
	// login's database work cost ~14 ms of CPU against ~11 ms at 400 (resident memory ~59 MB
	// against ~91 MB in the bench): docs/benchmark.md, eleventh pass.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gcPercent)
	}

	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		log.Fatalf("ferretdb: data directory: %v", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		log.Fatalf("ferretdb: data directory: %v", err)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		log.Fatalf("ferretdb: -log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Logger:   logger,
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Handler:  "sqlite",
		// FerretDB wants a file: URL naming an existing directory with a trailing slash.
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(os.Stderr, "ferretdb: listening on %s, data in %s\n", *listen, dir)
	f.Run(ctx)
}
