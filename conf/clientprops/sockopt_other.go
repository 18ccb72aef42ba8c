//go:build !unix

package clientprops

import (
	"context"
	"net"
	"syscall"
)

func (*dialer) control(context.Context, string, string, syscall.RawConn) error { return nil }

// tune sets the buffer sizes after connect: without a portable setsockopt
// before it, a late size is still better than ignoring the setting.
func (d *dialer) tune(conn net.Conn) error {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return nil
	}
	if d.sendBuf > 0 {
		if err := tc.SetWriteBuffer(d.sendBuf); err != nil {
			return err
		}
	}
	if d.recvBuf > 0 {
		return tc.SetReadBuffer(d.recvBuf)
	}
	return nil
}
