/*
 * Experiment, not product code: an LD_PRELOAD shim that sets TCP_NODELAY on every
 * socket a process accepts. Used to prove what the missing TCP_NODELAY on Tavana's
 * accepted sockets costs (see benchmarks/results/2026-11-24.md, "Findings"):
 *
 *   cc -shared -fPIC -O2 -o /tmp/nodelay_shim.so benchmarks/experiments/nodelay_shim.c -ldl
 *   benchmarks/run.sh --only latency,tpch --tavana-env LD_PRELOAD=/tmp/nodelay_shim.so --out /tmp/whatif.md
 *
 * The real fix belongs in the servers (set_nodelay on accepted sockets).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd) {
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on non-TCP */
    }
}

int accept4(int s, struct sockaddr *addr, socklen_t *len, int flags) {
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    if (!real) real = dlsym(RTLD_NEXT, "accept4");
    int fd = real(s, addr, len, flags);
    nodelay(fd);
    return fd;
}

int accept(int s, struct sockaddr *addr, socklen_t *len) {
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (!real) real = dlsym(RTLD_NEXT, "accept");
    int fd = real(s, addr, len);
    nodelay(fd);
    return fd;
}
