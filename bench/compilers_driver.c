/* Times one emitted loss library (value + gradient, float32): best of `reps` runs of the
   kernel on n samples, in ns per element (a logit; GIoU: a box). CPU time of the process
   with 1 thread (steadier than wall clock on a shared machine), wall clock with more or
   when $LOSSC_WALL is set. `multiclass` reads a one-hot float matrix (PREFIX_f32), `labels`
   int64 class labels (PREFIX_labels_f32, what torch's cross_entropy reads), C = 81 classes.
   usage: compilers_driver LIB.so PREFIX binary|multiclass|labels|box ELEMENTS THREADS REPS */
#define _POSIX_C_SOURCE 199309L
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef double (*bin_f)(size_t, const float *, const float *, const float *, const void *, float *, float *);
typedef double (*mc_f)(size_t, size_t, const float *, const float *, const float *, const void *, float *, float *);
typedef double (*labels_f)(size_t, size_t, const float *, const int64_t *, const float *, const void *, float *, float *);
typedef double (*box_f)(size_t, const float *, const float *, const void *, float *, float *);

static unsigned long long rng = 88172645463325252ULL;
static double uniform(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}
static double now(int wall)
{
    struct timespec t;
    clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    const size_t C = 81;
    char name[256];
    void *lib, *f;
    void (*set_threads)(int);
    const char *kind;
    size_t n, count, i;
    int threads, reps, r, box, mc, labels, wall;
    float *a, *b, *w, *g;
    int64_t *label;
    double best = 1e30, sum = 0;
    if (argc != 7) { fprintf(stderr, "usage: compilers_driver LIB.so PREFIX KIND ELEMENTS THREADS REPS\n"); return 2; }
    lib = dlopen(argv[1], RTLD_NOW);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 2; }
    kind = argv[3]; n = strtoul(argv[4], NULL, 10); threads = atoi(argv[5]); reps = atoi(argv[6]);
    box = strcmp(kind, "box") == 0; labels = strcmp(kind, "labels") == 0;
    mc = labels || strcmp(kind, "multiclass") == 0;
    snprintf(name, sizeof name, "%s_set_threads", argv[2]);
    *(void **)&set_threads = dlsym(lib, name);
    snprintf(name, sizeof name, labels ? "%s_labels_f32" : "%s_f32", argv[2]);
    f = dlsym(lib, name);
    if (!f || !set_threads) { fprintf(stderr, "missing %s or its _set_threads\n", name); return 2; }
    set_threads(threads);
    wall = threads != 1 || getenv("LOSSC_WALL") != NULL;
    if (box) n /= 4;
    if (mc) n /= C;
    count = n * (box ? 4 : mc ? C : 1);
    a = malloc(count * sizeof *a); b = malloc(count * sizeof *b); w = malloc(n * sizeof *w); g = malloc(count * sizeof *g);
    label = malloc(n * sizeof *label);
    for (i = 0; i < count; i++) {
        if (box && i % 4 >= 2) { a[i] = a[i - 2] + 1.0f + (float)(300 * uniform()); b[i] = b[i - 2] + 1.0f + (float)(300 * uniform()); }
        else if (box) { a[i] = (float)(500 * uniform()); b[i] = a[i] + (float)(60 * uniform() - 30); }
        else { a[i] = (float)(6 * uniform() - 3) * (float)(1 + 2 * uniform()); b[i] = mc ? (float)(i % C == (i / C) % C) : (float)(uniform() < 0.1); }
    }
    for (i = 0; i < n; i++) { w[i] = 1.0f; label[i] = (int64_t)(i % C); }  /* the one-hot rows' classes */
    for (r = 0; r <= reps; r++) {
        const double t0 = now(wall);
        if (labels) sum = ((labels_f)f)(n, C, a, label, w, NULL, NULL, g);
        else if (mc) sum = ((mc_f)f)(n, C, a, b, w, NULL, NULL, g);
        else if (box) sum = ((box_f)f)(n, a, b, NULL, NULL, g);
        else sum = ((bin_f)f)(n, a, b, w, NULL, NULL, g);
        if (r > 0 && now(wall) - t0 < best) best = now(wall) - t0;
    }
    printf("%.3f %.17g\n", best * 1e9 / (double)(box ? n : count), sum);
    return 0;
}
