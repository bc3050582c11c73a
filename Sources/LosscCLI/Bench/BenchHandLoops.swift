#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLossMath

/// Hand-written Swift loops of the benchmarked losses (value + gradient, Float), the Swift
/// baselines of `lossc bench closures`. Each returns the sum of the losses and writes the
/// per-sample gradient when `g` is not nil.
///
/// Two styles: `libm` is the plain loop a Swift programmer writes first (one pass, scalar
/// `expf`/`log1pf` from libm); `vector` is what a performance-minded one writes: blocks of
/// 1024, the exp/log1p of a whole block through the same C block functions the closures use
/// (`lossc_vexpf`, `lossc_vlog1pf`), the rest in fused Swift loops.
enum HandLoops {
    static let block = 1024

    // MARK: focal (gamma = 2)

    /// loss = y a q² sp(-x) + (1-y)(1-a) p² sp(x), with p = σ(x), q = σ(-x), sp = softplus;
    /// all from e = exp(-|x|) and l = log1p(e).
    @inline(__always)
    static func focalElement(_ x: Float, _ y: Float, _ e: Float, _ l: Float, _ alpha: Float) -> (Float, Float) {
        let r = 1 / (1 + e)
        let p = x >= 0 ? r : e * r, q = x >= 0 ? e * r : r
        let spx = (x > 0 ? x : 0) + l, spn = (x < 0 ? -x : 0) + l
        let wp = y * alpha, wn = (1 - y) * (1 - alpha)
        let loss = wp * q * q * spn + wn * p * p * spx
        let grad = wp * (-2 * p * q * q * spn - q * q * q) + wn * (2 * p * p * q * spx + p * p * p)
        return (loss, grad)
    }

    static func focalLibm(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>?,
                          _ n: Int, alpha: Float) -> Double {
        var sum = 0.0
        for i in 0..<n {
            let e = expf(-abs(x[i]))
            let (loss, grad) = focalElement(x[i], y[i], e, log1pf(e), alpha)
            sum += Double(loss)
            g?[i] = grad
        }
        return sum
    }

    static func focalVector(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>?,
                            _ n: Int, alpha: Float) -> Double {
        let e = UnsafeMutablePointer<Float>.allocate(capacity: 3 * block)
        defer { e.deallocate() }
        let l = e + block, buf = e + 2 * block
        var sum = 0.0
        for b in stride(from: 0, to: n, by: block) {
            let m = min(block, n - b), xs = x + b, ys = y + b
            for i in 0..<m { buf[i] = -abs(xs[i]) }
            lossc_vexpf(buf, e, m)
            lossc_vlog1pf(e, l, m)
            if let g {
                let gs = g + b
                for i in 0..<m { (buf[i], gs[i]) = focalElement(xs[i], ys[i], e[i], l[i], alpha) }
            } else {
                for i in 0..<m { buf[i] = focalElement(xs[i], ys[i], e[i], l[i], alpha).0 }
            }
            sum += laneSum(buf, m)
        }
        return sum
    }

    // MARK: BCE on logits

    /// loss = y sp(-x) + (1-y) sp(x), d/dx = σ(x) - y.
    @inline(__always)
    static func bceElement(_ x: Float, _ y: Float, _ e: Float, _ l: Float) -> (Float, Float) {
        let p = x >= 0 ? 1 / (1 + e) : e / (1 + e)
        let spx = (x > 0 ? x : 0) + l, spn = (x < 0 ? -x : 0) + l
        return (y * spn + (1 - y) * spx, p - y)
    }

    static func bceLibm(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>?, _ n: Int) -> Double {
        var sum = 0.0
        for i in 0..<n {
            let e = expf(-abs(x[i]))
            let (loss, grad) = bceElement(x[i], y[i], e, log1pf(e))
            sum += Double(loss)
            g?[i] = grad
        }
        return sum
    }

    static func bceVector(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>?, _ n: Int) -> Double {
        let e = UnsafeMutablePointer<Float>.allocate(capacity: 3 * block)
        defer { e.deallocate() }
        let l = e + block, buf = e + 2 * block
        var sum = 0.0
        for b in stride(from: 0, to: n, by: block) {
            let m = min(block, n - b), xs = x + b, ys = y + b
            for i in 0..<m { buf[i] = -abs(xs[i]) }
            lossc_vexpf(buf, e, m)
            lossc_vlog1pf(e, l, m)
            if let g {
                let gs = g + b
                for i in 0..<m { (buf[i], gs[i]) = bceElement(xs[i], ys[i], e[i], l[i]) }
            } else {
                for i in 0..<m { buf[i] = bceElement(xs[i], ys[i], e[i], l[i]).0 }
            }
            sum += laneSum(buf, m)
        }
        return sum
    }

    // MARK: softmax cross-entropy

    /// Per row: loss = -Σ y (x - m - log s), s = Σ exp(x - m); d/dx = softmax · Σy - y.
    static func crossEntropyLibm(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>?,
                                 rows: Int, classes c: Int) -> Double {
        var total = 0.0
        for r in 0..<rows {
            let xr = x + r * c, yr = y + r * c
            var m = -Float.infinity
            for k in 0..<c where xr[k] > m { m = xr[k] }
            var s: Float = 0, sy: Float = 0
            for k in 0..<c { s += expf(xr[k] - m); sy += yr[k] }
            let ls = logf(s)
            var loss: Float = 0
            for k in 0..<c { loss -= yr[k] * (xr[k] - m - ls) }
            total += Double(loss)
            if let g {
                for k in 0..<c { g[r * c + k] = expf(xr[k] - m) / s * sy - yr[k] }
            }
        }
        return total
    }

    static func crossEntropyVector(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>?,
                                   rows: Int, classes c: Int) -> Double {
        let rowsPerBlock = max(1, block / c), size = rowsPerBlock * c
        let t = UnsafeMutablePointer<Float>.allocate(capacity: 2 * size)
        defer { t.deallocate() }
        let e = t + size
        var total = 0.0
        for b in stride(from: 0, to: rows, by: rowsPerBlock) {
            let m = min(rowsPerBlock, rows - b), xs = x + b * c, ys = y + b * c
            for r in 0..<m {
                var mx = -Float.infinity
                for k in (r * c)..<(r * c + c) where xs[k] > mx { mx = xs[k] }
                for k in (r * c)..<(r * c + c) { t[k] = xs[k] - mx }
            }
            lossc_vexpf(t, e, m * c)
            for r in 0..<m {
                let base = r * c
                let s = laneSum(e + base, c), sy = laneSum(ys + base, c)
                let ls = Float(log(s))
                var l0: Float = 0, l1: Float = 0
                var k = base
                while k + 2 <= base + c { l0 += ys[k] * (t[k] - ls); l1 += ys[k + 1] * (t[k + 1] - ls); k += 2 }
                if k < base + c { l0 += ys[k] * (t[k] - ls) }
                total -= Double(l0 + l1)
                if let g {
                    let gs = g + b * c, f = Float(sy) / Float(s)
                    for k in base..<(base + c) { gs[k] = e[k] * f - ys[k] }
                }
            }
        }
        return total
    }

    // MARK: GIoU

    /// loss = 2 - i/u - u/e (i, u, e as the published code computes them), the gradient by the
    /// chain rule through each clamp and min/max. No transcendentals: one plain loop.
    static func giou(_ pred: UnsafePointer<Float>, _ target: UnsafePointer<Float>, _ grad: UnsafeMutablePointer<Float>?, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0
        for j in 0..<n {
            let p = pred + 4 * j, q = target + 4 * j
            let (x1, y1, x2, y2) = (p[0], p[1], p[2], p[3])
            let (tx1, ty1, tx2, ty2) = (q[0], q[1], q[2], q[3])
            let iwr = min(x2, tx2) - max(x1, tx1), ihr = min(y2, ty2) - max(y1, ty1)
            let iw = max(iwr, 0), ih = max(ihr, 0)
            let i = iw * ih
            let pw = x2 - x1, ph = y2 - y1
            let u = pw * ph + (tx2 - tx1) * (ty2 - ty1) - i + 1e-7
            let ewr = max(x2, tx2) - min(x1, tx1), ehr = max(y2, ty2) - min(y1, ty1)
            let ew = max(ewr, 0), eh = max(ehr, 0)
            let e = ew * eh + 1e-7
            let loss = 2 - i / u - u / e
            if j & 1 == 0 { s0 += Double(loss) } else { s1 += Double(loss) }
            guard let grad else { continue }
            let a = -1 / u, c = i / (u * u) - 1 / e, d = u / (e * e)
            let iwg: Float = iwr > 0 ? 1 : 0, ihg: Float = ihr > 0 ? 1 : 0
            let ewg: Float = ewr > 0 ? 1 : 0, ehg: Float = ehr > 0 ? 1 : 0
            let dix1 = -(tx1 > x1 ? 0 : 1) * iwg * ih, dix2 = (tx2 < x2 ? 0 : 1) * iwg * ih
            let diy1 = -(ty1 > y1 ? 0 : 1) * ihg * iw, diy2 = (ty2 < y2 ? 0 : 1) * ihg * iw
            let dex1 = -(tx1 < x1 ? 0 : 1) * ewg * eh, dex2 = (tx2 > x2 ? 0 : 1) * ewg * eh
            let dey1 = -(ty1 < y1 ? 0 : 1) * ehg * ew, dey2 = (ty2 > y2 ? 0 : 1) * ehg * ew
            let g = grad + 4 * j
            g[0] = a * dix1 + c * (-ph - dix1) + d * dex1
            g[1] = a * diy1 + c * (-pw - diy1) + d * dey1
            g[2] = a * dix2 + c * (ph - dix2) + d * dex2
            g[3] = a * diy2 + c * (pw - diy2) + d * dey2
        }
        return s0 + s1
    }

    /// A block sum with four accumulators.
    @inline(__always)
    static func laneSum(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var i = 0
        while i + 4 <= n { s0 += p[i]; s1 += p[i + 1]; s2 += p[i + 2]; s3 += p[i + 3]; i += 4 }
        while i < n { s0 += p[i]; i += 1 }
        return Double((s0 + s1) + (s2 + s3))
    }
}
