import Foundation
@testable import LossDSL
import LossTestSupport

/// Numeric dual numbers with their own derivative formulas, written here independently of the
/// operator table's derivative rules: the oracle the symbolic (tangent-graph) gradients are
/// tested against.
struct Dual {
    var v: Double
    var d: Double
    init(_ v: Double, _ d: Double = 0) { self.v = v; self.d = d }

    static func + (a: Dual, b: Dual) -> Dual { Dual(a.v + b.v, a.d + b.d) }
    static func - (a: Dual, b: Dual) -> Dual { Dual(a.v - b.v, a.d - b.d) }
    static func * (a: Dual, b: Dual) -> Dual { Dual(a.v * b.v, a.d * b.v + a.v * b.d) }
    static func / (a: Dual, b: Dual) -> Dual { Dual(a.v / b.v, (a.d * b.v - a.v * b.d) / (b.v * b.v)) }
    static prefix func - (a: Dual) -> Dual { Dual(-a.v, -a.d) }

    /// Chain rule with a closed-form derivative.
    func map(_ f: (Double) -> Double, _ df: (Double) -> Double) -> Dual { Dual(f(v), df(v) * d) }
}

/// Evaluates a graph on dual numbers: one derivative direction (the seeded inputs) at a time.
/// Class vectors are arrays of duals.
enum DualEvaluator {
    static func sigmoid(_ a: Double) -> Double { a >= 0 ? 1 / (1 + exp(-a)) : exp(a) / (1 + exp(a)) }

    static func unary(_ op: Op, _ a: Dual) -> Dual {
        let s = Double.pi.squareRoot() / 4
        switch op {
        case .neg: return -a
        case .exp: return a.map(exp, exp)
        case .log: return a.map(log) { 1 / $0 }
        case .abs: return a.map(abs) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        case .sqrt: return a.map(sqrt) { 0.5 / sqrt($0) }
        case .softplus: return a.map({ max($0, 0) + log1p(exp(-abs($0))) }, sigmoid)
        case .sigmoid: return a.map(sigmoid) { sigmoid($0) * sigmoid(-$0) }
        case .tanh: return a.map(tanh) { 1 / (cosh($0) * cosh($0)) }
        case .sin: return a.map(sin, cos)
        case .cos: return a.map(cos) { -sin($0) }
        case .relu: return a.map({ max($0, 0) }) { $0 > 0 ? 1 : 0 }
        // gd(t) = 2 atan(e^t) - pi/2, so scaled_gd(a) = (2/pi) atan(e^(pi a/4)): accurate in both tails.
        case .scaledGD: return a.map({ 2 / Double.pi * atan(exp(Double.pi * $0 / 4)) }) { 0.25 / cosh(Double.pi * $0 / 4) }
        case .scaledALF:
            // alf = (1 + sin(atan q))/2 and its slope cos^3(atan q)/4, q = a/2, with the trigonometry
            // replaced by exact rational forms that keep every digit in both tails.
            func parts(_ a: Double) -> (value: Double, slope: Double) {
                let q = a / 2
                let r = 1 / abs(q)
                let c = abs(q) > 1 ? r / (1 + r * r).squareRoot() : 1 / (1 + q * q).squareRoot()   // cos(atan q)
                let sinAbs = abs(q) > 1 ? 1 / (1 + r * r).squareRoot() : abs(q) * c                 // |sin(atan q)|
                let value = q < 0 ? c * c / (2 * (1 + sinAbs)) : (1 + sinAbs) / 2                   // 1 - x = (1 - x^2)/(1 + x)
                return (value, 0.25 * c * c * c)
            }
            return a.map({ parts($0).value }) { parts($0).slope }
        case .scaledERF: return a.map({ erfc(-s * $0) / 2 }) { exp(-Double.pi * $0 * $0 / 16) / 4 }
        case .scaledERFC: return a.map({ erfc(s * $0) / 2 }) { -exp(-Double.pi * $0 * $0 / 16) / 4 }
        case .log1p: return a.map(log1p) { 1 / (1 + $0) }
        case .expm1: return a.map(expm1, exp)
        case .stopGradient: return Dual(a.v, 0)
        case .sign: return Dual(a.v > 0 ? 1 : (a.v < 0 ? -1 : a.v), 0)
        case .step: return Dual(a.v > 0 ? 1 : 0, 0)
        case .cosh: return a.map(cosh, sinh)
        default: preconditionFailure("not unary: \(op)")
        }
    }

    static func binary(_ op: Op, _ a: Dual, _ b: Dual) -> Dual {
        switch op {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .pow:
            let v = pow(a.v, b.v)
            let db = b.d == 0 ? 0 : v * log(a.v) * b.d
            return Dual(v, b.v * pow(a.v, b.v - 1) * a.d + db)
        case .min: return b.v < a.v ? b : a
        case .max: return b.v > a.v ? b : a
        default: preconditionFailure("not binary: \(op)")
        }
    }

    /// Value and derivative of `root` along the seeds (input index -> tangent, one per class
    /// for class vectors), for one sample.
    static func evaluate(_ g: Graph, root: NodeID, params: [Double], inputs: [InputValue<Double>],
                         seeds: [Int: [Double]]) -> Dual {
        evaluateTracking(g, root: root, params: params, inputs: inputs, seeds: seeds).result
    }

    /// Also returns the largest magnitude of any intermediate value or derivative (a result
    /// whose computation passes 1e150 is at the mercy of over- and underflow in any order).
    static func evaluateTracking(_ g: Graph, root: NodeID, params: [Double], inputs: [InputValue<Double>],
                                 seeds: [Int: [Double]]) -> (result: Dual, largest: Double) {
        var classes = 1
        for v in inputs { if case .vector(let a) = v { classes = a.count } }
        var vals = [[Dual]](repeating: [], count: g.count)
        let live = g.reachable(from: [root])
        func vec(_ id: NodeID) -> [Dual] {
            let v = vals[Int(id)]
            return v.count == 1 ? [Dual](repeating: v[0], count: classes) : v
        }
        for i in 0..<g.count where live[i] {
            let n = g.nodes[i]
            switch n.op {
            case .constant: vals[i] = [Dual(n.constant)]
            case .param: vals[i] = [Dual(params[Int(n.index)])]
            case .input:
                let seed = seeds[Int(n.index)]
                switch inputs[Int(n.index)] {
                case .scalar(let v): vals[i] = [Dual(v, seed?[0] ?? 0)]
                case .vector(let a): vals[i] = a.indices.map { Dual(a[$0], seed?[$0] ?? 0) }
                }
            case .softmax, .logSoftmax:
                let a = vec(n.args[0])
                let m = a.map(\.v).max() ?? 0
                let e = a.map { $0.map({ exp($0 - m) }, { exp($0 - m) }) }
                let s = e.reduce(Dual(0), +)
                vals[i] = n.op == .softmax ? e.map { $0 / s } : a.map { $0 - Dual(m) - s.map(log) { 1 / $0 } }
            case .dot:
                let a = vec(n.args[0]), b = vec(n.args[1])
                vals[i] = [zip(a, b).map { $0 * $1 }.reduce(Dual(0), +)]
            case .sum: vals[i] = [vec(n.args[0]).reduce(Dual(0), +)]
            case .select:
                let c = vec(n.args[0]), a = vec(n.args[1]), b = vec(n.args[2])
                let shaped = g.shapes[i] == .classVector
                vals[i] = (0..<(shaped ? classes : 1)).map { c[$0].v > 0 ? a[$0] : b[$0] }
            default:
                let shaped = g.shapes[i] == .classVector
                let args = n.args.map { shaped ? vec($0) : vals[Int($0)] }
                vals[i] = (0..<(shaped ? classes : 1)).map { k in
                    n.op.arity == 1 ? unary(n.op, args[0][k]) : binary(n.op, args[0][k], args[1][k])
                }
            }
        }
        var largest = 0.0
        for v in vals { for d in v { largest = max(largest, abs(d.v), abs(d.d)) } }
        return (vals[Int(root)][0], largest)
    }
}
