package wire

import (
	"bytes"
	"io"
	"net"
	"testing"
)

func TestStream(t *testing.T) {
	big := frameOf(bytes.Repeat([]byte("0123456789"), 10000))
	small := frameOf([]byte("after"))
	for _, bufSize := range []int{16, 4096, 1 << 20} {
		r := NewReader(bytes.NewReader(append(append([]byte{}, big...), small...)), bufSize, 1<<20, new(Pool))
		size, err := r.Size()
		if err != nil || size != len(big) {
			t.Fatalf("Size = %d, %v", size, err)
		}
		head, err := r.Head(12)
		if err != nil || !bytes.Equal(head, big[:12]) {
			t.Fatalf("Head = %x, %v", head, err)
		}
		var out bytes.Buffer
		if err := r.Stream(&out, size); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), big) {
			t.Fatalf("buf %d: streamed %d bytes, differ", bufSize, out.Len())
		}
		next, err := r.Next() // the stream stops exactly at the frame's end
		if err != nil || !bytes.Equal(next, small) {
			t.Fatalf("buf %d: next frame %q, %v", bufSize, next, err)
		}
	}
}

func TestStreamTruncated(t *testing.T) {
	big := frameOf(make([]byte, 1000))
	r := NewReader(bytes.NewReader(big[:500]), 16, 1<<20, new(Pool))
	size, _ := r.Size()
	if err := r.Stream(io.Discard, size); err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v", err)
	}
}

// TestStreamTCP streams between two TCP connections, the case where the
// kernel can splice.
func TestStreamTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	srcW, _ := net.Dial("tcp", ln.Addr().String())
	srcR := <-accepted
	dstW, _ := net.Dial("tcp", ln.Addr().String())
	dstR := <-accepted
	defer srcW.Close()
	defer srcR.Close()
	defer dstW.Close()
	defer dstR.Close()

	frame := frameOf(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 300000))
	go srcW.Write(frame)
	got := make(chan []byte)
	go func() {
		b := make([]byte, len(frame))
		io.ReadFull(dstR, b)
		got <- b
	}()
	r := NewReader(srcR, 4096, 1<<22, new(Pool))
	size, err := r.Size()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Stream(dstW, size); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(<-got, frame) {
		t.Fatal("streamed frame differs")
	}
}
