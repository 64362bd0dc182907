// A small Go program for tests/e2e/test_go_versions.py: built by every Go toolchain Debian
// ships (static and stripped, and with cgo), analysed by dockergate and run under strace.
// It uses only the standard library of Go 1.15 and later, and reaches the kernel through
// every path Go has: the os and net packages (the runtime's poller, goroutines, timers),
// syscall.Syscall / Syscall6 / RawSyscall with constant numbers from main (the wrappers'
// number comes from this function's arguments: ABI0 stack words before Go 1.17, registers
// after), and the runtime's own stubs.
package main

import (
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"
)

// getcpu(2) on x86-64: the syscall package has no name for it
const sysGetcpu = 309

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gover:", err)
		os.Exit(1)
	}
}

func main() {
	dir, err := ioutil.TempDir("", "gover")
	must(err)
	defer os.RemoveAll(dir)
	a := filepath.Join(dir, "a")
	must(ioutil.WriteFile(a, []byte("hello\n"), 0o644))
	must(os.Mkdir(filepath.Join(dir, "d"), 0o755))
	must(os.Rename(a, filepath.Join(dir, "d", "b")))
	must(os.Symlink("d/b", filepath.Join(dir, "l")))
	target, err := os.Readlink(filepath.Join(dir, "l"))
	must(err)
	data, err := ioutil.ReadFile(filepath.Join(dir, "l"))
	must(err)
	must(os.Chmod(filepath.Join(dir, "d", "b"), 0o600))
	now := time.Now()
	must(os.Chtimes(filepath.Join(dir, "d", "b"), now, now))
	names, err := ioutil.ReadDir(dir)
	must(err)

	// the raw wrappers, with numbers only this function knows
	var cpu, node uint32
	if _, _, e := syscall.Syscall(sysGetcpu, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0); e != 0 {
		must(e)
	}
	pid, _, _ := syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
	var ru syscall.Rusage
	if _, _, e := syscall.Syscall6(syscall.SYS_GETRUSAGE, 0, uintptr(unsafe.Pointer(&ru)), 0, 0, 0, 0); e != 0 {
		must(e)
	}
	var si syscall.Sysinfo_t
	must(syscall.Sysinfo(&si))

	// the network poller: listen, accept and dial on loopback
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, err = c.Write([]byte("pong"))
			c.Close()
		}
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	must(err)
	reply, err := ioutil.ReadAll(c)
	must(err)
	c.Close()
	must(<-done)
	ln.Close()
	time.Sleep(5 * time.Millisecond)

	fmt.Printf("gover-ok %s %q %d entries pid>0=%v %s\n", target, data, len(names), pid > 0, reply)
}
