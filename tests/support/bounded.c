/* SPDX-License-Identifier: Apache-2.0 */
/* bounded: runs one CTest test so that nothing it starts outlives it.
 *
 *   bounded NAME COMMAND [ARG...]
 *
 * CTest ends a test when its process has exited and the test's output pipe is closed. A server
 * that a test script started in the background and failed to stop keeps that pipe open, and CTest
 * then waits for it forever, whatever TIMEOUT says (CTest's kill reaches the test's process, not
 * what it started). So the test runs here in a process group of its own, writing into a pipe of
 * ours that we copy to our output; we are the subreaper of everything it starts. When the test
 * exits, every process it left behind (its group, and any descendant that left the group: job
 * control, setsid) is named on stderr and in $CCZ_TEST_STRAYS if set, then killed; our own
 * output closes when we exit, whoever still holds the test's pipe.
 *
 * $CCZ_TEST_TIMEOUT (seconds) bounds the test: past it, the processes still running are named
 * and killed, and we exit 124. CMake sets it a little under the test's TIMEOUT, so that the test
 * is stopped here, with its processes named, before CTest would kill only us.
 *
 * The exit status is the test's: its code, or the signal that ended it, raised again. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *test_name = "?";
static volatile sig_atomic_t forward_signal;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
    forward_signal = sig;
}

/* Copies what is waiting on fd to stdout. Returns false at end of file. */
static bool relay(int fd)
{
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0)
        return false;
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return true; /* our reader is gone; keep draining so the test does not block */
        off += w;
    }
    return true;
}

/* A process's parent and group from /proc/PID/stat, and its command line for the report. */
static bool proc_info(pid_t pid, pid_t *ppid, pid_t *pgrp, char *cmd, size_t cmd_size)
{
    char path[64], stat[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *close = strrchr(stat, ')'); /* the name may hold spaces and parentheses */
    int parent, group;
    char state;
    if (!close || sscanf(close + 1, " %c %d %d", &state, &parent, &group) != 3 || state == 'Z')
        return false;
    *ppid = parent;
    *pgrp = group;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    cmd[0] = '\0';
    f = fopen(path, "r");
    if (f) {
        n = fread(cmd, 1, cmd_size - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            if (cmd[i] == '\0' || !isprint((unsigned char)cmd[i]))
                cmd[i] = ' ';
        cmd[n] = '\0';
    }
    return true;
}

/* Kills, with SIGKILL, every live process of the test's group and every live child of ours
 * (descendants that left the group come to us when their parent dies). With report set, names
 * each on stderr and in $CCZ_TEST_STRAYS. Returns how many it found. */
static int kill_sweep(pid_t group, bool report, const char *why)
{
    DIR *d = opendir("/proc");
    if (!d)
        return killpg(group, SIGKILL) == 0;
    const char *log_path = getenv("CCZ_TEST_STRAYS");
    FILE *log = report && log_path && *log_path ? fopen(log_path, "a") : NULL;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        pid_t ppid, pgrp;
        char cmd[512];
        if (*end || pid <= 1 || pid == getpid() ||
            !proc_info((pid_t)pid, &ppid, &pgrp, cmd, sizeof cmd))
            continue;
        if (pgrp != group && ppid != getpid())
            continue;
        if (report) {
            fprintf(stderr, "bounded: %s: %s: pid %ld: %s\n", test_name, why, pid, cmd);
            if (log)
                fprintf(log, "%s: %s: pid %ld: %s\n", test_name, why, pid, cmd);
        }
        kill((pid_t)pid, SIGKILL);
        found++;
    }
    closedir(d);
    if (log)
        fclose(log);
    return found;
}

/* Kills everything the test left and reaps it, for at most five seconds. */
static void end_all(pid_t group, const char *why)
{
    bool report = true;
    double give_up = now() + 5;
    for (;;) {
        int found = kill_sweep(group, report, why);
        report = false;
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (found == 0 || now() > give_up)
            return;
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

static int exit_like(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    int sig = WTERMSIG(status);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    return 128 + sig;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bounded NAME COMMAND [ARG...]\n");
        return 2;
    }
    test_name = argv[1];
    double limit = 0;
    const char *t = getenv("CCZ_TEST_TIMEOUT");
    if (t && *t) {
        char *end;
        limit = strtod(t, &end);
        if (*end || limit <= 0) {
            fprintf(stderr, "bounded: CCZ_TEST_TIMEOUT=%s is not a number of seconds\n", t);
            return 2;
        }
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        perror("bounded: pipe");
        return 2;
    }
    /* without it (a kernel or sandbox that refuses), what leaves the group is not ours to
     * reap; the rest holds */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        fprintf(stderr, "bounded: not a subreaper (%s)\n", strerror(errno));
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        perror("bounded: fork");
        return 2;
    }
    if (child == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* CTest killed us: the test goes too */
        dup2(out[1], STDOUT_FILENO);
        dup2(out[1], STDERR_FILENO);
        execvp(argv[2], argv + 2);
        fprintf(stderr, "bounded: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    setpgid(child, child); /* both sides set it, so that neither races the other */
    close(out[1]);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    double deadline = limit > 0 ? now() + limit : 0;
    int status = 0;
    bool open = true;
    for (;;) {
        if (forward_signal) {
            killpg(child, forward_signal);
            forward_signal = 0;
        }
        /* the test's end, and the orphans we adopted reaped as they end, as init would: one
         * left a zombie would still answer kill -0 (and a test that waits for its group to be
         * empty, for ever) */
        bool ended = false;
        pid_t r;
        int st;
        while ((r = waitpid(-1, &st, WNOHANG)) > 0)
            if (r == child) {
                status = st;
                ended = true;
            }
        if (ended)
            break;
        if (deadline && now() > deadline) {
            fprintf(stderr, "bounded: %s ran past its %g s; stopping it\n", test_name, limit);
            end_all(child, "still running at the time limit"); /* reaps the test too */
            status = 124 << 8;
            break;
        }
        struct pollfd p = {open ? out[0] : -1, POLLIN, 0};
        if (poll(&p, 1, 100) > 0 && !relay(out[0]))
            open = false;
    }
    end_all(child, "left running when the test ended");

    /* Whatever the test wrote before it ended; a writer that escaped the sweep (a daemon that
     * made itself another session's and was not our child) cannot hold us past a second. */
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    double drain_until = now() + 1;
    while (open && now() < drain_until) {
        struct pollfd p = {out[0], POLLIN, 0};
        if (poll(&p, 1, 50) > 0 && !relay(out[0]))
            break;
    }
    return exit_like(status);
}
