#!/usr/bin/env python3
"""Regenerate the polynomial coefficients used in Sources/CLossMath/include/lossc_math.h.

Development tool only (needs mpmath); the C library itself has no dependencies.
Each approximation is a weighted minimax fit found with the Remez exchange algorithm
on a dense grid, then rounded to the working precision; the printed "max rel err" is
measured *after* rounding the coefficients, in units of 2^-24 (float) or 2^-53 (double).

    python3 Tests/CLossMathCheck/gen_coeffs.py
"""
import mpmath as mp

mp.mp.dps = 60
LN2 = mp.log(2)
HALF_LN2 = LN2 / 2 * (1 + mp.mpf(2) ** -20)           # margin: the rounded n may be off by one ulp
SMAX = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)           # |s| bound for s = f/(2+f), f in [sqrt2/2-1, sqrt2-1]
ZMAX = SMAX * SMAX * (1 + mp.mpf(2) ** -20)


def remez(f, w, powers, a, b, iters=40, grid=6000):
    """Minimise max |w(x) * (sum c_j x^powers[j] - f(x))| on [a, b]."""
    n = len(powers)
    ref = [(a + b) / 2 - (b - a) / 2 * mp.cos(mp.pi * i / n) for i in range(n + 1)]
    ref = [x + (b - a) / 1000 if abs(x) < (b - a) / 10 ** 6 else x for x in ref]  # weights vanish at 0
    xs = [a + (b - a) * (1 - mp.cos(mp.pi * (i + 0.5) / grid)) / 2 for i in range(grid)]
    xs = [x for x in xs if x != 0]
    c = None
    for it in range(iters):
        A = mp.matrix(n + 1, n + 1)
        rhs = mp.matrix(n + 1, 1)
        for i, x in enumerate(ref):
            for j, p in enumerate(powers):
                A[i, j] = x ** p
            A[i, n] = (-1) ** i / w(x)
            rhs[i] = f(x)
        sol = mp.lu_solve(A, rhs)
        c = [sol[j] for j in range(n)]
        err = [w(x) * (sum(cj * x ** p for cj, p in zip(c, powers)) - f(x)) for x in xs]
        # local extrema of the error curve, then keep an alternating subset of n+1 of them
        ext = [i for i in range(len(xs))
               if (i == 0 or abs(err[i]) >= abs(err[i - 1])) and (i == len(xs) - 1 or abs(err[i]) >= abs(err[i + 1]))]
        alt = []
        for i in ext:
            if alt and mp.sign(err[i]) == mp.sign(err[alt[-1]]):
                if abs(err[i]) > abs(err[alt[-1]]):
                    alt[-1] = i
            else:
                alt.append(i)
        while len(alt) > n + 1:  # drop the smaller end
            if abs(err[alt[0]]) < abs(err[alt[-1]]):
                alt.pop(0)
            else:
                alt.pop()
        if len(alt) < n + 1:
            raise RuntimeError(f'lost alternation at iteration {it}')
        new = [xs[i] for i in alt]
        if max(abs(p - q) for p, q in zip(new, ref)) < mp.mpf(10) ** -30:
            break
        ref = new
    return c


def rounded_error(c, f, w, powers, a, b, to, unit):
    c = [to(x) for x in c]
    xs = [a + (b - a) * i / 4001 for i in range(4002)]
    e = max(abs(w(x) * (sum(cj * x ** p for cj, p in zip(c, powers)) - f(x))) for x in xs if x != 0)
    return c, e / unit


def f32(x):
    import struct
    return mp.mpf(struct.unpack('f', struct.pack('f', float(x)))[0])


def f64(x):
    return mp.mpf(float(x))


def guard(g, lim):
    return lambda x: lim if abs(x) < mp.mpf(10) ** -25 else g(x)


# exp(r) = 1 + r + r^2 P(r): fit P, relative error of exp(r)
exp_P = guard(lambda r: (mp.exp(r) - 1 - r) / r ** 2, mp.mpf(1) / 2)
exp_w = lambda r: r ** 2 / mp.exp(r)
# expm1(r) = r + r^2 (1/2 + r Q(r)): fit Q, relative error of expm1(r)
em1_Q = guard(lambda r: (mp.expm1(r) - r - r ** 2 / 2) / r ** 3, mp.mpf(1) / 6)
em1_w = lambda r: r ** 3 / mp.expm1(r)
# log1p(f) = f - hfsq + s (hfsq + R(z)), s = f/(2+f), z = s^2; R(z) = log((1+s)/(1-s))/s - 2.
# log1p(f) ~ 2s, so the relative error of the result is |dR| / 2.
log_R = guard(lambda z: mp.log((1 + mp.sqrt(z)) / (1 - mp.sqrt(z))) / mp.sqrt(z) - 2, mp.mpf(0))
log_w = lambda z: mp.mpf(1) / 2

jobs = [
    ("expf   P(r)", exp_P, exp_w, range(0, 5), -HALF_LN2, HALF_LN2, f32, mp.mpf(2) ** -24),
    ("expm1f Q(r)", em1_Q, em1_w, range(0, 4), -HALF_LN2, HALF_LN2, f32, mp.mpf(2) ** -24),
    ("logf   R(z)", log_R, log_w, range(1, 4), mp.mpf(0), ZMAX, f32, mp.mpf(2) ** -24),
    ("exp    P(r)", exp_P, exp_w, range(0, 10), -HALF_LN2, HALF_LN2, f64, mp.mpf(2) ** -53),
    ("expm1  Q(r)", em1_Q, em1_w, range(0, 10), -HALF_LN2, HALF_LN2, f64, mp.mpf(2) ** -53),
    ("log    R(z)", log_R, log_w, range(1, 8), mp.mpf(0), ZMAX, f64, mp.mpf(2) ** -53),
]

for name, f, w, powers, a, b, to, unit in jobs:
    powers = list(powers)
    c = remez(f, w, powers, a, b)
    c, e = rounded_error(c, f, w, powers, a, b, to, unit)
    print(f"{name}: degree {powers[-1]}, max rel err {mp.nstr(e, 3)} units of 2^-{24 if to is f32 else 53}")
    for p, cj in zip(powers, c):
        print(f"    x^{p}: {float(cj).hex()}  ({mp.nstr(cj, 17)})")
# Cody-Waite split of ln2: the high part has enough trailing zero bits that n*LN2_HI is exact
# for every n the reductions can produce (|n| < 2^8 in float, < 2^11 in double).
for bits, to in ((16, f32), (42, f64)):
    hi = mp.floor(LN2 * 2 ** bits) / 2 ** bits
    print(f"ln2 hi ({bits} bits): {float(hi).hex()}  lo: {float(to(LN2 - hi)).hex()}")
