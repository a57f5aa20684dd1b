/* c_broadcaster: the reference point for WireLab's WebSocket fan-out figures.
 *
 * The smallest honest server that does the same job as `wirelab serve` on /ws:
 *   - one thread, one epoll set, non-blocking sockets, TCP_NODELAY (with --threads N: N such
 *     threads, each with its own SO_REUSEPORT listener on the same port, its own epoll set and
 *     its own clients, each writing the event on the same absolute time grid: no hand-over
 *     between threads, the best an N-core broadcaster can do);
 *   - accepts connections, reads the HTTP upgrade request, answers 101 with
 *     Sec-WebSocket-Accept = Base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2);
 *   - a plain GET (no Sec-WebSocket-Key) gets the empty poll body
 *     {"events":[],"next":0,"missed":0} and stays keep-alive (idle-HTTP memory reference);
 *   - every 1/rate s (absolute grid) formats ONE event of PROTOCOL.md §1
 *     {"id":N,"ts":<wall µs>,"topic":"tick","data":"xxx..."} as one unmasked 0x81 text
 *     frame and loops write() over every WebSocket socket. A short write is counted and the
 *     rest of that frame dropped (a reference loop, not a product: no output queues).
 *
 * usage: c_broadcaster [--port P] [--rate R] [--size B] [--threads N]
 * First stdout line: "c_broadcaster listening on http://127.0.0.1:PORT".
 * SIGTERM/SIGINT: prints a one-line summary to stderr and exits 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- SHA-1 (FIPS 180-4), just enough for the handshake ---- */

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1(const unsigned char *msg, size_t len, unsigned char out[20]) {
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    size_t total = ((len + 8) / 64 + 1) * 64;
    unsigned char *m = calloc(1, total);
    memcpy(m, msg, len);
    m[len] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) m[total - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t off = 0; off < total; off += 64) {
        uint32_t w[80];
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)m[off + 4 * i] << 24 | (uint32_t)m[off + 4 * i + 1] << 16 |
                   (uint32_t)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
        for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
            else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
            else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
            else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
            uint32_t t = rol(a, 5) + f + e + k + w[i];
            e = d; d = c; c = rol(b, 30); b = a; a = t;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
    }
    free(m);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24); out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8); out[4 * i + 3] = (unsigned char)h[i];
    }
}

static void base64(const unsigned char *in, size_t len, char *out) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tbl[v & 63] : '=';
    }
    out[o] = 0;
}

/* ---- state ---- */

enum { HEAD_CAP = 4096 };

struct conn {
    char *head;      /* request bytes while reading a head; NULL when idle/upgraded */
    int head_len;
    int ws_slot1;    /* 1 + index in its thread's ws_fds; 0 if not a WebSocket (calloc'd pages stay untouched until used) */
    int open;
};

/* One thread's share: its listener, its epoll set, its WebSockets. */
struct worker {
    int lfd, epfd;
    int *ws_fds;
    int ws_count;
    long long short_writes, frames_written, ticks;
    pthread_t thread;
};

static struct conn *conns;      /* indexed by fd; an fd belongs to the one thread that accepted it */
static int conn_cap;
static volatile sig_atomic_t stop_flag;
static int g_size = 64;
static int64_t g_interval, g_grid;   /* the shared absolute time grid */

static int64_t wall_us(void) {
    struct timespec t; clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}
static int64_t mono_ns(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void on_signal(int s) { (void)s; stop_flag = 1; }

static void close_conn(struct worker *w, int fd) {
    struct conn *c = &conns[fd];
    if (!c->open) return;
    if (c->ws_slot1) {
        int last = w->ws_fds[--w->ws_count];
        w->ws_fds[c->ws_slot1 - 1] = last;
        conns[last].ws_slot1 = c->ws_slot1;
        c->ws_slot1 = 0;
    }
    free(c->head); c->head = NULL; c->head_len = 0;
    c->open = 0;
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
}

static int write_all(int fd, const char *p, size_t n) {
    /* handshake / poll answers: tiny, the socket buffer is empty; a short write closes. */
    ssize_t w = write(fd, p, n);
    return w == (ssize_t)n ? 0 : -1;
}

/* Finds header `name` (case-insensitive) in a complete head; copies its trimmed value. */
static int header_value(const char *head, const char *name, char *out, size_t cap) {
    size_t nl = strlen(name);
    const char *p = strstr(head, "\r\n");
    while (p && p[2] != '\r') {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ' || *v == '\t') v++;
            const char *e = strstr(v, "\r\n");
            if (!e) return -1;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
            size_t n = (size_t)(e - v);
            if (n + 1 > cap) return -1;
            memcpy(out, v, n); out[n] = 0;
            return 0;
        }
        p = strstr(p, "\r\n");
    }
    return -1;
}

static void handle_head(struct worker *w, int fd) {
    struct conn *c = &conns[fd];
    char key[128];
    if (header_value(c->head, "Sec-WebSocket-Key", key, sizeof key - 40) == 0) {
        char cat[200], acc[64], resp[256];
        unsigned char dig[20];
        int n = snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
        sha1((unsigned char *)cat, (size_t)n, dig);
        base64(dig, 20, acc);
        n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
        free(c->head); c->head = NULL; c->head_len = 0;
        if (write_all(fd, resp, (size_t)n) != 0) { close_conn(w, fd); return; }
        w->ws_fds[w->ws_count++] = fd;
        c->ws_slot1 = w->ws_count;
    } else {
        static const char body[] = "{\"events\":[],\"next\":0,\"missed\":0}";
        char resp[256];
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                         "Cache-Control: no-store\r\n\r\n%s", sizeof body - 1, body);
        free(c->head); c->head = NULL; c->head_len = 0;   /* idle keep-alive holds no buffer */
        if (write_all(fd, resp, (size_t)n) != 0) close_conn(w, fd);
    }
}

static void on_readable(struct worker *w, int fd) {
    struct conn *c = &conns[fd];
    if (c->ws_slot1) {
        char sink[4096];
        for (;;) {
            ssize_t r = read(fd, sink, sizeof sink);
            if (r > 0) continue;
            if (r == 0 || (errno != EAGAIN && errno != EINTR)) close_conn(w, fd);
            return;
        }
    }
    for (;;) {
        if (!c->head) { c->head = malloc(HEAD_CAP + 1); c->head_len = 0; }
        ssize_t r = read(fd, c->head + c->head_len, (size_t)(HEAD_CAP - c->head_len));
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { close_conn(w, fd); return; }
        if (r < 0) {
            if (c->head_len == 0) { free(c->head); c->head = NULL; }
            return;
        }
        c->head_len += (int)r;
        c->head[c->head_len] = 0;
        char *end = strstr(c->head, "\r\n\r\n");
        if (end) {
            /* one request at a time (the bench clients never pipeline) */
            handle_head(w, fd);
            return;
        }
        if (c->head_len >= HEAD_CAP) { close_conn(w, fd); return; }
    }
}

static void broadcast(struct worker *w, long long id, int size) {
    char json[70000], frame[70016];   /* per thread (on its stack) */
    int n = snprintf(json, 64, "{\"id\":%lld,\"ts\":%lld,\"topic\":\"tick\",\"data\":\"", id, (long long)wall_us());
    memset(json + n, 'x', (size_t)size); n += size;
    json[n++] = '"'; json[n++] = '}';
    size_t h = 0;
    frame[h++] = (char)0x81;
    if (n < 126) frame[h++] = (char)n;
    else { frame[h++] = 126; frame[h++] = (char)(n >> 8); frame[h++] = (char)(n & 0xff); }
    memcpy(frame + h, json, (size_t)n);
    size_t total = h + (size_t)n;
    for (int i = 0; i < w->ws_count; i++) {
        ssize_t r = write(w->ws_fds[i], frame, total);
        if (r == (ssize_t)total) w->frames_written++;
        else w->short_writes++;
    }
}

/* One thread's loop: accept, read heads, and on every grid tick write the event to its clients. */
static void *run_worker(void *arg) {
    struct worker *w = arg;
    int one = 1;
    struct epoll_event evs[512];
    while (!stop_flag) {
        int timeout = 200;           /* wakes now and then to see stop_flag */
        if (g_interval > 0) {
            int64_t due = g_grid + (w->ticks + 1) * g_interval - mono_ns();
            timeout = due <= 0 ? 0 : (int)((due + 999999) / 1000000);
            if (timeout > 200) timeout = 200;
        }
        int n = epoll_wait(w->epfd, evs, 512, timeout);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == w->lfd) {
                for (;;) {
                    int cfd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (cfd < 0) break;
                    if (cfd >= conn_cap) { close(cfd); continue; }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[cfd].open = 1; conns[cfd].ws_slot1 = 0;
                    struct epoll_event ce = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = cfd};
                    epoll_ctl(w->epfd, EPOLL_CTL_ADD, cfd, &ce);
                }
            } else {
                on_readable(w, fd);
            }
        }
        if (g_interval > 0 && mono_ns() >= g_grid + (w->ticks + 1) * g_interval) {
            w->ticks++;
            broadcast(w, w->ticks, g_size);
        }
    }
    return NULL;
}

static int listen_on(int port) {
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 4096) != 0) { perror("bind/listen"); exit(1); }
    return lfd;
}

int main(int argc, char **argv) {
    int port = 0, nthreads = 1;
    double rate = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--size")) g_size = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) nthreads = atoi(argv[i + 1]);
        else { fprintf(stderr, "usage: c_broadcaster [--port P] [--rate R] [--size B] [--threads N]\n"); return 2; }
    }
    if (g_size < 0 || g_size > 60000) g_size = 64;
    if (nthreads < 1 || nthreads > 64) { fprintf(stderr, "c_broadcaster: --threads must be 1...64\n"); return 2; }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    conn_cap = (int)rl.rlim_cur + 16;
    conns = calloc((size_t)conn_cap, sizeof *conns);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    /* Every thread listens on the same port (SO_REUSEPORT: the kernel spreads connections). */
    struct worker *ws = calloc((size_t)nthreads, sizeof *ws);
    for (int t = 0; t < nthreads; t++) {
        ws[t].lfd = listen_on(port);
        if (port == 0) {
            struct sockaddr_in a; socklen_t al = sizeof a;
            getsockname(ws[t].lfd, (struct sockaddr *)&a, &al);
            port = ntohs(a.sin_port);
        }
        ws[t].ws_fds = calloc((size_t)conn_cap, sizeof *ws[t].ws_fds);
        ws[t].epfd = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = ws[t].lfd};
        epoll_ctl(ws[t].epfd, EPOLL_CTL_ADD, ws[t].lfd, &ev);
    }
    printf("c_broadcaster listening on http://127.0.0.1:%d\n", port);
    fflush(stdout);

    g_interval = rate > 0 ? (int64_t)(1e9 / rate) : 0;
    g_grid = mono_ns();
    for (int t = 1; t < nthreads; t++) pthread_create(&ws[t].thread, NULL, run_worker, &ws[t]);
    run_worker(&ws[0]);
    long long ticks = ws[0].ticks, frames = 0, shorts = 0;
    int websockets = 0;
    for (int t = 0; t < nthreads; t++) {
        if (t > 0) pthread_join(ws[t].thread, NULL);
        frames += ws[t].frames_written; shorts += ws[t].short_writes; websockets += ws[t].ws_count;
    }
    fprintf(stderr, "c_broadcaster: %lld events, %lld frames written, %lld short writes, %d websockets, %d threads\n",
            ticks, frames, shorts, websockets, nthreads);
    return 0;
}
