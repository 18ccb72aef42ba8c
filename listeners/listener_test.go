package listeners

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/linkproxy/linkproxy/conf"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func start(t *testing.T, base int) (*Listener, chan *Conn) {
	t.Helper()
	l := New(conf.Listener{
		Name: "EXTERNAL", Listen: "127.0.0.1:" + strconv.Itoa(freePort(t)),
		AdvertisedHost: "proxy.example", SecurityProtocol: "PLAINTEXT", BrokerPortBase: base,
	}, hclog.NewNullLogger())
	conns := make(chan *Conn, 4)
	if err := l.Start(func(c *Conn) { conns <- c }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close()
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	return l, conns
}

func accept(t *testing.T, addr string, conns chan *Conn) *Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	select {
	case got := <-conns:
		return got
	case <-time.After(5 * time.Second):
		t.Fatal("no connection handed out")
		return nil
	}
}

func TestConnectionsAreBoundToListenerAndNode(t *testing.T) {
	base := freePort(t)
	l, conns := start(t, base)

	c := accept(t, l.BootstrapAddr(), conns)
	if c.Listener.Name() != "EXTERNAL" || c.Kind != Forward || c.NodeID != Bootstrap {
		t.Fatalf("bootstrap conn: %s %s %d", c.Listener.Name(), c.Kind, c.NodeID)
	}

	host, port, ok := l.Endpoint(0) // binds node 0's port on first use
	if !ok || host != "proxy.example" || int(port) != base {
		t.Fatalf("Endpoint(0) = %s:%d %v, want proxy.example:%d", host, port, ok, base)
	}
	c = accept(t, "127.0.0.1:"+strconv.Itoa(base), conns)
	if c.NodeID != 0 {
		t.Fatalf("node port conn bound to node %d", c.NodeID)
	}
	if err := l.EnsureBroker(0); err != nil {
		t.Fatalf("EnsureBroker on a bound node: %v", err)
	}
}

func TestBrokerPortUnavailable(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	base := taken.Addr().(*net.TCPAddr).Port
	l, _ := start(t, base)
	if err := l.EnsureBroker(0); err == nil {
		t.Fatal("bound a port that is taken")
	}
	if _, _, ok := l.Endpoint(0); ok {
		t.Fatal("endpoint handed out for a broker without a port")
	}
	if _, _, ok := l.Endpoint(70000); ok {
		t.Fatal("endpoint handed out beyond port 65535")
	}
	// Once the port is free, the next use binds it.
	taken.Close()
	if _, _, ok := l.Endpoint(0); !ok {
		t.Fatal("port not bound after it was freed")
	}
}

func TestKindString(t *testing.T) {
	if Forward.String() != "forward" || Reverse.String() != "reverse" {
		t.Fatal(Forward.String(), Reverse.String())
	}
}
