//go:build unix

package clientprops

import (
	"context"
	"net"
	"syscall"
)

// control sets the buffer sizes before connect, as Kafka does: the receive
// buffer bounds the TCP window scale, which is fixed by the handshake.
func (d *dialer) control(_ context.Context, _, _ string, c syscall.RawConn) error {
	if d.sendBuf <= 0 && d.recvBuf <= 0 {
		return nil
	}
	var serr error
	if err := c.Control(func(fd uintptr) {
		if d.sendBuf > 0 {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, d.sendBuf)
		}
		if serr == nil && d.recvBuf > 0 {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, d.recvBuf)
		}
	}); err != nil {
		return err
	}
	return serr
}

func (*dialer) tune(net.Conn) error { return nil }
