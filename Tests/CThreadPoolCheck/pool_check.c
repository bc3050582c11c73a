/* Checks the worker pool of emitted libraries (CThreadPool): the kernels of a per-sample loss
   (focal) and a ranking loss (AP-Loss), loaded with dlopen, give the bits of one thread
   - with 2 and 3 threads over many calls, the count changing between calls,
   - while three threads call the same kernel at once (one holds the pool, the others start
     threads of their own),
   - in a child after fork() (its pool starts empty) and in the parent after it,
   - after dlclose() and a second dlopen() (the destructor stopped the workers: otherwise
     they would run unmapped code, and the process would crash).
   usage: pool_check LIBFOCAL.so LIBAP.so; prints "pool: same bits" and exits 0 when all hold
   (a hang ends it by SIGALRM after two minutes). */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef double (*focal_fn)(size_t, const float *, const float *, const float *, const void *, float *, float *);
typedef double (*rank_fn)(int64_t, const float *, const float *, const float *, float *, float *);
typedef void (*threads_fn)(int);

#define NF 70001   /* focal: 3 chunks of the per-sample runtime */
#define NR 200000  /* AP-Loss: 4 chunks of the ranking passes */
static float fx[NF], fy[NF], fg_ref[NF];
static float rs[NR], ry[NR], rg_ref[NR];
static double f_ref, r_ref;

struct lib { void *focal_handle, *rank_handle; focal_fn focal; rank_fn rank; threads_fn focal_threads, rank_threads; };
static const char *focal_path, *rank_path;
static struct lib lib;

static void *sym(void *h, const char *name)
{
    void *f = dlsym(h, name);
    if (!f) { printf("missing %s\n", name); exit(1); }
    return f;
}
static void load(void)
{
    lib.focal_handle = dlopen(focal_path, RTLD_NOW | RTLD_LOCAL);
    lib.rank_handle = dlopen(rank_path, RTLD_NOW | RTLD_LOCAL);
    if (!lib.focal_handle || !lib.rank_handle) { printf("dlopen: %s\n", dlerror()); exit(1); }
    /* (a data pointer to a function pointer: the way POSIX documents dlsym's use) */
    *(void **)&lib.focal = sym(lib.focal_handle, "focal_f32");
    *(void **)&lib.focal_threads = sym(lib.focal_handle, "focal_set_threads");
    *(void **)&lib.rank = sym(lib.rank_handle, "ap_loss_f32");
    *(void **)&lib.rank_threads = sym(lib.rank_handle, "ap_loss_set_threads");
}
static void unload(void)
{
    if (dlclose(lib.focal_handle) || dlclose(lib.rank_handle)) { printf("dlclose: %s\n", dlerror()); exit(1); }
}

/* One call of each kernel: 0 when both give the reference bits. */
static int same(void)
{
    float *g = malloc(NF * sizeof *g), *h = malloc(NR * sizeof *h);
    int bad;
    double a, b;
    if (!g || !h) { printf("out of memory\n"); exit(1); }
    a = lib.focal(NF, fx, fy, NULL, NULL, NULL, g);
    b = lib.rank(NR, rs, ry, NULL, h, NULL);
    bad = memcmp(&a, &f_ref, sizeof a) || memcmp(g, fg_ref, sizeof fg_ref)
        || memcmp(&b, &r_ref, sizeof b) || memcmp(h, rg_ref, sizeof rg_ref);
    free(g); free(h);
    return bad;
}

static void *caller(void *arg)
{
    int i, *bad = (int *)arg;
    for (i = 0; i < 20; i++) *bad |= same();
    return NULL;
}

int main(int argc, char **argv)
{
    const int counts[] = { 2, 3, 2, 1, 3, 2 };
    int bad = 0, i, k, status;
    pid_t child;
    if (argc != 3) { printf("usage: pool_check LIBFOCAL LIBAP\n"); return 2; }
    focal_path = argv[1]; rank_path = argv[2];
    alarm(120);                          /* a hang fails the check (SIGALRM ends the process) */
    srand(7);
    for (i = 0; i < NF; i++) { fx[i] = (float)rand() / RAND_MAX * 12.0f - 6.0f; fy[i] = rand() % 4 == 0 ? 1.0f : 0.0f; }
    for (i = 0; i < NR; i++) { rs[i] = (float)rand() / RAND_MAX * 8.0f - 4.0f; ry[i] = rand() % 100 == 0 ? 1.0f : (rand() % 10 == 0 ? -1.0f : 0.0f); }
    load();
    lib.focal_threads(1); lib.rank_threads(1);
    f_ref = lib.focal(NF, fx, fy, NULL, NULL, NULL, fg_ref);
    r_ref = lib.rank(NR, rs, ry, NULL, rg_ref, NULL);

    for (k = 0; k < 6; k++) {            /* many calls, the count changing between them */
        lib.focal_threads(counts[k]); lib.rank_threads(counts[k]);
        for (i = 0; i < 5; i++) if (same()) { printf("%d threads: differ\n", counts[k]); bad = 1; }
    }

    {                                    /* three callers at once, 2 threads each */
        pthread_t ids[3];
        int flags[3] = { 0, 0, 0 };
        lib.focal_threads(2); lib.rank_threads(2);
        for (k = 0; k < 3; k++) if (pthread_create(&ids[k], NULL, caller, &flags[k])) { printf("pthread_create\n"); return 1; }
        for (k = 0; k < 3; k++) { pthread_join(ids[k], NULL); if (flags[k]) { printf("concurrent caller %d: differ\n", k); bad = 1; } }
    }

    fflush(stdout);
    child = fork();                      /* the pool exists and is idle */
    if (child == 0) {
        alarm(60);                       /* a hang in the child fails the check */
        lib.focal_threads(3); lib.rank_threads(3);
        for (i = 0; i < 5; i++) if (same()) _exit(3);
        _exit(0);
    }
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("child after fork: %s\n", child < 0 ? "no fork" : "failed or hung"); bad = 1;
    }
    for (i = 0; i < 5; i++) if (same()) { printf("parent after fork: differ\n"); bad = 1; }

    for (k = 0; k < 3; k++) {            /* unload with live workers, load again */
        unload();
        load();
        lib.focal_threads(2); lib.rank_threads(2);
        for (i = 0; i < 3; i++) if (same()) { printf("after reload %d: differ\n", k); bad = 1; }
    }
    printf("pool: %s\n", bad ? "DIFFER" : "same bits");
    return bad;
}
