/* c_broadcaster: the reference point for WireLab's WebSocket fan-out figures.
 *
 * The smallest honest server that does the same job as `wirelab serve` on /ws:
 *   - one thread, one epoll set, non-blocking sockets, TCP_NODELAY;
 *   - accepts connections, reads the HTTP upgrade request, answers 101 with
 *     Sec-WebSocket-Accept = Base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2);
 *   - a plain GET (no Sec-WebSocket-Key) gets the empty poll body
 *     {"events":[],"next":0,"missed":0} and stays keep-alive (idle-HTTP memory reference);
 *   - every 1/rate s (absolute grid) formats ONE event of PROTOCOL.md §1
 *     {"id":N,"ts":<wall µs>,"topic":"tick","data":"xxx..."} as one unmasked 0x81 text
 *     frame and loops write() over every WebSocket socket. A short write is counted and the
 *     rest of that frame dropped (a reference loop, not a product: no output queues).
 *
 * usage: c_broadcaster [--port P] [--rate R] [--size B]
 * First stdout line: "c_broadcaster listening on http://127.0.0.1:PORT".
 * SIGTERM/SIGINT: prints a one-line summary to stderr and exits 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
    int ws_slot1;    /* 1 + index in ws_fds; 0 if not a WebSocket (calloc'd pages stay untouched until used) */
    int open;
};

static struct conn *conns;      /* indexed by fd */
static int conn_cap;
static int *ws_fds;
static int ws_count;
static int epfd;
static volatile sig_atomic_t stop_flag;
static long long short_writes, frames_written;

static int64_t wall_us(void) {
    struct timespec t; clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}
static int64_t mono_ns(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void on_signal(int s) { (void)s; stop_flag = 1; }

static void close_conn(int fd) {
    struct conn *c = &conns[fd];
    if (!c->open) return;
    if (c->ws_slot1) {
        int last = ws_fds[--ws_count];
        ws_fds[c->ws_slot1 - 1] = last;
        conns[last].ws_slot1 = c->ws_slot1;
        c->ws_slot1 = 0;
    }
    free(c->head); c->head = NULL; c->head_len = 0;
    c->open = 0;
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
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

static void handle_head(int fd) {
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
        if (write_all(fd, resp, (size_t)n) != 0) { close_conn(fd); return; }
        ws_fds[ws_count++] = fd;
        c->ws_slot1 = ws_count;
    } else {
        static const char body[] = "{\"events\":[],\"next\":0,\"missed\":0}";
        char resp[256];
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                         "Cache-Control: no-store\r\n\r\n%s", sizeof body - 1, body);
        free(c->head); c->head = NULL; c->head_len = 0;   /* idle keep-alive holds no buffer */
        if (write_all(fd, resp, (size_t)n) != 0) close_conn(fd);
    }
}

static void on_readable(int fd) {
    struct conn *c = &conns[fd];
    if (c->ws_slot1) {
        char sink[4096];
        for (;;) {
            ssize_t r = read(fd, sink, sizeof sink);
            if (r > 0) continue;
            if (r == 0 || (errno != EAGAIN && errno != EINTR)) close_conn(fd);
            return;
        }
    }
    for (;;) {
        if (!c->head) { c->head = malloc(HEAD_CAP + 1); c->head_len = 0; }
        ssize_t r = read(fd, c->head + c->head_len, (size_t)(HEAD_CAP - c->head_len));
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { close_conn(fd); return; }
        if (r < 0) {
            if (c->head_len == 0) { free(c->head); c->head = NULL; }
            return;
        }
        c->head_len += (int)r;
        c->head[c->head_len] = 0;
        char *end = strstr(c->head, "\r\n\r\n");
        if (end) {
            /* one request at a time (the bench clients never pipeline) */
            handle_head(fd);
            return;
        }
        if (c->head_len >= HEAD_CAP) { close_conn(fd); return; }
    }
}

static void broadcast(long long id, int size) {
    static char json[70000], frame[70016];
    int n = snprintf(json, 64, "{\"id\":%lld,\"ts\":%lld,\"topic\":\"tick\",\"data\":\"", id, (long long)wall_us());
    memset(json + n, 'x', (size_t)size); n += size;
    json[n++] = '"'; json[n++] = '}';
    size_t h = 0;
    frame[h++] = (char)0x81;
    if (n < 126) frame[h++] = (char)n;
    else { frame[h++] = 126; frame[h++] = (char)(n >> 8); frame[h++] = (char)(n & 0xff); }
    memcpy(frame + h, json, (size_t)n);
    size_t total = h + (size_t)n;
    for (int i = 0; i < ws_count; i++) {
        ssize_t w = write(ws_fds[i], frame, total);
        if (w == (ssize_t)total) frames_written++;
        else short_writes++;
    }
}

int main(int argc, char **argv) {
    int port = 0, size = 64;
    double rate = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--size")) size = atoi(argv[i + 1]);
        else { fprintf(stderr, "usage: c_broadcaster [--port P] [--rate R] [--size B]\n"); return 2; }
    }
    if (size < 0 || size > 60000) size = 64;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    conn_cap = (int)rl.rlim_cur + 16;
    conns = calloc((size_t)conn_cap, sizeof *conns);
    ws_fds = calloc((size_t)conn_cap, sizeof *ws_fds);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 4096) != 0) { perror("bind/listen"); return 1; }
    socklen_t al = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &al);
    printf("c_broadcaster listening on http://127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);

    int64_t interval = rate > 0 ? (int64_t)(1e9 / rate) : 0;
    int64_t grid = mono_ns();
    long long tick = 0;
    struct epoll_event evs[512];
    while (!stop_flag) {
        int timeout = -1;
        if (interval > 0) {
            int64_t due = grid + (tick + 1) * interval - mono_ns();
            timeout = due <= 0 ? 0 : (int)((due + 999999) / 1000000);
        }
        int n = epoll_wait(epfd, evs, 512, timeout);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (cfd < 0) break;
                    if (cfd >= conn_cap) { close(cfd); continue; }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[cfd].open = 1; conns[cfd].ws_slot1 = 0;
                    struct epoll_event ce = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = cfd};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &ce);
                }
            } else {
                on_readable(fd);
            }
        }
        if (interval > 0 && mono_ns() >= grid + (tick + 1) * interval) {
            tick++;
            broadcast(tick, size);
        }
    }
    fprintf(stderr, "c_broadcaster: %lld events, %lld frames written, %lld short writes, %d websockets\n",
            tick, frames_written, short_writes, ws_count);
    return 0;
}
