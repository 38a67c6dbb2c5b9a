/*
 * sigsuspend-shim: LD_PRELOAD'ed into `creek` under valgrind (scripts/callgrind-per-record.sh).
 * libdispatch's main thread calls sigsuspend() with a mask in read-only memory, and
 * valgrind's syscall wrapper writes into that mask, so valgrind dies with an internal
 * SIGSEGV before Creek starts. Passing a writable copy changes nothing else.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);
}
