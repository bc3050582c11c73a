import LossDSL

/// The search space of `lossc search-params`: a formula's params and the interior control points
/// of its curves, as a vector θ in [0, 1]^D (what the policy samples).
///
/// - A param with a positive value v maps as v · 10^(2θ - 1), i.e. [v/10, 10v] on a log scale
///   with θ = 1/2 at v (PAP's mapping of its gradient scale); any other value as v - 1 + 2θ;
///   `--range NAME=LO:HI` maps linearly onto [LO, HI] instead.
/// - A curve with n points keeps its two end points and searches its n - 2 interior points
///   with PAP's monotone parameterization (fundamentalvision/Parameterized-AP-Loss,
///   `tools/search.py`, `convert_theta_coordinate`): p_1 = θ_1, p_k = p_{k-1} + θ_k (1 - p_{k-1}), for x and y
///   separately, scaled into the box between the end points. Every θ is a valid monotone curve.
/// The initial θ encodes the formula as written, so the search starts from it.
public struct ParamSearchSpace: Sendable {
    /// One coordinate of θ.
    public enum Dimension: Sendable, Equatable {
        case param(String, lo: Double, hi: Double, log: Bool)
        /// Interior point `point` (1-based) of a curve, its x or y.
        case curveX(String, point: Int)
        case curveY(String, point: Int)

        /// `delta`, or `H2.x3` / `H2.y3` for a curve's third point.
        public var name: String {
            switch self {
            case .param(let n, _, _, _): return n
            case .curveX(let c, let k): return "\(c).x\(k)"
            case .curveY(let c, let k): return "\(c).y\(k)"
            }
        }
    }

    /// The coordinates of θ, the curves as written, and θ of the formula as written.
    public let dimensions: [Dimension]
    public let curves: [Curve]
    public let initial: [Double]

    /// A mistake in the selection of what to search.
    public struct SelectionError: Error, Sendable {
        /// What is wrong, for the command line.
        public let message: String
    }

    /// `only`: the names of params and curves to search (nil: every curve and every param the
    /// loss depends on). `ranges`: linear ranges for params.
    public init(_ f: RankingFormula, only: [String]? = nil, ranges: [String: (lo: Double, hi: Double)] = [:]) throws(SelectionError) {
        // Params the graph depends on (a top() count is read at lowering and cannot vary).
        let g = f.graph
        let live = g.reachable(from: [f.root] + f.slots.map(\.argument))
        var used = Set<Int>()
        for i in 0..<g.count where live[i] && g.nodes[i].op == .param { used.insert(Int(g.nodes[i].index)) }
        let names = f.params.map(\.name) + f.curves.map(\.name)
        for n in only ?? [] where !names.contains(n) {
            let near = nearestNames(to: n, in: names).first.map { " (did you mean '\($0)'?)" } ?? ""
            throw SelectionError(message: "the loss has no param or curve '\(n)'\(near)")
        }
        for n in ranges.keys where !f.params.contains(where: { $0.name == n }) {
            throw SelectionError(message: "--range \(n): the loss has no param '\(n)'")
        }
        var dims: [Dimension] = [], theta: [Double] = []
        for (i, p) in f.params.enumerated() where only?.contains(p.name) ?? used.contains(i) {
            guard used.contains(i) else {
                throw SelectionError(message: "param '\(p.name)' cannot be searched: the loss's graph does not use it (a count of top() is fixed when the file is read)")
            }
            let v = p.value
            let d: Dimension
            if let r = ranges[p.name] {
                guard r.lo < r.hi, r.lo.isFinite, r.hi.isFinite else { throw SelectionError(message: "--range \(p.name): need LO < HI") }
                d = .param(p.name, lo: r.lo, hi: r.hi, log: false)
            } else if v > 0 {
                d = .param(p.name, lo: v / 10, hi: v * 10, log: true)
            } else {
                d = .param(p.name, lo: v - 1, hi: v + 1, log: false)
            }
            dims.append(d)
            theta.append(Self.encode(v, d))
        }
        for c in f.curves where only?.contains(c.name) ?? true {
            let pts = c.points, n = pts.count
            guard n > 2 else { continue }
            let px = Self.encodeMonotone(pts.map(\.x)), py = Self.encodeMonotone(pts.map(\.y))
            for k in 1..<(n - 1) {
                dims.append(.curveX(c.name, point: k)); theta.append(px[k - 1])
                dims.append(.curveY(c.name, point: k)); theta.append(py[k - 1])
            }
        }
        dimensions = dims
        curves = f.curves
        initial = theta
    }

    static func encode(_ v: Double, _ d: Dimension) -> Double {
        guard case .param(_, let lo, let hi, let log) = d else { return 0.5 }
        let t = log ? (Double.log(v / lo) / Double.log(hi / lo)) : (v - lo) / (hi - lo)
        return Swift.min(1, Swift.max(0, t))
    }

    /// θ for the interior coordinates of a monotone sequence (inverse of `decodeMonotone`).
    static func encodeMonotone(_ v: [Double]) -> [Double] {
        let lo = v[0], span = v[v.count - 1] - lo
        var out: [Double] = [], prev = 0.0
        for k in 1..<(v.count - 1) {
            let p = span > 0 ? (v[k] - lo) / span : 0
            let t = prev < 1 ? (p - prev) / (1 - prev) : 0.5
            out.append(Swift.min(1, Swift.max(0, t)))
            prev = Swift.max(prev, p)
        }
        return out
    }

    static func decodeMonotone(_ theta: [Double], lo: Double, hi: Double) -> [Double] {
        var p = 0.0
        return theta.map { t in
            p += Swift.min(1, Swift.max(0, t)) * (1 - p)
            return Swift.min(hi, round6(lo + p * (hi - lo)))
        }
    }

    /// Values rounded to 6 significant digits (monotone, so curves stay monotone): what the
    /// search evaluates is exactly what it writes out, and the files stay readable.
    static func round6(_ v: Double) -> Double {
        guard v != 0, v.isFinite else { return v }
        let scale = Double.pow(10, 5 - (Double.log(Swift.abs(v)) / Double.log(10)).rounded(.down))
        return (v * scale).rounded() / scale
    }

    /// The param values and curve points a θ stands for.
    public func decode(_ theta: [Double]) -> (params: [String: Double], curves: [String: [CurvePoint]]) {
        var params: [String: Double] = [:]
        var tx: [String: [Double]] = [:], ty: [String: [Double]] = [:]
        for (d, t) in zip(dimensions, theta) {
            switch d {
            case .param(let n, let lo, let hi, let log):
                let c = Swift.min(1, Swift.max(0, t))
                params[n] = Self.round6(log ? lo * Double.pow(hi / lo, c) : lo + c * (hi - lo))
            case .curveX(let c, _): tx[c, default: []].append(t)
            case .curveY(let c, _): ty[c, default: []].append(t)
            }
        }
        var curves: [String: [CurvePoint]] = [:]
        for c in self.curves where tx[c.name] != nil {
            let first = c.points[0], last = c.points[c.points.count - 1]
            let xs = Self.decodeMonotone(tx[c.name]!, lo: first.x, hi: last.x)
            let ys = Self.decodeMonotone(ty[c.name]!, lo: first.y, hi: last.y)
            curves[c.name] = [CurvePoint(x: first.x, y: first.y)] + zip(xs, ys).map { CurvePoint(x: $0, y: $1) }
                + [CurvePoint(x: last.x, y: last.y)]
        }
        return (params, curves)
    }

    /// The source text of the formula with the decoded values written in (comments kept).
    public func source(_ file: SourceFile, theta: [Double], comments: [String] = []) -> String? {
        guard case .success(var ast) = Parser.parse(file) else { return nil }
        let (params, curves) = decode(theta)
        for k in ast.statements.indices {
            let name = ast.statements[k].name
            // A changed value's comment describes the value it replaced ("the official
            // default"): it is kept as the record of the source, marked as such.
            func searched(_ was: String) {
                let old = ast.statements[k].trailingComment.map { ": " + $0.drop(while: { $0 == "#" || $0 == " " }) } ?? ""
                ast.statements[k].trailingComment = "# searched (the source had \(was)\(old))"
            }
            switch ast.statements[k].body {
            case .param(let old):
                if let v = params[name], v != old { ast.statements[k].body = .param(v); searched(formatNumber(old)) }
            case .curve(let old):
                if let pts = curves[name], pts != old { ast.statements[k].body = .curve(pts); searched("other points") }
            default: break
            }
        }
        ast.leadingComments += comments.map { "# " + $0 }
        return SourcePrinter.format(ast)
    }
}
