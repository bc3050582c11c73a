import Foundation
import LossDSL

/// Compiles loss source text; a failing compile is a test failure with the diagnostics.
public func compile(_ text: String, params: [String: Double] = [:], options: CompileOptions = CompileOptions()) throws -> CompiledLoss {
    CompiledLoss.compile(try Formula.parse(text, params: params), options: options)
}

/// A one-line binary loss around an expression in x.
public func binaryLoss(_ expr: String) throws -> CompiledLoss { try compile("loss t: binary\nreturn \(expr)\n") }

/// Loss and d/dx of a binary loss at (x, y, w).
public func binary<T: LossReal>(_ l: CompiledLoss, _ x: T, y: T = 1, w: T = 1) -> (T, T) {
    let r = l.evaluate([.scalar(x), .scalar(y), .scalar(w)], as: T.self)
    return (r.loss, r.gradient[0])
}

/// Central finite difference of f at x with a relative step.
public func centralDifference(_ f: (Double) -> Double, at x: Double, step: Double = 1e-6) -> Double {
    let h = step * max(1, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)
}

/// |a - b| <= tol * max(1, |b|).
public func close(_ a: Double, _ b: Double, _ tol: Double) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a.isInfinite || b.isInfinite { return a == b }
    return abs(a - b) <= tol * max(1, abs(b))
}

/// The inputs of a box loss for a predicted and a target box.
public func boxInputs(_ p: [Double], _ t: [Double]) -> [InputValue<Double>] {
    [.scalar(0), .scalar(0), .scalar(0)] + (p + t).map { .scalar($0) }
}

/// Intersection, union + 1e-7 and enclosing area + 1e-7 of two boxes, as the published code computes them.
public func iue(_ p: [Double], _ t: [Double]) -> (i: Double, u: Double, e: Double) {
    let iw = max(0, min(p[2], t[2]) - max(p[0], t[0])), ih = max(0, min(p[3], t[3]) - max(p[1], t[1]))
    let i = iw * ih
    let u = (p[2] - p[0]) * (p[3] - p[1]) + (t[2] - t[0]) * (t[3] - t[1]) - i + 1e-7
    let e = max(0, max(p[2], t[2]) - min(p[0], t[0])) * max(0, max(p[3], t[3]) - min(p[1], t[1])) + 1e-7
    return (i, u, e)
}

/// A deterministic generator for test inputs.
public struct TestRandom {
    public var state: UInt64
    public init(_ seed: UInt64) { state = seed }
    public mutating func next() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * next() }
}

/// The directory of the examples, found from this source file's path.
public let examplesDirectory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("examples")

public func example(_ name: String) throws -> String {
    try String(contentsOf: examplesDirectory.appendingPathComponent(name), encoding: .utf8)
}

/// Whether an example file declares a ranking loss (those are parsed with RankingFormula).
public func isRankingExample(_ name: String) -> Bool {
    guard let text = try? example(name) else { return false }
    return RankingFormula.isRanking(SourceFile(path: name, text: text)) == true
}
