import LossDSL

/// The structure a pair expression q(i, j) has as a function of d = s_j - s_i, which is what
/// lets a `pairsum` be computed by sorting and prefix sums instead of pair by pair.
///
/// The real line of d is cut at breakpoints b_1 < ... < b_m (where a `select`, `step`, `sign`,
/// `relu`, `abs`, `min`, `max`, a curve's knot or a clamp's bound switches). On each open
/// interval between breakpoints, q is either a sum of terms A(i) · p(d) · W(j), with p a
/// polynomial of degree at most 2, A a per-positive factor and W a per-entry factor (any
/// expressions of si, ui, ... and of sj, uj), or *general* (anything else: e.g. a sigmoid of
/// d). The kernel sums the polynomial intervals with prefix sums over the entries sorted by
/// score, and evaluates general intervals and the pairs at (or within 8 ulps of) a breakpoint pair by pair.
public struct DPoly: Equatable, Sendable {
    /// p(d) = c0 + c1·d + c2·d².
    public var c0 = 0.0, c1 = 0.0, c2 = 0.0

    var degree: Int { c2 != 0 ? 2 : (c1 != 0 ? 1 : 0) }
    var isZero: Bool { c0 == 0 && c1 == 0 && c2 == 0 }
    func at(_ d: Double) -> Double { c0 + d * (c1 + d * c2) }
    static func + (a: DPoly, b: DPoly) -> DPoly { DPoly(c0: a.c0 + b.c0, c1: a.c1 + b.c1, c2: a.c2 + b.c2) }
    func scaled(_ k: Double) -> DPoly { DPoly(c0: c0 * k, c1: c1 * k, c2: c2 * k) }
    /// The product, or nil above degree 2.
    func times(_ b: DPoly) -> DPoly? {
        guard degree + b.degree <= 2 else { return nil }
        return DPoly(c0: c0 * b.c0, c1: c0 * b.c1 + c1 * b.c0, c2: c0 * b.c2 + c1 * b.c1 + c2 * b.c0)
    }
}

/// A(i) · p(d) · W(j); a nil factor is 1.
public struct PairTerm: Equatable, Sendable {
    /// The per-positive factor's node (nil: 1).
    public var a: NodeID?
    /// The polynomial in d.
    public var p: DPoly
    /// The per-entry factor's node (nil: 1).
    public var w: NodeID?
}

/// The expression on one open interval of d.
public enum PairForm: Equatable, Sendable {
    /// The sum of the terms (no term: zero).
    case terms([PairTerm])
    case general

    static func constant(_ v: Double) -> PairForm { .terms(v == 0 ? [] : [PairTerm(a: nil, p: DPoly(c0: v), w: nil)]) }

    /// The polynomial, when no term has a factor.
    var pure: DPoly? {
        guard case .terms(let ts) = self, ts.allSatisfy({ $0.a == nil && $0.w == nil }) else { return nil }
        return ts.reduce(DPoly()) { $0 + $1.p }
    }
}

/// A pair expression over the whole line: `forms[k]` holds on (cuts[k-1], cuts[k]).
public struct PairPiecewise: Sendable {
    /// The breakpoints, ascending.
    public var cuts: [Double]
    /// One form per open interval (`cuts.count + 1`).
    public var forms: [PairForm]

    /// Whether every interval is a sum of polynomial terms (no pair-by-pair work but ties).
    public var isPolynomial: Bool { !forms.contains(.general) }
    public var isGeneral: Bool { forms.allSatisfy { $0 == .general } }

    /// Every per-positive and per-entry factor used.
    public var factors: (a: [NodeID], w: [NodeID]) {
        var a: [NodeID] = [], w: [NodeID] = []
        for case .terms(let ts) in forms {
            for t in ts {
                if let x = t.a, !a.contains(x) { a.append(x) }
                if let x = t.w, !w.contains(x) { w.append(x) }
            }
        }
        return (a, w)
    }
}

/// Computes `PairPiecewise` forms, node by node (memoized). It may add factor nodes (products
/// of per-positive or per-entry factors) to its graph.
struct PairAnalyzer {
    enum Side: Equatable { case constant(Double), anchor, entry, mixed }

    var graph: Graph
    let params: [Double]
    private var sides: [Side] = []
    private var memo: [NodeID: PairPiecewise] = [:]
    static let maxTerms = 32
    /// Above this many breakpoints a pair expression is treated as general (pair by pair):
    /// merging ever longer breakpoint lists node after node (a curve with 10,000 knots) would
    /// cost quadratic time and memory; pair by pair costs O(P·J) per batch whatever the formula.
    static let maxCuts = 256

    init(graph: Graph, params: [Double]) { self.graph = graph; self.params = params }

    /// Whether a node is a constant, depends on the positive only, on the other entry only, or on both / on d.
    mutating func side(_ n: NodeID) -> Side {
        while sides.count < graph.count {
            let node = graph.nodes[sides.count]
            var s: Side
            switch node.op {
            case .constant: s = .constant(node.constant)
            case .param: s = .constant(params[Int(node.index)])
            case .input:
                switch RankingInput(rawValue: Int(node.index)) {
                case .d?: s = .mixed
                case .sj?, .uj?: s = .entry
                default: s = .anchor
                }
            default:
                let a = node.args.map { sides[Int($0)] }
                let values = a.compactMap { if case .constant(let v) = $0 { return v }; return nil }
                if values.count == a.count {
                    s = .constant(node.op.apply(values[0], values.count > 1 ? values[1] : 0, values.count > 2 ? values[2] : 0))
                } else if a.contains(.mixed) || (a.contains(.anchor) && a.contains(.entry)) {
                    s = .mixed
                } else {
                    s = a.contains(.anchor) ? .anchor : .entry
                }
            }
            sides.append(s)
        }
        return sides[Int(n)]
    }

    mutating func analyze(_ n: NodeID) -> PairPiecewise {
        if let m = memo[n] { return m }
        // Arguments first, in id order (a node's arguments have smaller ids): the recursion
        // below is then one level deep, however deep the expression (no stack overflow).
        if Int(n) < graph.count {
            let live = graph.reachable(from: [n])
            for i in 0..<Int(n) where live[i] && memo[NodeID(i)] == nil { _ = analyzeOne(NodeID(i)) }
        }
        return analyzeOne(n)
    }

    private mutating func analyzeOne(_ n: NodeID) -> PairPiecewise {
        if let m = memo[n] { return m }
        let result: PairPiecewise
        switch side(n) {
        case .constant(let v): result = PairPiecewise(cuts: [], forms: [.constant(v)])
        case .anchor: result = PairPiecewise(cuts: [], forms: [.terms([PairTerm(a: n, p: DPoly(c0: 1), w: nil)])])
        case .entry: result = PairPiecewise(cuts: [], forms: [.terms([PairTerm(a: nil, p: DPoly(c0: 1), w: n)])])
        case .mixed:
            let node = graph[n]
            if node.op == .input {
                result = PairPiecewise(cuts: [], forms: [.terms([PairTerm(a: nil, p: DPoly(c1: 1), w: nil)])])
            } else {
                result = combine(node, node.args.map { analyzeOne($0) })
            }
        }
        memo[n] = result
        return result
    }

    /// Applies an operator interval by interval over the union of its arguments' breakpoints,
    /// splitting an interval where a condition changes sign inside it.
    private mutating func combine(_ node: Node, _ args: [PairPiecewise]) -> PairPiecewise {
        var cuts = Array(Set(args.flatMap(\.cuts))).sorted()
        if cuts.count > PairAnalyzer.maxCuts { return PairPiecewise(cuts: [], forms: [.general]) }
        var outCuts: [Double] = [], outForms: [PairForm] = []
        var at = [Int](repeating: 0, count: args.count)
        for m in 0...cuts.count {
            let lo = m == 0 ? -Double.infinity : cuts[m - 1], hi = m == cuts.count ? Double.infinity : cuts[m]
            for k in args.indices { while at[k] < args[k].cuts.count, args[k].cuts[at[k]] <= lo { at[k] += 1 } }
            let forms = args.indices.map { args[$0].forms[at[$0]] }
            let (root, left, right) = apply(node, forms, lo: lo, hi: hi)
            if m > 0 { outCuts.append(lo) }
            if let root { outForms.append(left); outCuts.append(root); outForms.append(right) } else { outForms.append(left) }
        }
        cuts = outCuts
        return PairPiecewise(cuts: cuts, forms: outForms)
    }

    /// The result on (lo, hi): one form, or two split at a root of the condition.
    private mutating func apply(_ node: Node, _ f: [PairForm], lo: Double, hi: Double) -> (Double?, PairForm, PairForm) {
        let op = node.op
        func one(_ x: PairForm) -> (Double?, PairForm, PairForm) { (nil, x, x) }
        switch op {
        case .add: return one(add(f[0], f[1]))
        case .sub: return one(add(f[0], negate(f[1])))
        case .neg: return one(negate(f[0]))
        case .mul: return one(mul(f[0], f[1]))
        case .div: return one(div(f[0], f[1]))
        case .stopGradient: return one(f[0])
        case .pow:
            guard let k = f[1].pure, k.degree == 0 else { return one(.general) }
            if k.c0 == 0 { return one(.constant(1)) }
            if k.c0 == 1 { return one(f[0]) }
            if k.c0 == 2 { return one(mul(f[0], f[0])) }
            return one(constantApply(op, f))
        case .select, .step, .sign, .relu, .abs, .min, .max:
            let cond: PairForm
            switch op {
            case .min: cond = add(f[0], negate(f[1]))
            case .max: cond = add(f[1], negate(f[0]))
            default: cond = f[0]
            }
            guard let p = cond.pure, p.degree <= 1 else {
                // A select whose two branches agree does not need its condition.
                if op == .select, f[1] == f[2] { return one(f[1]) }
                return one(.general)
            }
            func pick(_ v: Double) -> PairForm {
                switch op {
                case .select: return v > 0 ? f[1] : f[2]
                case .step: return .constant(v > 0 ? 1 : 0)
                case .sign: return .constant(v > 0 ? 1 : (v < 0 ? -1 : 0))
                case .relu: return v < 0 ? .constant(0) : f[0]
                case .abs: return v < 0 ? negate(f[0]) : f[0]
                default: return v > 0 ? f[1] : f[0]  // min, max: the second argument where the condition is positive
                }
            }
            if p.c1 != 0 {
                let r = -p.c0 / p.c1
                if r > lo && r < hi { return (r, pick(p.at(sample(lo, r))), pick(p.at(sample(r, hi)))) }
            }
            return one(pick(p.at(sample(lo, hi))))
        default:
            return one(constantApply(op, f))
        }
    }

    /// A point inside (lo, hi).
    private func sample(_ lo: Double, _ hi: Double) -> Double {
        if lo.isFinite && hi.isFinite { return lo + (hi - lo) / 2 }
        if lo.isFinite { return lo + 1 }
        if hi.isFinite { return hi - 1 }
        return 0
    }

    /// Any other operator: a constant when all arguments are constant there, else general.
    private func constantApply(_ op: Op, _ f: [PairForm]) -> PairForm {
        let c = f.compactMap { x -> Double? in x.pure.flatMap { $0.degree == 0 ? $0.c0 : nil } }
        guard c.count == f.count else { return .general }
        return .constant(op.apply(c[0], c.count > 1 ? c[1] : 0, c.count > 2 ? c[2] : 0))
    }

    private func normalize(_ ts: [PairTerm]) -> PairForm {
        var out: [PairTerm] = []
        for t in ts {
            if let k = out.firstIndex(where: { $0.a == t.a && $0.w == t.w }) { out[k].p = out[k].p + t.p } else { out.append(t) }
        }
        out.removeAll { $0.p.isZero }
        return out.count > PairAnalyzer.maxTerms ? .general : .terms(out)
    }

    private func add(_ x: PairForm, _ y: PairForm) -> PairForm {
        guard case .terms(let a) = x, case .terms(let b) = y else { return .general }
        return normalize(a + b)
    }

    private func negate(_ x: PairForm) -> PairForm {
        guard case .terms(let a) = x else { return .general }
        return .terms(a.map { PairTerm(a: $0.a, p: $0.p.scaled(-1), w: $0.w) })
    }

    private mutating func factor(_ op: Op, _ x: NodeID?, _ y: NodeID?) -> NodeID? {
        switch (x, y) {
        case (nil, nil): return nil
        case (let x?, nil): return x
        case (nil, let y?): return op == .mul ? y : graph.apply(.div, graph.constant(1), y)
        case (let x?, let y?): return graph.apply(op, x, y)
        }
    }

    private mutating func mul(_ x: PairForm, _ y: PairForm) -> PairForm {
        guard case .terms(let a) = x, case .terms(let b) = y else { return .general }
        guard a.count * b.count <= PairAnalyzer.maxTerms * 4 else { return .general }
        var out: [PairTerm] = []
        for s in a {
            for t in b {
                guard let p = s.p.times(t.p) else { return .general }
                out.append(PairTerm(a: factor(.mul, s.a, t.a), p: p, w: factor(.mul, s.w, t.w)))
            }
        }
        return normalize(out)
    }

    private mutating func div(_ x: PairForm, _ y: PairForm) -> PairForm {
        guard case .terms(let a) = x, case .terms(let b) = y, b.count == 1, b[0].p.degree == 0, b[0].p.c0 != 0 else { return .general }
        let q = b[0]
        return normalize(a.map { PairTerm(a: factor(.div, $0.a, q.a), p: $0.p.scaled(1 / q.p.c0), w: factor(.div, $0.w, q.w)) })
    }
}
