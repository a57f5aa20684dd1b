/* soak_client: the load of `make soak` (Tests/Bench/soak.py) in one process and one epoll set.
 *
 * Holds --ws WebSockets (GET /ws), --sse SSE streams (GET /sse) and --longpoll long pollers
 * (GET /longpoll, keep-alive, one request after another) against 127.0.0.1:PORT. Every second
 * it closes --reconnect-pct percent of the open connections, chosen at random, and reconnects
 * each at once where it stopped (`since=<last id>`), as a client after a network drop would
 * (PROTOCOL.md §2, §8). A connection the server ends (close frame, end of stream, EOF) is
 * counted and reconnected the same way, after 100 ms.
 *
 * Every connection checks its own ids: each event must be the previous one + 1 (a jump counts
 * the ids skipped as missed, an id not above the last as a duplicate), across reconnects too;
 * long polls also add the server's own "missed" field. Bounded: at most --duration seconds
 * (<= 3600), at most 20,000 connections, 8 KiB of input buffer each (long polls ask for
 * limit=50 so an answer always fits).
 *
 * Output: one JSON line on stdout every --report seconds (counts so far, open connections per
 * kind, and how many are idle, connecting or awaiting their answer) and a last one with
 * "final":true;
 * errors on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BUF_CAP = 8192, MAX_CONNS = 20000 };
enum { K_WS, K_SSE, K_LP };
enum { S_IDLE, S_CONNECTING, S_HEAD, S_OPEN };
static const char *KIND_NAME[] = {"ws", "sse", "longpoll"};

/* RFC 6455 §1.3's sample key; its accept value is fixed. */
static const char KEY[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char ACCEPT[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

struct conn {
    int fd;
    int kind;
    int state;
    int len;
    int64_t last_id;     /* highest event id seen, kept across reconnects (0: none yet) */
    int64_t retry_at;    /* S_IDLE: reconnect after this (monotonic µs) */
    char *buf;
};

static struct conn conns[MAX_CONNS];
static int n_conns, epfd, inflight_max = 500, n_inflight;
static struct sockaddr_in addr;
static long long events_rx, missed, dups, reported_missed, planned_reconnects, server_ends, errors,
    bad_answers, connects;

static int64_t mono_us(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int64_t parse_int_after(const char *p, size_t n, const char *key) {
    const char *k = memmem(p, n, key, strlen(key));
    if (!k) return -1;
    k += strlen(key);
    int64_t v = 0;
    int digits = 0;
    while (k < p + n && *k >= '0' && *k <= '9') { v = v * 10 + (*k - '0'); k++; digits++; }
    return digits ? v : -1;
}

static void saw_id(struct conn *c, int64_t id) {
    events_rx++;
    if (c->last_id == 0 || id == c->last_id + 1) { c->last_id = id; return; }
    if (id <= c->last_id) { dups++; return; }
    missed += id - c->last_id - 1;
    c->last_id = id;
}

/* Ends the connection; reconnects it after `delay_us`. */
static void drop(struct conn *c, int64_t delay_us) {
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    if (c->state == S_CONNECTING || c->state == S_HEAD) n_inflight--;
    c->fd = -1;
    c->state = S_IDLE;
    c->len = 0;
    c->retry_at = mono_us() + delay_us;
}

static void send_request(struct conn *c) {
    char req[512], since[40] = "";
    int n;
    if (c->last_id > 0) snprintf(since, sizeof since, "since=%lld", (long long)c->last_id);
    if (c->kind == K_WS)
        n = snprintf(req, sizeof req, "GET /ws?%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", since, KEY);
    else if (c->kind == K_SSE)
        n = snprintf(req, sizeof req, "GET /sse?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", since);
    else
        n = snprintf(req, sizeof req, "GET /longpoll?%s%slimit=50&timeout=25 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                     since, *since ? "&" : "");
    if (write(c->fd, req, (size_t)n) != n) { errors++; drop(c, 100000); return; }
}

static void start(struct conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { errors++; c->retry_at = mono_us() + 200000; return; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->len = 0;
    c->state = S_CONNECTING;
    n_inflight++;
    connects++;
    int rc = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(c - conns)};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    if (rc != 0 && errno != EINPROGRESS) { errors++; drop(c, 200000); }
}

static void send_pong(struct conn *c, const char *payload, size_t n) {
    char f[6 + 125];
    f[0] = (char)0x8A; f[1] = (char)(0x80 | n);
    memset(f + 2, 0, 4);      /* mask key 0: payload unchanged */
    memcpy(f + 6, payload, n);
    if (write(c->fd, f, 6 + n) < 0) errors++;
}

/* Consumes what it can from c->buf; returns -1 when the connection was dropped. */
static int parse_ws(struct conn *c) {
    int off = 0;
    while (c->len - off >= 2) {
        unsigned char *b = (unsigned char *)c->buf + off;
        int op = b[0] & 0x0f, hl = 2;
        uint64_t plen = b[1] & 0x7f;
        if (plen == 126) { if (c->len - off < 4) break; plen = (uint64_t)b[2] << 8 | b[3]; hl = 4; }
        else if (plen == 127) { errors++; drop(c, 100000); return -1; }   /* events are small */
        if ((uint64_t)hl + plen > BUF_CAP) { errors++; drop(c, 100000); return -1; }
        if ((uint64_t)(c->len - off) < hl + plen) break;
        const char *p = (const char *)b + hl;
        if (op == 1) {
            int64_t id = parse_int_after(p, (size_t)plen, "{\"id\":");
            if (id > 0) saw_id(c, id); else bad_answers++;
        } else if (op == 9) send_pong(c, p, (size_t)plen);
        else if (op == 8) { server_ends++; drop(c, 100000); return -1; }
        off += hl + (int)plen;
    }
    if (off) { memmove(c->buf, c->buf + off, (size_t)(c->len - off)); c->len -= off; }
    return 0;
}

static int parse_sse(struct conn *c) {
    int off = 0;
    for (;;) {
        char *nl = memchr(c->buf + off, '\n', (size_t)(c->len - off));
        if (!nl) break;
        size_t n = (size_t)(nl - (c->buf + off));
        if (n > 4 && !memcmp(c->buf + off, "id: ", 4)) {
            int64_t id = parse_int_after(c->buf + off, n, "id: ");
            if (id > 0) saw_id(c, id);
        }
        off += (int)n + 1;
    }
    if (off) { memmove(c->buf, c->buf + off, (size_t)(c->len - off)); c->len -= off; }
    if (c->len >= BUF_CAP) { errors++; drop(c, 100000); return -1; }
    return 0;
}

/* Long polls: a whole response (head + Content-Length body) at a time, then the next request. */
static int parse_lp(struct conn *c) {
    for (;;) {
        char *end = memmem(c->buf, (size_t)c->len, "\r\n\r\n", 4);
        if (!end) break;
        int head = (int)(end - c->buf) + 4;
        int64_t cl = parse_int_after(c->buf, (size_t)head, "Content-Length: ");
        if (cl < 0) cl = parse_int_after(c->buf, (size_t)head, "content-length: ");
        if (memcmp(c->buf, "HTTP/1.1 200", 12) != 0 || cl < 0 || head + cl > BUF_CAP) {
            bad_answers++; drop(c, 200000); return -1;
        }
        if (c->len < head + cl) break;
        const char *body = c->buf + head, *p = body, *stop = body + cl;
        while ((p = memmem(p, (size_t)(stop - p), "{\"id\":", 6)) != NULL) {
            int64_t id = parse_int_after(p, (size_t)(stop - p), "{\"id\":");
            if (id > 0) saw_id(c, id);
            p += 6;
        }
        int64_t m = parse_int_after(body, (size_t)cl, "\"missed\":");
        if (m > 0) reported_missed += m;
        int64_t next = parse_int_after(body, (size_t)cl, "\"next\":");
        if (next > c->last_id) c->last_id = next;
        int used = head + (int)cl;
        memmove(c->buf, c->buf + used, (size_t)(c->len - used));
        c->len -= used;
        send_request(c);
        if (c->state == S_IDLE) return -1;
    }
    return 0;
}

static void on_event(struct conn *c, uint32_t events) {
    if (c->state == S_CONNECTING) {
        int err = 0; socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err || (events & (EPOLLERR | EPOLLHUP))) { errors++; drop(c, 200000); return; }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)(c - conns)};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        if (c->kind == K_LP) { n_inflight--; c->state = S_OPEN; }   /* its answer may wait 25 s */
        else c->state = S_HEAD;
        send_request(c);
        return;
    }
    for (int rounds = 0; rounds < 8 && c->state != S_IDLE; rounds++) {
        ssize_t r = read(c->fd, c->buf + c->len, (size_t)(BUF_CAP - c->len));
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { server_ends++; drop(c, 100000); return; }
        if (r < 0) return;
        c->len += (int)r;
        if (c->state == S_HEAD) {
            char *end = memmem(c->buf, (size_t)c->len, "\r\n\r\n", 4);
            if (!end) { if (c->len >= BUF_CAP) { bad_answers++; drop(c, 200000); } continue; }
            int head = (int)(end - c->buf) + 4;
            int ok = c->kind == K_WS
                ? c->len >= 12 && !memcmp(c->buf, "HTTP/1.1 101", 12) && memmem(c->buf, (size_t)head, ACCEPT, sizeof ACCEPT - 1)
                : c->len >= 12 && !memcmp(c->buf, "HTTP/1.1 200", 12);
            if (!ok) {
                if (bad_answers++ < 3) fprintf(stderr, "soak_client: unexpected answer: %.60s\n", c->buf);
                drop(c, 200000);
                return;
            }
            memmove(c->buf, c->buf + head, (size_t)(c->len - head));
            c->len -= head;
            n_inflight--;
            c->state = S_OPEN;
        }
        int rc = c->kind == K_WS ? parse_ws(c) : c->kind == K_SSE ? parse_sse(c) : parse_lp(c);
        if (rc < 0) return;
        if (r < 1024) return;
    }
}

static void restart_idle(void) {
    int64_t now = mono_us();
    for (int i = 0; i < n_conns && n_inflight < inflight_max; i++)
        if (conns[i].state == S_IDLE && conns[i].retry_at <= now) start(&conns[i]);
}

static void report(double t, int final) {
    int open[3] = {0, 0, 0}, idle = 0, connecting = 0, head = 0;
    for (int i = 0; i < n_conns; i++) {
        if (conns[i].state == S_OPEN) open[conns[i].kind]++;
        else if (conns[i].state == S_IDLE) idle++;
        else if (conns[i].state == S_CONNECTING) connecting++;
        else head++;
    }
    printf("{\"t\":%.1f,\"open_%s\":%d,\"open_%s\":%d,\"open_%s\":%d,\"events\":%lld,\"missed\":%lld,"
           "\"duplicates\":%lld,\"server_missed\":%lld,\"reconnects\":%lld,\"server_ends\":%lld,\"errors\":%lld,"
           "\"bad_answers\":%lld,\"connects\":%lld,\"idle\":%d,\"connecting\":%d,\"awaiting_head\":%d,"
           "\"inflight\":%d%s}\n",
           t, KIND_NAME[0], open[0], KIND_NAME[1], open[1], KIND_NAME[2], open[2], events_rx, missed, dups,
           reported_missed, planned_reconnects, server_ends, errors, bad_answers, connects, idle, connecting, head,
           n_inflight, final ? ",\"final\":true" : "");
    fflush(stdout);
}

int main(int argc, char **argv) {
    int port = 0, n_ws = 0, n_sse = 0, n_lp = 0;
    double duration = 60, pct = 1.0, every = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--port")) port = atoi(v);
        else if (!strcmp(k, "--ws")) n_ws = atoi(v);
        else if (!strcmp(k, "--sse")) n_sse = atoi(v);
        else if (!strcmp(k, "--longpoll")) n_lp = atoi(v);
        else if (!strcmp(k, "--duration")) duration = atof(v);
        else if (!strcmp(k, "--reconnect-pct")) pct = atof(v);
        else if (!strcmp(k, "--report")) every = atof(v);
        else if (!strcmp(k, "--inflight")) inflight_max = atoi(v);
        else { fprintf(stderr, "soak_client: unknown option %s\n", k); return 2; }
    }
    n_conns = n_ws + n_sse + n_lp;
    if (port <= 0 || n_conns <= 0 || n_conns > MAX_CONNS || duration <= 0 || duration > 3600 || pct < 0 || pct > 100) {
        fprintf(stderr, "usage: soak_client --port P [--ws N] [--sse N] [--longpoll N] [--duration S] "
                        "[--reconnect-pct P] [--report S] [--inflight M]\n");
        return 2;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)n_conns + 32 > rl.rlim_cur) { fprintf(stderr, "soak_client: more connections than the open-file limit\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    srand(12);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < n_conns; i++) {
        conns[i].fd = -1;
        conns[i].kind = i < n_ws ? K_WS : i < n_ws + n_sse ? K_SSE : K_LP;
        conns[i].state = S_IDLE;
        conns[i].buf = malloc(BUF_CAP);
    }
    int64_t t0 = mono_us(), end = t0 + (int64_t)(duration * 1e6);
    int64_t next_reconnect = t0 + 1000000, next_report = t0 + (int64_t)(every * 1e6);
    static struct epoll_event evs[1024];
    while (mono_us() < end) {
        restart_idle();
        int n = epoll_wait(epfd, evs, 1024, 20);
        for (int i = 0; i < n; i++) on_event(&conns[evs[i].data.u32], evs[i].events);
        int64_t now = mono_us();
        if (now >= next_report) {
            report((double)(now - t0) / 1e6, 0);
            next_report += (int64_t)(every * 1e6);
        }
        if (now >= next_reconnect) {
            /* PCT percent of all clients, chosen at random among the open ones */
            int k = (int)(n_conns * pct / 100.0 + 0.5);
            for (int tries = 0; k > 0 && tries < 2 * n_conns + 100; tries++) {
                struct conn *c = &conns[rand() % n_conns];
                if (c->state != S_OPEN) continue;
                drop(c, 0);
                planned_reconnects++;
                k--;
            }
            next_reconnect += 1000000;
        }
    }
    report((double)(mono_us() - t0) / 1e6, 1);
    for (int i = 0; i < n_conns; i++) if (conns[i].fd >= 0) close(conns[i].fd);
    return 0;
}
