import LossDSL

/// Closures for the class-axis operators of `multiclass` losses (softmax, log_softmax, dot,
/// sum), run per sample over its `classes` values.
///
/// The math is the operator table's (`Op.applyClassAxis`): softmax subtracts the row maximum
/// (NaNs skipped; a non-finite maximum becomes 0), sums `exp(a - m)` and divides. With
/// `exactOrder` the operations happen in exactly the reference evaluator's order (sequential
/// sums, scalar libm `exp`), so results are bit-identical; otherwise `exp` runs as one C block
/// call over the whole block and sums use four accumulators (a different rounding order, the
/// same math), which removes the add-latency chain of a sequential sum.
enum ClassAxisLoops {
    /// `softmax` into register `soft` and/or `log_softmax` into register `log` (at least one),
    /// of a class-vector argument: the row maximum and the sum of exps are computed once.
    static func softmax<T: BlockReal>(_ a: BlockArg<T>, soft: Int?, log: Int?, exactOrder: Bool, scratch: Int) -> BlockOp<T> {
        return { regs, rows, classes in
            let x = Loops.materialize(a, regs, scratch, rows, classes)
            let ys = soft.map { regs[$0] }, yl = log.map { regs[$0] }
            if exactOrder {
                for r in 0..<rows {
                    let base = r * classes, xs = x + base
                    let m = rowMax(xs, classes)
                    var s: T = 0
                    for k in 0..<classes { s += T.exp(xs[k] - m) }
                    if let yl {
                        let ls = T.log(s)
                        for k in 0..<classes { yl[base + k] = xs[k] - m - ls }
                    }
                    if let ys {
                        for k in 0..<classes { ys[base + k] = T.exp(xs[k] - m) / s }
                    }
                }
                return
            }
            // t = x - rowmax, e = exp(t) in one block call (into the softmax register when
            // there is one), then per row: softmax = e / s, log_softmax = t - log s.
            let t = regs[scratch + 1], e = ys ?? regs[scratch + 2]
            for r in 0..<rows {
                let base = r * classes
                let m = laneMax(x + base, classes)
                for k in base..<(base + classes) { t[k] = x[k] - m }
            }
            T.apply(.exp, t, e, rows * classes)
            for r in 0..<rows {
                let base = r * classes
                let s = laneSum(e + base, classes)
                if let yl {
                    let ls = T.log(s)
                    for k in base..<(base + classes) { yl[k] = t[k] - ls }
                }
                if let ys {
                    // One division a row: a multiply by 1/s is within an ulp of e/s, and a
                    // division per class was the loop's bound.
                    let inv = 1 / s
                    for k in base..<(base + classes) { ys[k] = e[k] * inv }
                }
            }
        }
    }

    /// `dot(a, b)` (or `sum(a)` when `b` is nil): one value per sample.
    static func reduce<T: BlockReal>(_ a: BlockArg<T>, _ b: BlockArg<T>?, _ o: Int, exactOrder: Bool, scratch: Int) -> BlockOp<T> {
        return { regs, rows, classes in
            let x = Loops.materialize(a, regs, scratch, rows, classes), y = regs[o]
            if let b {
                let z = Loops.materialize(b, regs, scratch + 1, rows, classes)
                for r in 0..<rows {
                    let xs = x + r * classes, zs = z + r * classes
                    if exactOrder {
                        var s: T = 0
                        for k in 0..<classes { s += xs[k] * zs[k] }
                        y[r] = s
                    } else {
                        y[r] = laneDot(xs, zs, classes)
                    }
                }
            } else {
                for r in 0..<rows {
                    let xs = x + r * classes
                    if exactOrder {
                        var s: T = 0
                        for k in 0..<classes { s += xs[k] }
                        y[r] = s
                    } else {
                        y[r] = laneSum(xs, classes)
                    }
                }
            }
        }
    }

    /// The largest value of a row, NaNs skipped, 0 when it is not finite (as the reference).
    @inline(__always)
    static func rowMax<T: BlockReal>(_ p: UnsafePointer<T>, _ n: Int) -> T {
        var m = -T.infinity
        for k in 0..<n where p[k] > m { m = p[k] }
        return m.isFinite ? m : 0
    }

    /// `rowMax` with four independent running maxima (NaNs skipped the same way; a maximum of
    /// zero may come out as -0 instead of +0, which only changes the sign of a zero result).
    @inline(__always)
    static func laneMax<T: BlockReal>(_ p: UnsafePointer<T>, _ n: Int) -> T {
        var m0 = -T.infinity, m1 = -T.infinity, m2 = -T.infinity, m3 = -T.infinity
        var i = 0
        while i + 4 <= n {
            m0 = p[i] > m0 ? p[i] : m0; m1 = p[i + 1] > m1 ? p[i + 1] : m1
            m2 = p[i + 2] > m2 ? p[i + 2] : m2; m3 = p[i + 3] > m3 ? p[i + 3] : m3
            i += 4
        }
        while i < n { m0 = p[i] > m0 ? p[i] : m0; i += 1 }
        m0 = m1 > m0 ? m1 : m0
        m2 = m3 > m2 ? m3 : m2
        m0 = m2 > m0 ? m2 : m0
        return m0.isFinite ? m0 : 0
    }

    /// A sum with four independent accumulators (four add chains in flight instead of one).
    @inline(__always)
    static func laneSum<T: BlockReal>(_ p: UnsafePointer<T>, _ n: Int) -> T {
        var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
        var i = 0
        while i + 4 <= n {
            s0 += p[i]; s1 += p[i + 1]; s2 += p[i + 2]; s3 += p[i + 3]
            i += 4
        }
        while i < n { s0 += p[i]; i += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    @inline(__always)
    static func laneDot<T: BlockReal>(_ p: UnsafePointer<T>, _ q: UnsafePointer<T>, _ n: Int) -> T {
        var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
        var i = 0
        while i + 4 <= n {
            s0 += p[i] * q[i]; s1 += p[i + 1] * q[i + 1]; s2 += p[i + 2] * q[i + 2]; s3 += p[i + 3] * q[i + 3]
            i += 4
        }
        while i < n { s0 += p[i] * q[i]; i += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}
