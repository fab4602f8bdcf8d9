// Command ferretdb-local runs FerretDB 1.24 (MongoDB wire protocol, SQLite backend) on loopback.
//
// It embeds the library package instead of `go install`ing cmd/ferretdb, whose binary panics at
// start-up without a generated build/version/version.txt (upstream FerretDB#2982).
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (loopback only)")
	sqliteURL := flag.String("sqlite-url", "file:./?mode=memory", "SQLite URL: a directory ending in / or file:./?mode=memory")
	flag.Parse()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log.Printf("ferretdb listening on %s (sqlite %s)", *listen, *sqliteURL)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}
