/// A monotone piecewise-linear function given by control points, declared in a `.loss` file as
///
///     curve H2 = (0, 0), (0.4182, 0.0277), (0.4948, 0.2187), (0.6882, 0.2624), (0.802, 0.6688), (1, 1)
///
/// and called like an operator, `H2(x)`. The semantics are those of Parameterized AP Loss's
/// `_linear` (fundamentalvision/Parameterized-AP-Loss,
/// `mmdet/models/losses/paploss.py`): on (x_k, x_{k+1}] the segment from point k to
/// point k+1 is used, so at an interior knot the value and the derivative come from the *left*
/// segment, and at the first point from the first segment. Zero-width segments (repeated x)
/// are never used. Outside the points the end segments extend linearly.
///
/// A curve application lowers to ordinary operators of the table, a chain of `select`s over
/// the segments, so every pass, evaluator and backend handles it without a new operator, and
/// `select`'s derivative rule gives exactly the left-slope convention.
public struct Curve: Sendable, Equatable {
    /// The name it is called by, its points (x and y non-decreasing), and where it is declared.
    public let name: String
    public let points: [CurvePoint]
    public let span: SourceSpan

    /// A curve; `validate` says whether the points are acceptable.
    public init(name: String, points: [CurvePoint], span: SourceSpan) {
        self.name = name; self.points = points; self.span = span
    }

    /// The segments that are ever used: start index k of each segment with x_k < x_{k+1}.
    var segments: [Int] { (0..<(points.count - 1)).filter { points[$0].x < points[$0 + 1].x } }

    /// The value at `a`, evaluated directly (the graph lowering computes the same thing).
    public func value(at a: Double) -> Double {
        let segs = segments
        var k = segs[0]
        for s in segs.dropFirst() where a > points[s].x { k = s }
        let slope = (points[k + 1].y - points[k].y) / (points[k + 1].x - points[k].x)
        return points[k].y + slope * (a - points[k].x)
    }

    /// Problems with the points, as diagnostics (empty when the curve is valid): at least two
    /// points, finite, x and y non-decreasing (a monotone function), x not constant.
    static func validate(name: String, points: [CurvePoint], span: SourceSpan) -> [Diagnostic] {
        guard points.count >= 2 else {
            return [Diagnostic("curve-points", at: span, "curve '\(name)' needs at least 2 points, found \(points.count)",
                               hint: "e.g. 'curve \(name) = (0, 0), (0.5, 0.25), (1, 1)'")]
        }
        for p in points where !p.x.isFinite || !p.y.isFinite {
            return [Diagnostic("curve-points", at: p.span, "curve points must be finite numbers")]
        }
        for k in 1..<points.count {
            if points[k].x < points[k - 1].x {
                return [Diagnostic("curve-monotone", at: points[k].span,
                                   "the x of curve '\(name)''s point \(k + 1) is smaller than the previous one",
                                   hint: "list the points by non-decreasing x")]
            }
            if points[k].y < points[k - 1].y {
                return [Diagnostic("curve-monotone", at: points[k].span,
                                   "the y of curve '\(name)''s point \(k + 1) is smaller than the previous one; curves are monotone non-decreasing",
                                   hint: "a decreasing function is 1 - C(x) for a curve C")]
            }
        }
        if points[0].x == points[points.count - 1].x {
            return [Diagnostic("curve-points", at: span, "all points of curve '\(name)' have the same x",
                               hint: "the points must span an interval, e.g. from x = 0 to x = 1")]
        }
        return []
    }
}

extension Graph {
    /// Adds `curve(a)` as a chain of selects over the used segments (see `Curve`):
    /// `select(a - x_k, y_k + m_k * (a - x_k), <segments to the left>)` from the last segment down.
    /// Built with `apply` (no rewriting) so the structure is exactly this.
    mutating func applyCurve(_ c: Curve, to a: NodeID, record: (NodeID) -> Void = { _ in }) -> NodeID {
        func segment(_ k: Int) -> NodeID {
            let p = c.points[k], q = c.points[k + 1]
            let xk = constant(p.x)
            let offset = apply(.sub, a, xk)
            let n = apply(.add, constant(p.y), apply(.mul, constant((q.y - p.y) / (q.x - p.x)), offset))
            record(offset); record(n)
            return n
        }
        let segs = c.segments
        var result = segment(segs[0])
        for k in segs.dropFirst() {
            let cond = apply(.sub, a, constant(c.points[k].x))
            result = apply(.select, cond, segment(k), result)
            record(cond); record(result)
        }
        return result
    }
}
