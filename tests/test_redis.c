/* test_redis.c -- starts and stops a private redis-server on a free
 * loopback port for the tests that need one.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

int test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        AURA_FAIL_("cannot find a free port: %s", strerror(errno));
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* 1 once the server answers PING with PONG (not -LOADING). */
static int can_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (ok) {
        char buf[64] = {0};
        struct timeval tv = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ok = write(fd, "PING\r\n", 6) == 6 && read(fd, buf, sizeof buf - 1) > 0 &&
             strncmp(buf, "+PONG", 5) == 0;
    }
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

int test_redis_start(int port, const char *dir, int aof_always)
{
    const char *bin = getenv("AURA_REDIS_SERVER");
    bin = bin && *bin ? bin : "redis-server";
    char portbuf[16], logfile[1024];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    snprintf(logfile, sizeof logfile, "%s/redis.log", dir);
    pid_t pid = fork();
    if (pid == 0) {
        execlp(bin, bin, "--port", portbuf, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", aof_always ? "yes" : "no", "--appendfsync", "always", "--dir",
               dir, "--logfile", logfile, "--daemonize", "no", (char *)NULL);
        fprintf(stderr, "cannot run %s: %s (make test installs redis-server)\n", bin,
                strerror(errno));
        _exit(127);
    }
    for (int i = 0; i < 500; i++) { /* up to 5 s */
        if (can_connect(port)) {
            return pid;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            AURA_FAIL_("redis-server exited before listening (see %s)", logfile);
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    AURA_FAIL_("redis-server did not listen on port %d within 5 s", port);
}

void test_redis_stop(int pid, int hard)
{
    if (pid > 0) {
        kill(pid, hard ? SIGKILL : SIGTERM);
        waitpid(pid, NULL, 0);
    }
}
