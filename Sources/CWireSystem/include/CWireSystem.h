// CWireSystem: the three things Swift cannot import cleanly on Linux.
//  - <sys/epoll.h>: epoll_event is a packed struct that Swift imports awkwardly, so we wrap it.
//  - TCP_INFO: <linux/tcp.h> and <netinet/tcp.h> clash in one Clang module, so one function of
//    ours reads the counters we need.
//  - C11 atomics (one load and one store), which Swift reaches only through a package or the
//    Synchronization module, neither of which WireLab may use.
// Nothing else belongs here.
#ifndef CWIRESYSTEM_H
#define CWIRESYSTEM_H
#include <stdint.h>

// ---- epoll (Linux). On other systems these return -1 with errno = ENOSYS. ----
enum {
    CWS_EPOLLIN = 0x001,
    CWS_EPOLLOUT = 0x004,
    CWS_EPOLLERR = 0x008,
    CWS_EPOLLHUP = 0x010,
    CWS_EPOLLRDHUP = 0x2000,
    CWS_EPOLLEXCLUSIVE = 0x10000000,   // Linux 4.5: wake one waiting epoll set, not all of them
};

/// epoll_create1(EPOLL_CLOEXEC)
int cws_epoll_create(void);
/// op: 1 add, 2 del, 3 mod. `events` is a mask of CWS_EPOLL*; `data` comes back from wait.
int cws_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);

typedef struct {
    uint32_t events;
    uint64_t data;
} cws_event;
/// Waits like epoll_wait and copies results into an unpacked array.
int cws_epoll_wait(int epfd, cws_event *out, int max, int timeout_ms);

/// eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC), or a pipe's read end elsewhere. -1 on failure.
int cws_eventfd(void);

/// accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) on Linux (Glibc's module hides it behind _GNU_SOURCE);
/// accept + fcntl elsewhere. One syscall instead of three per accepted connection.
struct sockaddr;
int cws_accept_nonblocking(int listener, struct sockaddr *addr, unsigned int *len);

// ---- TCP_INFO ----
typedef struct {
    uint32_t segs_out;      // tcpi_segs_out: segments sent, retransmissions included
    uint32_t segs_in;       // tcpi_segs_in
    uint32_t rtt_us;        // smoothed RTT
    uint32_t snd_mss;
    uint64_t bytes_acked;   // tcpi_bytes_acked (payload bytes acked by the peer)
    uint64_t bytes_received;// tcpi_bytes_received
    int available;          // 1 if the kernel filled the counters
} cws_tcp_info;
int cws_tcp_info_get(int fd, cws_tcp_info *out);

// ---- atomics: one 64-bit value written by one thread under its own lock, read by others ----
/// Acquire load: sees everything written before the matching release store.
static inline int64_t cws_atomic_load_acquire(const int64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
/// Release store.
static inline void cws_atomic_store_release(int64_t *p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

#endif
