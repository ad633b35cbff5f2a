// A vCenter simulator for the tests: govmomi's simulator library (Debian's
// golang-github-vmware-govmomi-dev) serving vim25 SOAP at /sdk on 127.0.0.1.
//
// It reads the one account it accepts from VCSIM_USERNAME and VCSIM_PASSWORD (never from the
// command line), prints one JSON line {"url", "datastore"} once it listens, and stops on SIGTERM,
// removing the datastore directories it made (under $TMPDIR).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "host:port to serve on")
	vms := flag.Int("vms", 2, "virtual machines per host")
	flag.Parse()

	model := simulator.VPX()
	model.Machine = *vms
	// VMs start powered off, as machines the agent has not yet started do.
	model.Autostart = false
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	defer model.Remove()

	model.Service.Listen = &url.URL{
		Host: *listen,
		User: url.UserPassword(os.Getenv("VCSIM_USERNAME"), os.Getenv("VCSIM_PASSWORD")),
	}
	server := model.Service.NewServer()
	defer server.Close()

	ds := simulator.Map.Any("Datastore").(*simulator.Datastore)
	line, _ := json.Marshal(map[string]string{
		"url":       server.URL.Scheme + "://" + server.URL.Host + server.URL.Path,
		"datastore": ds.Info.GetDatastoreInfo().Url,
		"name":      ds.Name,
	})
	fmt.Println(string(line))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
