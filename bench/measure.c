/*
 * Runs one command and prints its wall time and peak RSS: `SECONDS MAXRSS_KIB EXIT_STATUS`.
 *
 *     measure [-o FILE] COMMAND [ARGS...]
 *
 * The clock (CLOCK_MONOTONIC) runs from just before the fork to the return of wait4(2),
 * whose rusage gives the child's peak resident set size (ru_maxrss, KiB).
 *
 * Why C and not a script: Linux carries a process's RSS high-water mark across execve, so a
 * child forked from Python (~13 MiB resident) reports at least Python's RSS whatever it runs.
 * Forked from this ~1 MiB program, the floor is far below anything measured.
 *
 * The command's stdout goes to FILE (default /dev/null); stdin and stderr are inherited.
 * Built by bench/e2e.sh: cc -O2 -o measure bench/measure.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *out_path = "/dev/null";
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-o") == 0) {
        out_path = argv[2];
        first = 3;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: measure [-o FILE] COMMAND [ARGS...]\n");
        return 2;
    }
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        perror(out_path);
        return 2;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        dup2(out, 1);
        execvp(argv[first], &argv[first]);
        perror(argv[first]);
        _exit(127);
    }
    int status = 0;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) {
        perror("wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double wall = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("%.6f %ld %d\n", wall, usage.ru_maxrss, code);
    return 0;
}
