import LossDSL

/// One-parameter families of predicted boxes around a fixed target box [0, 0, W, H], on which
/// box losses must fall as the prediction approaches the target.
///
/// Along each family the intersection i, union u and enclosing area e are smooth closed forms
/// of the parameter (the family stays on one side of every edge crossing), so a proof can bound
/// dL/dt with interval arithmetic: the family's i(t), u(t), e(t) and box coordinates are
/// substituted into the formula-level graph, and the result is differentiated in t. This
/// keeps the relation e >= u >= i that independent bounds on i, u and e would lose.
public struct BoxFamily: Sendable {
    /// How the predicted box moves.
    public enum Kind: String, Sendable, CaseIterable {
        /// Shifted right by t in (0, W]: overlapping, IoU falls as t grows.
        case shift
        /// Shifted right and down by t in (0, 0.999 min(W, H)] (a square target's corners
        /// touch at min(W, H), where every derivative of the IoU vanishes).
        case diagonal
        /// Scaled about the target's centre by s in [0.1, 1): IoU = s^2 rises with s.
        case grow
        /// Scaled by s in (1, 3]: IoU = 1/s^2 falls as s grows.
        case shrink
        /// Shifted right by t in [W, 3W]: disjoint, IoU = 0.
        case apart
    }

    /// How the predicted box moves.
    public let kind: Kind
    /// The target's width and height.
    public let width: Double, height: Double

    /// The family `kind` around a target [0, 0, width, height].
    public init(_ kind: Kind, width: Double, height: Double) {
        self.kind = kind; self.width = width; self.height = height
    }

    /// The published epsilon on u and e.
    static let epsilon = BoxFrontEnd.epsilon
    /// The families stop this far (relative) from the perfect box, where derivatives may vanish.
    static let gap = 1e-6

    /// The parameter's range.
    public var range: ClosedRange<Double> {
        switch kind {
        case .shift: return Self.gap * width...width
        case .diagonal: return Self.gap * Swift.min(width, height)...(0.999 * Swift.min(width, height))
        case .grow: return 0.1...(1 - Self.gap)
        case .shrink: return (1 + Self.gap)...3
        case .apart: return width...(3 * width)
        }
    }

    /// +1 when a larger parameter moves the box away from the target (the loss must rise),
    /// -1 when it moves it closer (the loss must fall).
    public var away: Double { kind == .grow ? -1 : 1 }

    /// Whether the loss must change strictly (disjoint boxes only need "never falls as the
    /// box moves away": their IoU stays 0).
    public var strict: Bool { kind != .apart }

    /// The target box [0, 0, W, H].
    public var target: [Double] { [0, 0, width, height] }

    /// The predicted box at parameter t, each coordinate as (constant, slope in t).
    var affine: [(Double, Double)] {
        let w = width, h = height
        switch kind {
        case .shift, .apart: return [(0, 1), (0, 0), (w, 1), (h, 0)]
        case .diagonal: return [(0, 1), (0, 1), (w, 1), (h, 1)]
        case .grow, .shrink: return [(w / 2, -w / 2), (h / 2, -h / 2), (w / 2, w / 2), (h / 2, h / 2)]
        }
    }

    /// The predicted box at parameter t.
    public func box(_ t: Double) -> [Double] { affine.map { $0.0 + $0.1 * t } }

    /// Builds i, u, e and the eight coordinates (kind input order) as nodes in the parameter `t`.
    func inputs(_ t: NodeID, in g: inout Graph) -> [NodeID] {
        let w = width, h = height, area = w * h
        func k(_ v: Double) -> NodeID { g.constant(v) }
        func lin(_ a: Double, _ b: Double) -> NodeID { g.make(.add, k(a), g.make(.mul, k(b), t)) }
        let i: NodeID, u: NodeID, e: NodeID
        switch kind {
        case .shift:
            i = g.make(.mul, lin(w, -1), k(h))
            u = g.make(.add, g.make(.sub, k(2 * area), i), k(Self.epsilon))
            e = g.make(.add, g.make(.mul, lin(w, 1), k(h)), k(Self.epsilon))
        case .diagonal:
            i = g.make(.mul, lin(w, -1), lin(h, -1))
            u = g.make(.add, g.make(.sub, k(2 * area), i), k(Self.epsilon))
            e = g.make(.add, g.make(.mul, lin(w, 1), lin(h, 1)), k(Self.epsilon))
        case .grow:
            i = g.make(.mul, k(area), g.make(.mul, t, t))
            u = k(area + Self.epsilon)
            e = u
        case .shrink:
            i = k(area)
            u = g.make(.add, g.make(.mul, k(area), g.make(.mul, t, t)), k(Self.epsilon))
            e = u
        case .apart:
            i = k(0)
            u = k(2 * area + Self.epsilon)
            e = g.make(.add, g.make(.mul, lin(w, 1), k(h)), k(Self.epsilon))
        }
        let coords = affine.map { lin($0.0, $0.1) } + target.map { k($0) }
        return [i, u, e] + coords
    }

    /// The formula-level loss along this family and its derivative in the parameter, with
    /// params bound: roots [L(t), dL/dt], the parameter being proof variable 0.
    public func graph(_ formula: PassSnapshot, params: [Double]) -> (graph: Graph, value: NodeID, derivative: NodeID) {
        let s = GraphSubstitution.substitute(formula.graph, roots: [formula.roots[0]], params: params) { index, g in
            let t = GraphSubstitution.variable(0, in: &g)
            let all = inputs(t, in: &g)
            return Int(index) < all.count ? all[Int(index)] : nil
        }
        var g = s.graph
        let t = GraphSubstitution.variable(0, in: &g)
        let d = Tangent.forward(&g, roots: [s.roots[0]], seeds: [t: g.constant(1)])[0]
        // As the compiler does after differentiating: fold the derivative rules' constants
        // (pow's b - 1) and stabilize, so the bounds are not needlessly wide.
        let c = Canonicalize.run(g, roots: [s.roots[0], d])
        let r = Stabilize.run(c.graph, roots: c.roots)
        return (r.graph, r.roots[0], r.roots[1])
    }

    /// "shift of a 100×100 target" and the like, for messages.
    public var label: String { "\(kind.rawValue) of a \(shortNumber(width))×\(shortNumber(height)) target" }
}
