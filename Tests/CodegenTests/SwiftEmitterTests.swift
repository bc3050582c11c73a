import Foundation
import Testing
@testable import Codegen
import LossDSL

/// `--target swift`: every example (and a loss with hostile param names) emitted as Swift,
/// compiled by `swiftc` in Swift 6 mode with warnings as errors together with a driver that
/// prints each kernel's outputs, and compared with the reference evaluator.
struct SwiftEmitterTests {
    static let swiftc: SystemCompiler? = SystemCompiler.named("swiftc")

    static func losses() throws -> [(loss: CompiledLoss, name: String)] {
        var all = EmittedExampleTests.examples.map { ($0.loss, "ex_" + $0.name) }
        let hostile = "loss h: binary\nparam in = 2\nparam self = 0.5\nparam int = 1\nreturn in * softplus(self * x) - int * y\n"
        all.append((CompiledLoss.compile(try Formula.parse(hostile)), "func"))
        // Names the emitted file itself uses: a loss `Float`, params `Double`, `expf`, `t3`.
        let shadow = "loss s: binary\nparam Double = 2\nparam expf = 0.5\nparam t3 = 1\nreturn Double * softplus(expf * x) - t3 * y\n"
        all.append((CompiledLoss.compile(try Formula.parse(shadow)), "Float"))
        return all
    }

    static func batch<T: LossReal>(_ kind: LossKind, as: T.Type) -> CBatch<T> {
        kind == .multiclass ? TestInputs.batch(kind, n: 3, classes: 9, seed: 11, as: T.self)
            : TestInputs.batch(kind, n: 24, seed: 12, as: T.self)
    }

    /// Swift source for a literal array.
    static func literal<T: LossReal>(_ a: [T]) -> String {
        "[" + a.map { T.self == Float.self ? "Float(bitPattern: \(Float(Double($0)).bitPattern))" : "Double(bitPattern: \(Double($0).bitPattern))" }
            .joined(separator: ", ") + "] as [\(T.self)]"
    }

    /// main.swift: for each loss and precision, one line `name prec sum; losses; gradients` (bit patterns).
    static func driver(_ losses: [(loss: CompiledLoss, name: String)]) -> String {
        var s = "func show<T: BinaryFloatingPoint>(_ a: [T]) -> String { a.map { \"\\(Double($0).bitPattern)\" }.joined(separator: \",\") }\n"
        for (loss, name) in losses {
            let type = SwiftHelpers.identifier(name)
            for (p, t) in [("f32", "Float"), ("f64", "Double")] {
                func arrays<T: LossReal>(_: T.Type) -> String {
                    let b = batch(loss.kind, as: T.self)
                    var code = "do {\n"
                    for (i, a) in b.arrays.enumerated() { code += "    let a\(i) = \(literal(a))\n" }
                    code += "    var l = [\(t)](repeating: 0, count: \(b.n)), g = [\(t)](repeating: 0, count: \(b.n * b.gradientWidth(loss.kind)))\n"
                    let ins = loss.kind == .box ? "pred: a0, target: a1" : "x: a0, y: a1, w: a2"
                    let cls = loss.kind == .multiclass ? "classes: \(b.classes), " : ""
                    let grad = loss.kind == .box ? "dPred" : "dX"
                    code += "    let s = \(type).\(p)(n: \(b.n), \(cls)\(ins), loss: &l, \(grad): &g)\n"
                    code += "    print(\"\(name) \(p) \\(s.bitPattern);\\(show(l));\\(show(g))\")\n}\n"
                    return code
                }
                s += p == "f32" ? arrays(Float.self) : arrays(Double.self)
            }
        }
        return s
    }

    @Test func emittedSwiftMatchesTheReference() throws {
        guard let swiftc = Self.swiftc else { return CHarness.skip("swiftc not on PATH") }
        let losses = try Self.losses()
        let dir = try CHarness.temporaryDirectory("swift")
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [String] = []
        for (loss, name) in losses {
            let path = dir.appendingPathComponent("\(files.count).swift").path
            try SwiftEmitter.emit(loss, name: name).write(toFile: path, atomically: true, encoding: .utf8)
            files.append(path)
        }
        let main = dir.appendingPathComponent("main.swift").path
        try Self.driver(losses).write(toFile: main, atomically: true, encoding: .utf8)
        let exe = dir.appendingPathComponent("driver").path
        let build = swiftc.run(["-swift-version", "6", "-warnings-as-errors", "-Onone", "-o", exe, main] + files)
        try #require(build.succeeded, "swiftc failed:\n\(build.text.prefix(4000))")
        let out = SystemCompiler(path: exe).run([])
        try #require(out.succeeded, "\(out.text.prefix(2000))")
        var lines: [String: String] = [:]
        for line in out.text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2)
            if parts.count == 3 { lines["\(parts[0]) \(parts[1])"] = String(parts[2]) }
        }
        for (loss, name) in losses {
            for p in ["f32", "f64"] {
                let line = try #require(lines["\(name) \(p)"], "no output for \(name) \(p)")
                let fields = line.split(separator: ";", omittingEmptySubsequences: false).map {
                    $0.split(separator: ",").compactMap { UInt64($0) }.map(Double.init(bitPattern:))
                }
                let sum = fields[0][0]
                if p == "f32" {
                    let b = Self.batch(loss.kind, as: Float.self)
                    let o = KernelOutput<Float>(sum: sum, loss: fields[1].map { Float($0) }, gradient: fields[2].map { Float($0) })
                    let bad = Oracle(loss).mismatches(o, b)
                    #expect(bad.isEmpty, "\(name) f32: \(bad.prefix(4))")
                } else {
                    let b = Self.batch(loss.kind, as: Double.self)
                    let o = KernelOutput<Double>(sum: sum, loss: fields[1], gradient: fields[2])
                    let bad = Oracle(loss).mismatches(o, b)
                    #expect(bad.isEmpty, "\(name) f64: \(bad.prefix(4))")
                }
            }
        }
    }
}
