import Foundation
import LossDSL
@testable import Codegen

/// A batch of inputs for one loss kind. Values are Float-representable, so the same batch
/// can be evaluated in Float and in Double (the Double reference then measures how well
/// conditioned each Float result is).
struct Batch {
    var kind: LossKind
    var count: Int
    var classes: Int
    /// binary/multiclass
    var x: [Double] = [], y: [Double] = [], w: [Double] = []
    /// box: 4 coordinates per sample
    var predicted: [Double] = [], target: [Double] = []

    /// `count` random samples; with `extremes`, logits include ±30, ±100 and ±1e4, and boxes
    /// include degenerate, far-apart and huge ones.
    static func random(_ kind: LossKind, count: Int, classes: Int = 1, seed: UInt64, extremes: Bool = true) -> Batch {
        var rng = SeededGenerator(seed: seed)
        func u(_ lo: Double, _ hi: Double) -> Double { Double(Float(Double.random(in: lo...hi, using: &rng))) }
        let special: [Double] = [30, -30, 100, -100, 1e4, -1e4, 0, -0.0, 1e-8]
        func logit() -> Double {
            if extremes, Int.random(in: 0..<5, using: &rng) == 0 { return special.randomElement(using: &rng)! }
            return u(-8, 8)
        }
        var b = Batch(kind: kind, count: count, classes: kind == .multiclass ? classes : 1)
        switch kind {
        case .binary:
            for _ in 0..<count {
                b.x.append(logit())
                b.y.append(Bool.random(using: &rng) ? 1 : 0)
                b.w.append(u(0, 1))
            }
        case .multiclass:
            for _ in 0..<count {
                let label = Int.random(in: 0..<classes, using: &rng)
                for k in 0..<classes {
                    b.x.append(logit())
                    b.y.append(k == label ? 1 : 0)
                }
                b.w.append(u(0, 1))
            }
        default:
            for _ in 0..<count {
                let scale = extremes && Int.random(in: 0..<6, using: &rng) == 0 ? 5000.0 : 500.0
                let tx = u(0, scale), ty = u(0, scale), tw = u(1, scale / 4), th = u(1, scale / 4)
                var p = [u(tx - tw, tx + tw), u(ty - th, ty + th)]
                p += [p[0] + u(0.5, scale / 4), p[1] + u(0.5, scale / 4)]
                if extremes, Int.random(in: 0..<8, using: &rng) == 0 { p = [tx, ty, tx + tw, ty + th] }  // perfect box
                if extremes, Int.random(in: 0..<8, using: &rng) == 0 { p = [tx + tw + 10, ty, tx + 2 * tw + 10, ty + th] }  // disjoint
                b.predicted += p.map { Double(Float($0)) }
                b.target += [tx, ty, tx + tw, ty + th].map { Double(Float($0)) }
            }
        }
        return b
    }

    /// The reference inputs of sample `i`, in the kind's input order.
    func inputs<T: LossReal>(_ i: Int, as _: T.Type) -> [InputValue<T>] {
        switch kind {
        case .binary: return [.scalar(T(x[i])), .scalar(T(y[i])), .scalar(T(w[i]))]
        case .multiclass:
            let r = (i * classes)..<((i + 1) * classes)
            return [.vector(x[r].map { T($0) }), .vector(y[r].map { T($0) }), .scalar(T(w[i]))]
        default:
            return [.scalar(0), .scalar(0), .scalar(0)]
                + predicted[(i * 4)..<(i * 4 + 4)].map { .scalar(T($0)) }
                + target[(i * 4)..<(i * 4 + 4)].map { .scalar(T($0)) }
        }
    }
}

/// Per-sample losses and the flat gradient.
struct Outputs<T: LossReal> {
    var loss: [T]
    var gradient: [T]
}

/// The reference evaluator on every sample of a batch.
func reference<T: LossReal>(_ c: CompiledLoss, _ b: Batch, as _: T.Type) -> Outputs<T> {
    let ev = c.evaluator(T.self)
    var out = Outputs<T>(loss: [], gradient: [])
    for i in 0..<b.count {
        let inputs = b.inputs(i, as: T.self)
        let r = CompiledLoss.unpack(ev.evaluate(inputs), inputs: inputs)
        out.loss.append(r.loss)
        out.gradient += r.gradient
    }
    return out
}

/// A kernel on a whole batch (sum reduction, so the gradient is per sample).
func closures<T: BlockReal>(_ k: LossKernel<T>, _ b: Batch, workspace: Workspace<T>? = nil) throws -> (Outputs<T>, T) {
    let r: LossResult<T>
    if b.kind == .box {
        r = try k.evaluate(predicted: b.predicted.map { T($0) }, target: b.target.map { T($0) }, reduction: .sum,
                           perElement: true, gradient: true)
    } else {
        r = try k.evaluate(x: b.x.map { T($0) }, y: b.y.map { T($0) }, w: b.w.map { T($0) },
                           classes: b.kind == .multiclass ? b.classes : nil, reduction: .sum, perElement: true, gradient: true)
    }
    return (Outputs(loss: r.perElement ?? [], gradient: r.gradient ?? []), r.value)
}

/// Same bits, or both NaN.
func identical<T: BinaryFloatingPoint>(_ a: T, _ b: T) -> Bool {
    (a.isNaN && b.isNaN) || a == b && a.sign == b.sign
}

/// How far the reference's result moves when the operations that the vectorized closures
/// compute differently are each off by a few ulps: the reference graph rebuilt with each C
/// block function, `pow` and softmax result multiplied by 1 ± `ulps` ulps, `log_softmax` also
/// moved by ± `ulps` ulps absolutely, and `dot`/`sum` moved by ± `ulps` ulps of the sum of
/// their terms' magnitudes (a sum in another order), signs drawn per node, for several
/// sign patterns.
///
/// This measures the conditioning of each output with respect to exactly the differences the
/// vectorized mode is allowed to have, so an ill-conditioned formula (sin of a huge exp, say)
/// is judged by its own sensitivity, not by a fixed tolerance.
struct PerturbedReference<T: LossReal> {
    let evaluators: [ReferenceEvaluator<T>]

    init(_ c: CompiledLoss, ulps: Double, patterns: Int = 4) {
        let eps = ulps * Double(T.ulpOfOne)
        var evs: [ReferenceEvaluator<T>] = []
        for pattern in 0..<patterns {
            var rng = SeededGenerator(seed: UInt64(pattern) &* 7919 &+ 1)
            var g = Graph()
            var map: [NodeID] = []
            for n in c.graph.nodes {
                var id: NodeID
                switch n.op {
                case .constant: id = g.constant(n.constant)
                case .input: id = g.input(Int(n.index), shape: c.kind.inputs[Int(n.index)].shape)
                case .param: id = g.param(Int(n.index))
                default: id = g.apply(n.op, n.args.map { map[Int($0)] })
                }
                let e = g.constant(Bool.random(using: &rng) ? eps : -eps)
                let scaled = g.apply(.mul, id, g.apply(.add, g.constant(1), e))
                switch n.op {
                case .dot, .sum:
                    // A sum in another order is off by ulps of the sum of the terms' magnitudes.
                    let terms = n.op == .dot ? g.apply(.mul, g.apply(.abs, map[Int(n.args[0])]), g.apply(.abs, map[Int(n.args[1])]))
                        : g.apply(.abs, map[Int(n.args[0])])
                    id = g.apply(.add, id, g.apply(.mul, e, g.apply(.sum, terms)))
                case .logSoftmax:
                    // a - max - log(s): the log of a sum of exps is off by ulps absolutely.
                    id = g.apply(.add, scaled, e)
                default:
                    if VectorFunction(op: n.op) != nil || n.op == .pow || n.op == .softmax { id = scaled }
                }
                map.append(id)
            }
            let roots = ([c.value] + c.gradient).map { map[Int($0)] }
            evs.append(ReferenceEvaluator<T>(graph: g, roots: roots, params: c.formula.paramValues))
        }
        evaluators = evs
    }

    /// Each pattern's outputs on the batch.
    func evaluate(_ b: Batch) -> [Outputs<T>] {
        evaluators.map { ev in
            var out = Outputs<T>(loss: [], gradient: [])
            for i in 0..<b.count {
                let inputs = b.inputs(i, as: T.self)
                let r = CompiledLoss.unpack(ev.evaluate(inputs), inputs: inputs)
                out.loss.append(r.loss)
                out.gradient += r.gradient
            }
            return out
        }
    }
}

/// Whether a vectorized closure result `f` agrees with the reference `ref`: within `tol`
/// (relative, with an absolute floor of `tol` below 1, where cancellation makes relative
/// error meaningless), or within twice the spread of the perturbed references (`nearby`),
/// or equal to what one of them gives (NaN or an infinity that a few ulps can reach).
func agrees(_ f: Double, ref: Double, nearby: [Double], tol: Double) -> Bool {
    func same(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a.isInfinite || b.isInfinite { return a == b }
        return abs(a - b) <= tol * max(1, abs(b))
    }
    if same(f, ref) || nearby.contains(where: { same(f, $0) }) { return true }
    guard f.isFinite, ref.isFinite, nearby.allSatisfy(\.isFinite) else { return false }
    let spread = nearby.map { abs($0 - ref) }.max() ?? 0
    // A result that a few ulps move by 10% has no significant digits (cos of 1e100, say):
    // only its finiteness is defined.
    if spread > 0.1 * abs(ref) { return true }
    return abs(f - ref) <= tol * max(1, abs(ref)) + 2 * spread
}
