/* ws_fanout_client: the load client for WireLab's performance figures.
 *
 * One process, one epoll set, up to N sockets to 127.0.0.1:PORT (raises its open-file soft
 * limit to the hard limit). Connections are opened with at most `--inflight` handshakes in
 * progress. Every loop is bounded in count and time.
 *
 * Modes (`--mode`):
 *   fanout     N WebSockets (GET /ws, fixed key, 101 and Sec-WebSocket-Accept verified), then
 *              read frames for `--duration` s. For every text message whose "ts" falls in the
 *              window: latency = wall_µs_at_receipt − ts. Reports p50/p99/max, connect time,
 *              distinct events in the window and copies missed (N × events − copies received).
 *   handshake  N WebSocket handshakes; time from the first connect() to the last 101.
 *   publish    N WebSockets, then `--publishes` times: one POST /publish (its own socket),
 *              wait until all N got that message; latency from its ts to each receipt.
 *   idle-ws    N WebSockets, then idle.           } print {"ready":...} on stdout, hold until
 *   idle-http  N connections, one GET /poll each, } stdin closes (or `--hold` s), then report.
 *              then idle keep-alive.               }
 *
 * Output: one JSON object per line on stdout; progress and errors on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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

enum { BUF_CAP = 4096 };
enum { ST_FREE, ST_CONNECTING, ST_HEAD, ST_OPEN, ST_HTTP_IDLE, ST_DEAD };
enum { PUBLISHER_TAG = 0x7fffffff };

/* RFC 6455 §1.3's sample key; its accept value is fixed. */
static const char KEY[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char ACCEPT[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

struct conn {
    int fd;
    int state;
    int len;
    int body_left;       /* idle-http: response body bytes still expected (-1: head not done) */
    uint64_t skip;       /* bytes of an oversized frame still to discard */
    int64_t last_id;     /* highest event id received */
    char *buf;
};

static struct conn *conns;
static int n_target, inflight_max = 500;
static int n_started, n_inflight, n_open, n_failed, n_dead;
static int epfd;
static struct sockaddr_in addr;
static char mode[16] = "fanout";
static const char *path = "/ws";

/* measurement */
static int64_t win_start_us = INT64_MAX, win_end_us = INT64_MAX;   /* nothing counts until the window opens */
static int64_t *lat;           /* latencies, µs */
static size_t lat_n, lat_cap;
static int64_t win_min_id = INT64_MAX, win_max_id = 0;
static long long copies_in_window, messages_total, bad_messages;
static int64_t watch_id = -1;  /* publish mode: the id we wait for (-1: any chat) */
static int watch_count;

static int64_t wall_us(void) {
    struct timespec t; clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}
static int64_t mono_us(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void record_latency(int64_t us) {
    if (lat_n == lat_cap) {
        if (lat_cap >= (size_t)50000000) return;   /* bounded */
        lat_cap = lat_cap ? lat_cap * 2 : 1 << 20;
        lat = realloc(lat, lat_cap * sizeof *lat);
    }
    lat[lat_n++] = us;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}
static double pct(double p) {
    if (lat_n == 0) return -1;
    size_t i = (size_t)(p / 100.0 * (double)(lat_n - 1) + 0.5);
    return (double)lat[i] / 1000.0;
}

static void mark_dead(struct conn *c) {
    if (c->state == ST_DEAD || c->state == ST_FREE) return;
    if (c->state == ST_CONNECTING || c->state == ST_HEAD) { n_inflight--; n_failed++; }
    else { n_open--; n_dead++; }
    c->state = ST_DEAD;
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    free(c->buf); c->buf = NULL;
}

static void send_request(struct conn *c) {
    char req[512];
    int n;
    if (!strcmp(mode, "idle-http"))
        n = snprintf(req, sizeof req, "GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    else
        n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, KEY);
    if (write(c->fd, req, (size_t)n) != n) { mark_dead(c); return; }
    c->state = ST_HEAD;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)(c - conns)};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void start_one(void) {
    struct conn *c = &conns[n_started++];
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { c->state = ST_DEAD; n_failed++; perror("socket"); return; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->buf = malloc(BUF_CAP);
    c->len = 0; c->body_left = -1; c->skip = 0; c->last_id = 0;
    n_inflight++;
    c->state = ST_CONNECTING;
    int rc = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(c - conns)};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    if (rc == 0) send_request(c);
    else if (errno != EINPROGRESS) { mark_dead(c); }
}

static void fill_inflight(void) {
    while (n_started < n_target && n_inflight < inflight_max) start_one();
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

static void on_text(struct conn *c, const char *p, size_t n, int64_t now) {
    messages_total++;
    int64_t ts = parse_int_after(p, n, "\"ts\":");
    int64_t id = parse_int_after(p, n, "\"id\":");
    if (ts < 0 || id < 0) { bad_messages++; return; }
    if (id > c->last_id) c->last_id = id;
    if (!strcmp(mode, "publish")) {
        if (watch_id < 0 || id != watch_id) return;
        watch_count++;
        record_latency(now - ts);
        return;
    }
    if (ts < win_start_us || ts >= win_end_us) return;
    copies_in_window++;
    if (id < win_min_id) win_min_id = id;
    if (id > win_max_id) win_max_id = id;
    record_latency(now - ts);
}

static void send_pong(struct conn *c, const char *payload, size_t n) {
    char f[6 + 125];
    f[0] = (char)0x8A; f[1] = (char)(0x80 | n);
    memset(f + 2, 0, 4);      /* mask key 0: payload unchanged */
    memcpy(f + 6, payload, n);
    if (write(c->fd, f, 6 + n) < 0) { /* a lost pong is harmless in a 10 s run */ }
}

/* Parses whole frames in c->buf; keeps a partial frame. Returns -1 if the connection died. */
static int parse_frames(struct conn *c, int64_t now) {
    int off = 0;
    while (c->len - off >= 2) {
        unsigned char *b = (unsigned char *)c->buf + off;
        int op = b[0] & 0x0f;
        uint64_t plen = b[1] & 0x7f;
        int hl = 2;
        if (b[1] & 0x80) { bad_messages++; mark_dead(c); return -1; }   /* server frames are unmasked */
        if (plen == 126) { if (c->len - off < 4) break; plen = (uint64_t)b[2] << 8 | b[3]; hl = 4; }
        else if (plen == 127) {
            if (c->len - off < 10) break;
            plen = 0; for (int i = 0; i < 8; i++) plen = plen << 8 | b[2 + i];
            hl = 10;
        }
        if ((uint64_t)hl + plen > BUF_CAP) {           /* larger than our buffer: skip it */
            uint64_t have = (uint64_t)(c->len - off - hl);
            c->skip = plen - have;
            bad_messages++;
            off = c->len;
            break;
        }
        if ((uint64_t)(c->len - off) < hl + plen) break;
        const char *payload = (const char *)b + hl;
        if (op == 1) on_text(c, payload, (size_t)plen, now);
        else if (op == 9) send_pong(c, payload, (size_t)plen);
        else if (op == 8) { mark_dead(c); return -1; }
        off += hl + (int)plen;
    }
    if (off > 0) { memmove(c->buf, c->buf + off, (size_t)(c->len - off)); c->len -= off; }
    return 0;
}

static void on_event(struct conn *c, uint32_t events) {
    if (c->state == ST_CONNECTING) {
        int err = 0; socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err || (events & (EPOLLERR | EPOLLHUP))) { mark_dead(c); return; }
        send_request(c);
        return;
    }
    for (int rounds = 0; rounds < 16; rounds++) {
        if (c->state == ST_DEAD) return;
        if (c->skip > 0) {
            char sink[4096];
            size_t want = c->skip < sizeof sink ? (size_t)c->skip : sizeof sink;
            ssize_t r = read(c->fd, sink, want);
            if (r > 0) { c->skip -= (uint64_t)r; continue; }
            if (r == 0 || errno != EAGAIN) mark_dead(c);
            return;
        }
        ssize_t r = read(c->fd, c->buf + c->len, (size_t)(BUF_CAP - c->len));
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { mark_dead(c); return; }
        if (r < 0) return;
        int64_t now = wall_us();
        c->len += (int)r;
        if (c->state == ST_HEAD) {
            char *end = memmem(c->buf, (size_t)c->len, "\r\n\r\n", 4);
            if (!end) { if (c->len >= BUF_CAP) mark_dead(c); continue; }
            int head_len = (int)(end - c->buf) + 4;
            int ok;
            if (!strcmp(mode, "idle-http")) {
                ok = c->len >= 12 && !memcmp(c->buf, "HTTP/1.1 200", 12);
                int64_t cl = parse_int_after(c->buf, (size_t)head_len, "Content-Length: ");
                if (cl < 0) cl = parse_int_after(c->buf, (size_t)head_len, "content-length: ");
                if (cl < 0) ok = 0;
                c->body_left = (int)cl;
            } else {
                ok = c->len >= 12 && !memcmp(c->buf, "HTTP/1.1 101", 12) &&
                     memmem(c->buf, (size_t)head_len, ACCEPT, sizeof ACCEPT - 1) != NULL;
            }
            if (!ok) {
                static int reported;
                if (reported++ < 3) fprintf(stderr, "ws_fanout_client: unexpected answer: %.60s\n", c->buf);
                mark_dead(c);
                return;
            }
            memmove(c->buf, c->buf + head_len, (size_t)(c->len - head_len));
            c->len -= head_len;
            n_inflight--; n_open++;
            c->state = !strcmp(mode, "idle-http") ? ST_HTTP_IDLE : ST_OPEN;
        }
        if (c->state == ST_HTTP_IDLE) {
            if (c->body_left > 0) {
                int take = c->len < c->body_left ? c->len : c->body_left;
                c->body_left -= take;
                memmove(c->buf, c->buf + take, (size_t)(c->len - take));
                c->len -= take;
            }
            c->len = 0;   /* nothing else is expected on an idle keep-alive connection */
            continue;
        }
        if (parse_frames(c, now) < 0) return;
        if ((size_t)r < 512) return;   /* likely drained; level-triggered epoll calls again */
    }
}

static void publisher_read(int fd) {
    char sink[1024];
    for (int i = 0; i < 8; i++) {
        ssize_t r = read(fd, sink, sizeof sink);
        if (r <= 0) {
            if (r == 0 || errno != EAGAIN) { epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); close(fd); }
            return;
        }
    }
}

/* One pass over ready fds, waiting at most timeout_ms. */
static void pump(int timeout_ms) {
    static struct epoll_event evs[1024];
    int n = epoll_wait(epfd, evs, 1024, timeout_ms);
    for (int i = 0; i < n; i++) {
        uint32_t tag = evs[i].data.u32;
        if (tag >= PUBLISHER_TAG) { publisher_read((int)(tag - PUBLISHER_TAG) ); continue; }
        on_event(&conns[tag], evs[i].events);
    }
    fill_inflight();
}

/* Opens every connection; returns seconds from the first connect() to the last answer. */
static double connect_all(double limit_s) {
    int64_t t0 = mono_us(), deadline = t0 + (int64_t)(limit_s * 1e6);
    fill_inflight();
    while ((n_started < n_target || n_inflight > 0) && mono_us() < deadline) pump(50);
    return (double)(mono_us() - t0) / 1e6;
}

static int open_publisher(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("publisher"); return -1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static int64_t max_open_last_id(void) {
    int64_t m = 0;
    for (int i = 0; i < n_started; i++) if (conns[i].state == ST_OPEN && conns[i].last_id > m) m = conns[i].last_id;
    return m;
}

static void print_latency_json(void) {
    qsort(lat, lat_n, sizeof *lat, cmp64);
    printf("\"samples\":%zu,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"min_ms\":%.3f",
           lat_n, pct(50), pct(90), pct(99), lat_n ? (double)lat[lat_n - 1] / 1000.0 : -1,
           lat_n ? (double)lat[0] / 1000.0 : -1);
}

int main(int argc, char **argv) {
    int port = 0, publishes = 5;
    double duration = 10, hold = 60, connect_limit = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--port")) port = atoi(v);
        else if (!strcmp(k, "--mode")) snprintf(mode, sizeof mode, "%s", v);
        else if (!strcmp(k, "-n")) n_target = atoi(v);
        else if (!strcmp(k, "--inflight")) inflight_max = atoi(v);
        else if (!strcmp(k, "--duration")) duration = atof(v);
        else if (!strcmp(k, "--publishes")) publishes = atoi(v);
        else if (!strcmp(k, "--hold")) hold = atof(v);
        else if (!strcmp(k, "--connect-limit")) connect_limit = atof(v);
        else if (!strcmp(k, "--path")) path = v;
        else { fprintf(stderr, "ws_fanout_client: unknown option %s\n", k); return 2; }
    }
    if (port <= 0 || n_target <= 0 || inflight_max <= 0 || duration > 600 || hold > 600 || publishes > 100) {
        fprintf(stderr, "usage: ws_fanout_client --port P -n N [--mode fanout|handshake|publish|idle-ws|idle-http] "
                        "[--inflight M] [--duration S] [--publishes K] [--hold S]\n");
        return 2;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)n_target + 32 > rl.rlim_cur) { fprintf(stderr, "ws_fanout_client: -n above the open-file limit\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    conns = calloc((size_t)n_target, sizeof *conns);
    epfd = epoll_create1(EPOLL_CLOEXEC);

    /* fan-out: the window starts when every connection is open */
    double connect_s = connect_all(connect_limit);
    int opened = n_open;
    printf("{\"mode\":\"%s\",\"n\":%d,\"inflight\":%d,\"connected\":%d,\"failed\":%d,\"connect_s\":%.4f,"
           "\"handshakes_per_s\":%.1f",
           mode, n_target, inflight_max, opened, n_failed + (n_target - n_started), connect_s,
           connect_s > 0 ? opened / connect_s : 0);

    if (!strcmp(mode, "fanout")) {
        /* the driver snapshots the server's CPU time on this line */
        fprintf(stderr, "ws_fanout_client: window open\n");
        fflush(stderr);
        win_start_us = wall_us();
        win_end_us = win_start_us + (int64_t)(duration * 1e6);
        int64_t stop_at = mono_us() + (int64_t)(duration * 1e6);
        while (mono_us() < stop_at) pump(100);
        /* grace: let copies of the window's last events arrive (at most 3 s) */
        int64_t grace_end = mono_us() + 3000000;
        while (mono_us() < grace_end) {
            int all = 1;
            for (int i = 0; i < n_started && all; i++)
                if (conns[i].state == ST_OPEN && conns[i].last_id < win_max_id) all = 0;
            if (all) break;
            pump(20);
        }
        fprintf(stderr, "ws_fanout_client: window closed\n");
        fflush(stderr);
        long long distinct = win_max_id >= win_min_id ? win_max_id - win_min_id + 1 : 0;
        long long expected = distinct * (long long)n_open;
        printf(",\"duration_s\":%.1f,\"events\":%lld,\"copies\":%lld,\"missed\":%lld,\"dropped_connections\":%d,"
               "\"bad_messages\":%lld,",
               duration, distinct, copies_in_window, expected > copies_in_window ? expected - copies_in_window : 0,
               n_dead, bad_messages);
        print_latency_json();
    } else if (!strcmp(mode, "publish")) {
        /* settle, then one POST /publish at a time; wait for all copies of each */
        int64_t settle = mono_us() + 500000;
        while (mono_us() < settle) pump(50);
        int done = 0, complete = 0;
        for (int k = 0; k < publishes; k++) {
            int fd = open_publisher();
            if (fd < 0) break;
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)PUBLISHER_TAG + (uint32_t)fd};
            epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
            int64_t before = max_open_last_id();
            static const char req[] =
                "POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 64\r\n"
                "Connection: close\r\n\r\n"
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
            watch_id = before + 1;   /* --rate 0: the next id is ours */
            watch_count = 0;
            if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) break;
            int64_t wait_end = mono_us() + 5000000;
            while (watch_count < n_open && mono_us() < wait_end) pump(20);
            if (watch_count >= n_open) complete++;
            done++;
            int64_t gap = mono_us() + 300000;
            while (mono_us() < gap) pump(50);
        }
        printf(",\"publishes\":%d,\"complete\":%d,\"dropped_connections\":%d,\"bad_messages\":%lld,", done, complete,
               n_dead, bad_messages);
        print_latency_json();
    } else if (!strcmp(mode, "idle-ws") || !strcmp(mode, "idle-http")) {
        printf(",\"ready\":true}\n");
        fflush(stdout);
        int64_t hold_end = mono_us() + (int64_t)(hold * 1e6);
        struct pollfd in = {.fd = 0, .events = POLLIN};
        while (mono_us() < hold_end) {
            pump(100);
            if (poll(&in, 1, 0) > 0) break;   /* driver closed stdin or wrote a line: done */
        }
        printf("{\"mode\":\"%s\",\"still_open\":%d,\"dropped_connections\":%d", mode, n_open, n_dead);
    } else if (strcmp(mode, "handshake") != 0) {
        fprintf(stderr, "ws_fanout_client: unknown mode %s\n", mode);
        return 2;
    }
    printf("}\n");
    fflush(stdout);
    /* close with RST (linger 0): no TIME_WAIT pile-up between runs */
    struct linger lg = {1, 0};
    for (int i = 0; i < n_started; i++)
        if (conns[i].fd >= 0 && conns[i].state != ST_DEAD && conns[i].state != ST_FREE) {
            setsockopt(conns[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(conns[i].fd);
        }
    return 0;
}
