// See include/CWireSystem.h for why this file exists.
#define _GNU_SOURCE
#include "CWireSystem.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <linux/tcp.h>

int cws_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cws_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    int kop = op == 1 ? EPOLL_CTL_ADD : op == 2 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    return epoll_ctl(epfd, kop, fd, &ev);
}

int cws_epoll_wait(int epfd, cws_event *out, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) { out[i].events = evs[i].events; out[i].data = evs[i].data.u64; }
    return n;
}

int cws_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int cws_accept_nonblocking(int listener, struct sockaddr *addr, unsigned int *len) {
    socklen_t l = *len;
    int fd = accept4(listener, addr, &l, SOCK_NONBLOCK | SOCK_CLOEXEC);
    *len = l;
    return fd;
}

int cws_tcp_info_get(int fd, cws_tcp_info *out) {
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(out, 0, sizeof *out);
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return -1;
    out->segs_out = ti.tcpi_segs_out;
    out->segs_in = ti.tcpi_segs_in;
    out->rtt_us = ti.tcpi_rtt;
    out->snd_mss = ti.tcpi_snd_mss;
    out->bytes_acked = ti.tcpi_bytes_acked;
    out->bytes_received = ti.tcpi_bytes_received;
    out->available = 1;
    return 0;
}
#else
int cws_epoll_create(void) { errno = ENOSYS; return -1; }
int cws_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) { errno = ENOSYS; return -1; }
int cws_epoll_wait(int epfd, cws_event *out, int max, int timeout_ms) { errno = ENOSYS; return -1; }
int cws_eventfd(void) {
    int p[2];
    if (pipe(p) != 0) return -1;
    fcntl(p[0], F_SETFL, O_NONBLOCK); fcntl(p[1], F_SETFL, O_NONBLOCK);
    return p[0];   // DEVIATION: the write end leaks; macOS wake-ups use the poll backend's own pipe.
}
int cws_tcp_info_get(int fd, cws_tcp_info *out) { memset(out, 0, sizeof *out); errno = ENOSYS; return -1; }
int cws_accept_nonblocking(int listener, struct sockaddr *addr, unsigned int *len) {
    socklen_t l = *len;
    int fd = accept(listener, addr, &l);
    *len = l;
    if (fd >= 0) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); fcntl(fd, F_SETFD, FD_CLOEXEC); }
    return fd;
}
#endif
