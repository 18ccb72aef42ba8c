package clientprops

import (
	"context"
	"net"
	"syscall"
	"testing"
)

func TestDialerBufferSizes(t *testing.T) {
	port := listen(t)
	for _, tt := range []struct {
		send, recv int64
	}{
		{32768, 49152},
		{-1, -1},
	} {
		dial := mustParse(t, map[string]any{
			"bootstrap.servers":    "a:1",
			"send.buffer.bytes":    tt.send,
			"receive.buffer.bytes": tt.recv,
		}).Dialer()
		conn, err := dial(context.Background(), "tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := conn.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var snd, rcv int
		raw.Control(func(fd uintptr) {
			snd, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
			rcv, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		})
		conn.Close()
		// Linux reports twice the size set, for its bookkeeping.
		if tt.send > 0 && (snd != 2*int(tt.send) || rcv != 2*int(tt.recv)) {
			t.Errorf("buffers %d/%d, want %d/%d", snd, rcv, 2*tt.send, 2*tt.recv)
		}
		if tt.send < 0 && snd == 2*32768 {
			t.Errorf("-1 still set the buffer")
		}
	}
}
