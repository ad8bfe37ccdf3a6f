/*
 * tls_handshakes.c: an LD_PRELOAD shim for wrk (which links OpenSSL's libssl dynamically) used by run.sh's
 * tlsclose and tlsfull cases. Built by run.sh into its work dir: cc -O2 -shared -fPIC -o tls_handshakes.so
 * tls_handshakes.c -ldl (no OpenSSL headers needed).
 *
 * - Counts the client's completed TLS handshakes and how many of them resumed a session; when the environment
 *   variable TLSHS_OUT names a file, writes "handshakes=N resumed=M" to it when the process exits (only a process
 *   that called SSL_connect: the preload also reaches wrappers such as timeout(1)). This is how
 *   run.sh checks that a Connection: close run really made a new TLS connection per request, and what kind.
 * - With TLSHS_NORESUME=1, forgets the session whenever wrk reuses its SSL object for a new connection, so every
 *   handshake is a full one (certificate, signature, key exchange). wrk calls SSL_clear() on close and SSL_connect()
 *   on the same SSL object for the next connection; SSL_clear() keeps the last session, so by default wrk resumes
 *   it (TLS 1.3 session tickets), as a browser would.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;
extern int SSL_set_session(SSL *s, SSL_SESSION *session);
extern int SSL_session_reused(const SSL *s);

static long handshakes, resumed;
static int used;   /* only a process that connected writes TLSHS_OUT: not a wrapper such as timeout(1) */

static int noresume(void) {
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("TLSHS_NORESUME");
        v = e != NULL && e[0] == '1';
    }
    return v;
}

int SSL_clear(SSL *s) {
    static int (*real)(SSL *);
    if (real == NULL) real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_clear");
    int r = real(s);
    if (noresume()) SSL_set_session(s, NULL);
    return r;
}

int SSL_connect(SSL *s) {
    static int (*real)(SSL *);
    if (real == NULL) real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
    int r = real(s);
    used = 1;
    if (r == 1) {
        __sync_fetch_and_add(&handshakes, 1);
        if (SSL_session_reused(s)) __sync_fetch_and_add(&resumed, 1);
    }
    return r;
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("TLSHS_OUT");
    if (!used || path == NULL || path[0] == '\0') return;
    FILE *f = fopen(path, "w");
    if (f == NULL) return;
    fprintf(f, "handshakes=%ld resumed=%ld\n", handshakes, resumed);
    fclose(f);
}
