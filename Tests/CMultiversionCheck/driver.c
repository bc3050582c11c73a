/* Checks one emitted loss library (built by run.sh): every ISA path the CPU has computes the
   same bits as the baseline path (sums, per-sample losses, gradients) on a corpus of inputs
   with extremes, in float and double; and the sum has the same bits for 1, 2 and 3 threads.
   usage: driver LIB.so PREFIX binary|multiclass|box      exit 0 = all equal */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef double (*bin_f)(size_t, const void *, const void *, const void *, const void *, void *, void *);
typedef double (*mc_f)(size_t, size_t, const void *, const void *, const void *, const void *, void *, void *);
typedef double (*box_f)(size_t, const void *, const void *, const void *, void *, void *);

static void *lib;
static const char *prefix, *kind;
static int (*set_isa)(int);
static void (*set_threads)(int);
static unsigned long long rng = 88172645463325252ULL;
static double uniform(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}
static void *sym(const char *suffix)
{
    char name[256];
    void *p;
    snprintf(name, sizeof name, "%s%s", prefix, suffix);
    p = dlsym(lib, name);
    if (!p) { fprintf(stderr, "missing symbol %s\n", name); exit(2); }
    return p;
}

/* One run's outputs. */
struct out { double sum; unsigned char *loss, *grad; size_t lbytes, gbytes; };

static struct out run(int dbl, size_t n, size_t C, void *a, void *b, void *w)
{
    const size_t s = dbl ? sizeof(double) : sizeof(float);
    const int box = strcmp(kind, "box") == 0, mc = strcmp(kind, "multiclass") == 0;
    struct out o;
    o.lbytes = (n ? n : 1) * s;
    o.gbytes = (n ? n : 1) * (box ? 4 : mc ? C : 1) * s;
    o.loss = calloc(1, o.lbytes);
    o.grad = calloc(1, o.gbytes);
    if (mc) o.sum = ((mc_f)sym(dbl ? "_f64" : "_f32"))(n, C, a, b, w, NULL, o.loss, o.grad);
    else if (box) o.sum = ((box_f)sym(dbl ? "_f64" : "_f32"))(n, a, b, NULL, o.loss, o.grad);
    else o.sum = ((bin_f)sym(dbl ? "_f64" : "_f32"))(n, a, b, w, NULL, o.loss, o.grad);
    return o;
}

static int same(struct out x, struct out y)
{
    return memcmp(&x.sum, &y.sum, sizeof x.sum) == 0 && memcmp(x.loss, y.loss, x.lbytes) == 0
        && memcmp(x.grad, y.grad, x.gbytes) == 0;
}
static void drop(struct out o) { free(o.loss); free(o.grad); }

/* Inputs of the kind in the kernel layout, with extremes mixed in. */
static void fill(int dbl, size_t n, size_t C, void **a, void **b, void **w)
{
    static const double extreme[] = { -100, -30, -5, -1, -0.5, -0.0, 0.0, 0.5, 1, 5, 30, 100, 1e-30, -1e4 };
    const size_t s = dbl ? sizeof(double) : sizeof(float);
    const int box = strcmp(kind, "box") == 0;
    const size_t width = box ? 4 : (C ? C : 1), count = (n ? n : 1) * width;
    size_t i;
    *a = malloc(count * s); *b = malloc(count * s); *w = malloc((n ? n : 1) * s);
    for (i = 0; i < count; i++) {
        double va, vb;
        if (box) {
            const size_t k = i % 4;
            va = k < 2 ? 500 * uniform() : 0; vb = k < 2 ? 500 * uniform() : 0;
            if (k >= 2) {
                va = (dbl ? ((double *)*a)[i - 2] : ((float *)*a)[i - 2]) + (i % 37 == 2 ? 0 : 1 + 300 * uniform());
                vb = (dbl ? ((double *)*b)[i - 2] : ((float *)*b)[i - 2]) + 1 + 300 * uniform();
            }
        } else {
            va = i % 7 == 0 ? extreme[(i / 7) % (sizeof extreme / sizeof extreme[0])] : 16 * uniform() - 8;
            vb = C > 1 ? (i % C == (i / C) % C) : (i % 5 == 0 ? uniform() : (double)(uniform() < 0.5));
        }
        if (dbl) { ((double *)*a)[i] = va; ((double *)*b)[i] = vb; }
        else { ((float *)*a)[i] = (float)va; ((float *)*b)[i] = (float)vb; }
    }
    for (i = 0; i < (n ? n : 1); i++) {
        const double v = i % 3 == 0 ? 1.0 : uniform();
        if (dbl) ((double *)*w)[i] = v; else ((float *)*w)[i] = (float)v;
    }
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = { 0, 1, 7, 300, 70001 };
    static const size_t classes[] = { 3, 81, 2100 };
    int failures = 0, checks = 0, best, level, dbl;
    size_t si, ci;
    if (argc != 4) { fprintf(stderr, "usage: driver LIB.so PREFIX binary|multiclass|box\n"); return 2; }
    lib = dlopen(argv[1], RTLD_NOW);
    if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 2; }
    prefix = argv[2]; kind = argv[3];
    set_isa = (int (*)(int))sym("_set_isa");
    set_threads = (void (*)(int))sym("_set_threads");
    best = set_isa(-1);
    for (dbl = 0; dbl < 2; dbl++) {
        for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            for (ci = 0; ci < (strcmp(kind, "multiclass") == 0 ? 3u : 1u); ci++) {
                const size_t C = strcmp(kind, "multiclass") == 0 ? classes[ci] : 1;
                const size_t n = C > 100 ? sizes[si] / 40 : sizes[si];
                void *a, *b, *w;
                struct out base;
                int t;
                fill(dbl, n, C, &a, &b, &w);
                set_threads(1);
                set_isa(0);
                base = run(dbl, n, C, a, b, w);
                for (level = 1; level <= best; level++) {
                    struct out o;
                    set_isa(level);
                    o = run(dbl, n, C, a, b, w);
                    checks++;
                    if (!same(base, o)) {
                        failures++;
                        fprintf(stderr, "%s %s n=%zu C=%zu: ISA level %d differs from the baseline (sum %.17g vs %.17g)\n",
                                prefix, dbl ? "f64" : "f32", n, C, level, o.sum, base.sum);
                    }
                    drop(o);
                }
                set_isa(-1);
                for (t = 1; t <= 3; t++) {
                    struct out o;
                    set_threads(t);
                    o = run(dbl, n, C, a, b, w);
                    checks++;
                    if (!same(base, o)) {
                        failures++;
                        fprintf(stderr, "%s %s n=%zu C=%zu: %d threads differ from 1 thread on the baseline (sum %.17g vs %.17g)\n",
                                prefix, dbl ? "f64" : "f32", n, C, t, o.sum, base.sum);
                    }
                    drop(o);
                }
                drop(base);
                free(a); free(b); free(w);
            }
        }
    }
    printf("%s (%s): ISA levels 0..%d and 1-3 threads, %d comparisons, %d differ\n", prefix, kind, best, checks, failures);
    return failures ? 1 : 0;
}
