// Command ferretdb runs FerretDB v1.24.2 on its SQLite backend through the
// embeddable package, so Guardhouse gets a MongoDB wire-protocol server
// without Docker or a MongoDB binary (see FERRETDB.md for why not `go install`).
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
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	dataDir := flag.String("data", ".data/ferretdb", "directory holding one SQLite file per database")
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (keep it on loopback)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()

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
