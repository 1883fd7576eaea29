// compose-check loads Compose files with compose-go, the loader `docker compose` itself uses:
// schema validation (unknown keys, wrong types), interpolation and semantic checks (depends_on,
// volumes and networks that exist). Exit 1 with the loader's message on the first invalid file.
//
//	go run ./scripts/tools/compose-check deploy/compose/compose.yaml
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE...")
		os.Exit(2)
	}
	for _, file := range os.Args[1:] {
		opts, err := cli.NewProjectOptions([]string{file}, cli.WithOsEnv, cli.WithDotEnv)
		if err == nil {
			var p interface{ ServiceNames() []string }
			project, lerr := opts.LoadProject(context.Background())
			err = lerr
			if err == nil {
				p = project
				fmt.Printf("%s: valid (services: %v)\n", file, p.ServiceNames())
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
			os.Exit(1)
		}
	}
}
